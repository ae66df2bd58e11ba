"""Words that code stores as plain values and the pages show: translated when they are shown.

The pipeline stores stable English values (a line type `fixed_line_or_mobile`, an e-mail kind
`free`, a priority part `sla`, the actor `system`), so that stored data reads the same in every
language and old rows stay readable. A page never prints such a value as it is: it asks
`label(group, value)`, which gives the value's label in the active language and falls back to the
value itself for something not listed (a carrier's name, a time zone).

Every group is listed in `GROUPS`; tests/web/test_i18n.py asserts each label has a Dutch
translation and renders a lead with every kind in Dutch, so a new stored word without a label
fails there.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.utils.formats import date_format, number_format
from django.utils.functional import Promise
from django.utils.translation import gettext, gettext_lazy, pgettext_lazy

# Who wrote a timeline entry when it was not a person: `SystemActor.label`.
ACTORS: dict[str, Promise] = {
    "system": gettext_lazy("the system"),
    "cli": gettext_lazy("the command line"),
}

# The parts a lead's priority is made of (assessment.priority.priority_of).
PRIORITY_PARTS: dict[str, Promise] = {
    "grade": gettext_lazy("fit grade"),
    "engagement": gettext_lazy("engagement"),
    "predicted": gettext_lazy("predicted chance"),
    "sla": gettext_lazy("contact deadline"),
    "value": gettext_lazy("potential value"),
    "fraud": gettext_lazy("fraud"),
    "hold": gettext_lazy("on hold"),
}

# Keys appended to a lead by enrichment providers (assessment.enrichment).
APPENDED_FIELDS: dict[str, Promise] = {
    "company_domain": gettext_lazy("company domain"),
    "line_type": gettext_lazy("line type"),
    "time_zone": gettext_lazy("time zone"),
    "carrier": gettext_lazy("carrier"),
    "company": gettext_lazy("company"),
    "country": gettext_lazy("country"),
    "city": gettext_lazy("city"),
    "industry": gettext_lazy("industry"),
    "employees": gettext_lazy("employees"),
    "website": gettext_lazy("website"),
}

# The offline providers that ship with Leadloop (a configured one shows its own name).
PROVIDERS: dict[str, Promise] = {
    "phone": gettext_lazy("phone number data"),
    "email_domain": gettext_lazy("e-mail domain"),
}

# Telephone line types, as enrichment (phone.py) and verification (verify.py) store them.
LINE_TYPES: dict[str, Promise] = {
    "mobile": pgettext_lazy("phone line", "mobile"),
    "fixed_line": pgettext_lazy("phone line", "landline"),
    "landline": pgettext_lazy("phone line", "landline"),
    "fixed_line_or_mobile": pgettext_lazy("phone line", "landline or mobile"),
    "landline or mobile": pgettext_lazy("phone line", "landline or mobile"),
    "voip": pgettext_lazy("phone line", "VoIP"),
    "VoIP": pgettext_lazy("phone line", "VoIP"),
    "toll_free": pgettext_lazy("phone line", "toll-free"),
    "toll-free": pgettext_lazy("phone line", "toll-free"),
    "premium_rate": pgettext_lazy("phone line", "premium-rate"),
    "premium-rate": pgettext_lazy("phone line", "premium-rate"),
    "pager": pgettext_lazy("phone line", "pager"),
    "voicemail": pgettext_lazy("phone line", "voicemail"),
    "personal_number": pgettext_lazy("phone line", "personal"),
    "personal": pgettext_lazy("phone line", "personal"),
    "shared_cost": pgettext_lazy("phone line", "shared-cost"),
    "shared-cost": pgettext_lazy("phone line", "shared-cost"),
    "uan": pgettext_lazy("phone line", "company (UAN)"),
    "company (UAN)": pgettext_lazy("phone line", "company (UAN)"),
    "unknown": pgettext_lazy("phone line", "unknown type"),
    "unknown type": pgettext_lazy("phone line", "unknown type"),
}

# What kind of address an e-mail is (assessment.emails; the scoring rule field `email_kind`).
EMAIL_KINDS: dict[str, Promise] = {
    "business": pgettext_lazy("e-mail kind", "business"),
    "free": pgettext_lazy("e-mail kind", "free"),
    "disposable": pgettext_lazy("e-mail kind", "disposable"),
    "role": pgettext_lazy("e-mail kind", "role address"),
}

# The reasons the duplicate matcher gives (assessment.dedup.matching), joined by ", " and " + ";
# "name 0.93 (nickname)" is rendered by `match_reasons`.
MATCH_REASONS: dict[str, Promise] = {
    "same e-mail": gettext_lazy("same e-mail"),
    "same e-mail name": gettext_lazy("same e-mail name"),
    "same e-mail (ignoring dots and +tags)": gettext_lazy("same e-mail (ignoring dots and +tags)"),
    "same phone": gettext_lazy("same phone"),
    "same phone (last 9 digits)": gettext_lazy("same phone (last 9 digits)"),
    "same postal code and house number": gettext_lazy("same postal code and house number"),
    "same postal code": gettext_lazy("same postal code"),
    "same address": gettext_lazy("same address"),
    "same organisation": gettext_lazy("same organisation"),
    "same company": gettext_lazy("same company"),
    "same street": gettext_lazy("same street"),
    "same city": gettext_lazy("same city"),
    "names swapped": gettext_lazy("names swapped"),
    "nickname": gettext_lazy("nickname"),
    "initial": gettext_lazy("initial"),
}
_NAME_REASON = re.compile(r"^name (?P<score>\d+(?:\.\d+)?)(?: \((?P<note>[^)]*)\))?$")

# A grading rule as a fit finding names it: the field (its name with spaces) and the operator
# (its English label, as stored by assessment.stages.score).
GRADING_FIELDS: dict[str, Promise] = {
    "country": gettext_lazy("country"),
    "employees": gettext_lazy("employees"),
    "industry": gettext_lazy("industry"),
    "job title": gettext_lazy("job title"),
    "source": gettext_lazy("source"),
    "company name": gettext_lazy("company name"),
    "email kind": gettext_lazy("e-mail kind"),
}
OPERATORS: dict[str, Promise] = {
    "is": gettext_lazy("is"),
    "is one of (comma-separated)": gettext_lazy("is one of"),
    "contains": gettext_lazy("contains"),
    "is at least": gettext_lazy("is at least"),
    "is at most": gettext_lazy("is at most"),
    "is filled in": gettext_lazy("is filled in"),
    "is empty": gettext_lazy("is empty"),
}

GROUPS: dict[str, dict[str, Promise]] = {
    "actor": ACTORS,
    "priority": PRIORITY_PARTS,
    "appended": APPENDED_FIELDS,
    "provider": PROVIDERS,
    "line_type": LINE_TYPES,
    "email_kind": EMAIL_KINDS,
    "match_reason": MATCH_REASONS,
    "grading_field": GRADING_FIELDS,
    "operator": OPERATORS,
}


def label(group: str, value: Any) -> str:
    """`value`'s label in the active language, or the value itself when it has none."""
    found = GROUPS[group].get(str(value))
    return str(found) if found is not None else str(value)


