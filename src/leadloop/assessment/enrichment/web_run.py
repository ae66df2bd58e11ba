"""HTTP providers: what their answers append to a stored lead, and a preview for the
configuration page."""

from __future__ import annotations

import datetime as dt
import logging
import math
import re
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from leadloop.accounts.actors import SYSTEM, Actor
from leadloop.accounts.permissions import Permission, require
from leadloop.assessment.enrichment.base import STAGE
from leadloop.assessment.enrichment.web_call import EnrichmentFailure, build_request, fetch
from leadloop.assessment.enrichment.web_config import _is_target
from leadloop.assessment.findings import finding
from leadloop.assessment.models import EnrichmentProvider
from leadloop.leads import services as leads_services
from leadloop.leads.models import ActivityKind, Lead
from leadloop.leads.normalize import InvalidValue, normalize_country

logger = logging.getLogger(__name__)

MAX_TEXT = 1000


@dataclass
class Outcome:
    """What one provider did for one lead."""

    provider: str
    request: dict[str, str] = field(default_factory=dict)
    values: dict[str, Any] = field(default_factory=dict)  # target → value from the answer
    filled: dict[str, dict[str, Any]] = field(default_factory=dict)  # target → old, new
    problems: list[str] = field(default_factory=list)  # answer values that were not usable
    from_cache: bool = False
    skipped: str = ""
    error: str = ""
    retryable: bool = False


@dataclass
class EnrichmentRun:
    lead_id: int
    outcomes: list[Outcome] = field(default_factory=list)

    @property
    def should_retry(self) -> bool:
        return any(o.retryable for o in self.outcomes)


def dig(answer: Any, path: str) -> Any:
    """The value at a dotted path ("data.person.title", "results.0.name"); None when absent."""
    node = answer
    for step in path.split("."):
        if isinstance(node, dict):
            node = node.get(step)
        elif isinstance(node, list) and step.isdigit() and int(step) < len(node):
            node = node[int(step)]
        else:
            return None
    return node


def _field_limit(name: str) -> int:
    return int(getattr(Lead._meta.get_field(name), "max_length", None) or MAX_TEXT)


def usable_value(target: str, value: Any) -> Any:
    """The answer's value as the target field stores it; InvalidValue when it cannot be."""
    if value is None or value == "":
        return None
    if isinstance(value, float) and not math.isfinite(value):
        raise InvalidValue(_("not a finite number"))
    if target.startswith("extra."):
        if isinstance(value, str):
            return value.strip()[:MAX_TEXT]
        if isinstance(value, (bool, int, float)):
            return value
        raise InvalidValue(_("a list or object, not a single value"))
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise InvalidValue(_("not text"))
    text = leads_services.clean_text(str(value))
    if target == "country":
        return normalize_country(text)
    if target == "language":
        text = text.lower()
        if not re.fullmatch(r"[a-z]{2,3}(-[a-z0-9]{2,4})?", text):
            raise InvalidValue(_("not a language code"))
        return text
    limit = _field_limit(target)
    if len(text) > limit:
        raise InvalidValue(_("longer than %(n)d characters") % {"n": limit})
    return text


def extract(provider: EnrichmentProvider, answer: Any) -> tuple[dict[str, Any], list[str]]:
    """The answer's mapped values by target field, and why others were left out."""
    values: dict[str, Any] = {}
    problems: list[str] = []
    for path, target in (provider.response_fields or {}).items():
        if not (isinstance(path, str) and _is_target(target)):
            continue
        try:
            value = usable_value(target, dig(answer, path))
        except InvalidValue as exc:
            problems.append(f"{path}: {exc}")
            continue
        if value is not None:
            values[target] = value
    return values, problems


def current_value(lead: Lead, target: str) -> Any:
    """The lead's value of an HTTP provider's target field (`extra.<name>` included)."""
    if target.startswith("extra."):
        return (lead.extra or {}).get(target[6:])
    return getattr(lead, target)


def _run_provider(provider: EnrichmentProvider, lead: Lead, *, now: dt.datetime) -> Outcome:
    outcome = Outcome(provider=provider.name, request=build_request(provider, lead))
    if not outcome.request:
        outcome.skipped = _("The lead has none of the fields this provider needs.")
        return outcome
    try:
        answer, outcome.from_cache = fetch(provider, outcome.request, now=now)
    except EnrichmentFailure as exc:
        outcome.error, outcome.retryable = exc.message, exc.retryable
        return outcome
    outcome.values, outcome.problems = extract(provider, answer)
    return outcome


def preview_enrichment(provider: EnrichmentProvider, lead: Lead, *, by: Actor) -> Outcome:
    """What `provider` would append to `lead`, without changing the lead (the answer is cached
    like any other). The caller has resolved the lead through `get_lead_for`."""
    require(by, Permission.CONFIGURE_ENRICHMENT)
    outcome = _run_provider(provider, lead, now=timezone.now())
    for target, value in outcome.values.items():
        old = current_value(lead, target)
        if old != value and (old in ("", None) or not provider.only_fill_empty):
            outcome.filled[target] = {"old": old, "new": value}
    return outcome


def enrich_stored_lead(lead_id: int, *, by: Actor = SYSTEM) -> EnrichmentRun:
    """Ask every active HTTP provider about a stored lead and append what they answer.

    No lock or transaction is held during a call. Each provider's values are then written in
    one short transaction on the locked, re-read lead (only empty fields unless the provider
    says otherwise), recorded in `assessment["appended"]`, with one timeline entry naming the
    provider. A failure is recorded on the lead; a time-out or 5xx makes `should_retry` true.
    Safe to run twice: values already there are not written again.
    """
    run = EnrichmentRun(lead_id=lead_id)
    lead = Lead.objects.filter(pk=lead_id, merged_into__isnull=True).first()
    if lead is None:
        return run
    for provider in EnrichmentProvider.objects.filter(is_active=True).order_by("name", "pk"):
        now = timezone.now()
        outcome = _run_provider(provider, lead, now=now)
        run.outcomes.append(outcome)
        if outcome.skipped:
            continue
        _write_outcome(lead_id, provider, outcome, now=now, by=by)
    return run


@transaction.atomic
def _write_outcome(
    lead_id: int, provider: EnrichmentProvider, outcome: Outcome, *, now: dt.datetime, by: Actor
) -> None:
    locked = Lead.objects.select_for_update().filter(pk=lead_id).first()
    if locked is None:
        return
    assessment = dict(locked.assessment or {})
    before = list(assessment.get("errors") or [])
    errors = [e for e in before if not (isinstance(e, dict) and e.get("provider") == provider.name)]
    if outcome.error:
        errors.append({"stage": STAGE, "provider": provider.name, "error": outcome.error[:300]})
        assessment["errors"] = errors
        leads_services.apply_changes(locked, {"assessment": assessment}, by=by, touch=False)
        logger.info("enrichment failed provider=%s lead=%s", provider.name, lead_id)
        return
    assessment["errors"] = errors
    appended = dict(assessment.get("appended") or {})
    extra = dict(locked.extra or {})
    columns: dict[str, Any] = {}
    for target, value in outcome.values.items():
        old = current_value(locked, target)
        if old == value or (provider.only_fill_empty and old not in ("", None)):
            continue
        if target.startswith("extra."):
            extra[target[6:]] = value
        else:
            columns[target] = value
        outcome.filled[target] = {"old": old, "new": value}
        appended[target] = {"value": value, "provider": provider.name, "at": now.isoformat()}
    if not outcome.filled:
        if errors != before:  # an earlier failure of this provider is over
            leads_services.apply_changes(locked, {"assessment": assessment}, by=by, touch=False)
        return
    assessment["appended"] = appended
    found = finding(
        STAGE,
        "http_appended",
        gettext_noop("%(provider)s appended %(fields)s"),
        provider=provider.name,
        fields=", ".join(outcome.filled),
    )
    assessment["findings"] = [*(assessment.get("findings") or []), found.as_dict()]
    leads_services.apply_changes(
        locked,
        {**columns, "extra": extra, "assessment": assessment},
        by=by,
        at=now,
        activity=ActivityKind.FIELD_CHANGED,
        message=", ".join(outcome.filled),
        data={
            "provider": provider.name,
            "enrichment": True,
            "changes": [
                {"field": target, "old": change["old"], "new": change["new"]}
                for target, change in outcome.filled.items()
            ],
        },
    )