def labels(group: str, values: str, sep: str = ",") -> str:
    """Each value of a `sep`-separated list by its label, joined with ", "."""
    return ", ".join(label(group, part.strip()) for part in values.split(sep) if part.strip())


def match_reasons(text: str) -> str:
    """The duplicate matcher's reasons ("same e-mail, name 0.59 (nickname) + same city") with
    every part in the active language and every score in its decimal notation."""
    shown = []
    for reason in text.split(", "):
        parts = []
        for part in reason.split(" + "):
            named = _NAME_REASON.match(part)
            if named is None:
                parts.append(label("match_reason", part))
                continue
            note = named["note"]
            name = gettext("name %(score)s") % {"score": decimal(named["score"])}
            parts.append(f"{name} ({label('match_reason', note)})" if note else name)
        shown.append(" + ".join(parts))
    return ", ".join(shown)


def stored_message(text: str) -> str:
    """A message the pipeline stored in English (a marked message id without placeholders, such
    as a readiness summary) in the active language; any other text is returned as it is."""
    return gettext(text) if text else text


def decimal(value: Any, places: int = 2) -> str:
    """A number with `places` decimals in the active language's notation (0,70 in Dutch)."""
    # Rounded here: number_format cuts a float's extra decimals off (0.6707 would be 0.670).
    try:
        rounded = Decimal(str(value)).quantize(Decimal(1).scaleb(-places), ROUND_HALF_UP)
    except (InvalidOperation, ValueError):
        return str(value)
    return number_format(rounded, places, use_l10n=True)


def when(value: Any) -> str:
    """A stored ISO time (or a datetime) as the pages show times, in the user's zone."""
    import datetime as dt

    from django.utils import timezone

    moment = value
    if isinstance(value, str):
        try:
            moment = dt.datetime.fromisoformat(value)
        except ValueError:
            return value
    if not isinstance(moment, dt.datetime):
        return str(value)
    if timezone.is_aware(moment):
        moment = timezone.localtime(moment)
    return date_format(moment, "j M Y, H:i")
