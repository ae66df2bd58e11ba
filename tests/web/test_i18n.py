"""English and Dutch from day one: every user-facing string has a Dutch translation."""

from __future__ import annotations

import datetime as dt
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
import time_machine
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext_noop

from leadloop import i18n
from leadloop.core import labels
from leadloop.intake import services as intake
from tests.factories.assessment import make_block_entry
from tests.factories.leads import make_lead, make_source


def test_every_user_facing_string_has_a_dutch_translation():
    assert i18n.missing("nl") == []


def test_a_page_in_dutch_shows_dutch_labels(logged_in_client, admin, source):
    lead = make_lead(source, first_name="Ann")
    client = logged_in_client(admin)
    client.cookies["django_language"] = "nl"

    detail = client.get(reverse("leads:lead-detail", args=[lead.pk]))
    listing = client.get(reverse("leads:lead-list"))

    assert '<html lang="nl"' in detail.text
    assert ">Tijdlijn</h2>" in detail.text
    assert ">Vastleggen</button>" in detail.text
    assert '<span class="badge badge--nurturing">In nurturing</span>' in detail.text
    assert "1 lead</h2>" in listing.text
    assert " Nieuwe lead</a>" in listing.text


def test_dutch_plural_counts(logged_in_client, admin, source):
    make_lead(source)
    make_lead(source)
    client = logged_in_client(admin)
    client.cookies["django_language"] = "nl"

    response = client.get(reverse("leads:lead-list"))

    assert "2 leads</h2>" in response.text


# --- Strings built at run time ---------------------------------------------------------------
# Findings, reasons, breakdowns and timeline actors are stored as stable English values and
# codes and translated when a page shows them (leadloop.core.labels, assessment.findings.render,
# intake.outcome.reason_text). These tests fail when a new stored value has no Dutch.

# Words that only reach a Dutch page when a stored English value is printed as it is.
TELLTALE = re.compile(
    r"\b(system|Nurturing|grade|sla|business|free|disposable|role|line_type|fixed_line\w*"
    r"|landline|mobile|predicted|engagement|comma-separated|same e-mail|looks like|Appended"
    r"|phone number data|email_domain|is one of|E-mail opened|fraud score|Sales-ready)\b"
)
# A decimal point: 0.70 where Dutch writes 0,70 (an IP address or a version has more dots,
# and a Dutch amount 7.098,00 is followed by its comma).
DECIMAL_POINT = re.compile(r"(?<![\d.])\d+\.\d+(?![\d.,])")
DEMO_NOW = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


class _Text(HTMLParser):
    """The text a person reads on a page: no scripts, styles or attribute values."""

    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._skip += tag in {"script", "style", "textarea"}

    def handle_endtag(self, tag: str) -> None:
        self._skip -= tag in {"script", "style", "textarea"}

    def handle_data(self, data: str) -> None:
        if not self._skip and data.strip():
            self.lines.append(" ".join(data.split()))


def _visible_text(html: str) -> list[str]:
    parser = _Text()
    parser.feed(html)
    return parser.lines


def _demo_user_content() -> set[str]:
    """Text people typed in the demo (notes, lost reasons, consent wording, names): shown as
    written, in whatever language it was written."""
    from leadloop.leads.models import Activity, Lead, LostReason

    typed = set(LostReason.objects.values_list("name", flat=True))
    typed |= {m for m in Activity.objects.values_list("message", flat=True) if m}
    for lead in Lead.objects.all():
        typed |= {str(v) for v in (lead.extra or {}).values()}
        typed |= {lead.job_title, lead.company_name}
    return {" ".join(t.split()) for t in typed if t}


def _english_leftovers(pages: dict[str, str]) -> list[str]:
    typed = _demo_user_content()
    found = []
    for url, html in pages.items():
        for line in _visible_text(html):
            if any(t in line for t in typed if len(t) > 3):
                continue
            if TELLTALE.search(line) or DECIMAL_POINT.search(line):
                found.append(f"{url}: {line[:160]}")
    return sorted(set(found))


@pytest.fixture
def assessed_demo(db):
    """The demo data set, every lead assessed as the worker would, plus a rejected post."""
    from leadloop.assessment.pending import assess_pending
    from leadloop.demo.dataset import load_demo

    with time_machine.travel(DEMO_NOW, tick=False):
        load_demo(leads=60, seed=3, now=DEMO_NOW)
        while assess_pending():
            pass
    make_block_entry(kind="email_domain", value="spammer.nl")
    source = make_source("Web NL", country="NL")
    submission = intake.receive(
        source=source,
        channel="http",
        body=json.dumps({"first_name": "Piet", "email": "piet@spammer.nl"}).encode(),
        content_type="application/json",
        meta={},
    )
    intake.process_submission(submission.pk)


def test_a_fully_assessed_demo_shows_no_english_and_no_decimal_points_in_dutch(
    assessed_demo, logged_in_client
):
    from leadloop.accounts.models import User
    from leadloop.intake.models import RawSubmission
    from leadloop.leads.models import Lead

    client = logged_in_client(User.objects.get(username="admin"))
    client.cookies["django_language"] = "nl"
    urls = [reverse("leads:lead-list"), reverse("assessment:review-list")]
    urls += [reverse("intake:submission-list")]
    urls += [
        reverse("leads:lead-detail", args=[pk]) for pk in Lead.objects.values_list("pk", flat=True)
    ]
    urls += [
        reverse("intake:submission-detail", args=[pk])
        for pk in RawSubmission.objects.exclude(reasons=[]).values_list("pk", flat=True)
    ]

    pages = {url: client.get(url).content.decode() for url in urls}

    assert _english_leftovers(pages) == []
    detail = "".join(pages.values())
    assert "door het systeem" in detail
    assert "E-maildomein spammer.nl is geblokkeerd." in detail or "spammer.nl" in detail


def test_every_stored_value_has_a_label():
    """Each value the pipeline stores and a page shows is listed in leadloop.core.labels."""
    from leadloop.accounts.actors import CLI, SYSTEM
    from leadloop.assessment.enrichment import phone as enrichment_phone
    from leadloop.assessment.models import GradingField, Operator
    from leadloop.assessment.stages.verify import _PHONE_TYPES

    assert {SYSTEM.label, CLI.label} <= set(labels.ACTORS)
    assert set(enrichment_phone.LINE_TYPES.values()) <= set(labels.LINE_TYPES)
    assert set(_PHONE_TYPES.values()) | {"unknown type"} <= set(labels.LINE_TYPES)
    assert {"business", "free", "disposable", "role"} == set(labels.EMAIL_KINDS)
    with translation.override("en"):
        assert {str(op.label) for op in Operator} == set(labels.OPERATORS)
    fields = {f.value.replace("_", " ") for f in GradingField if f != GradingField.EXTRA}
    assert fields == set(labels.GRADING_FIELDS)


def test_every_priority_part_has_a_label(source):
    """priority_of names its parts; each one must have a label, including the rare ones."""
    from leadloop.assessment.priority import priority_of

    lead = make_lead(source)
    lead.predictive_score = 0.5
    lead.first_contact_due_at = DEMO_NOW
    lead.potential_revenue = 1000
    lead.fraud_score = 10
    lead.hold = "fraud"
    lead.engagement_score = 10

    _total, parts = priority_of(lead, now=DEMO_NOW)

    assert set(parts) | {"grade"} <= set(labels.PRIORITY_PARTS)
    assert len(parts) == 7


def test_every_duplicate_reason_has_a_label():
    """The matcher's reasons are fixed English phrases in its source: each one is listed."""
    from leadloop.assessment.dedup import matching

    folder = Path(matching.__file__).parent
    phrases = set()
    for path in folder.glob("*.py"):
        phrases |= set(re.findall(r'return [^,\n]+, "([a-z][a-z ()+0-9-]+)"', path.read_text()))
        phrases |= set(re.findall(r'\(_contact\([^)]*\), "([^"]+)"\)', path.read_text()))

    assert phrases
    assert phrases <= set(labels.MATCH_REASONS)


def test_labels_and_run_time_messages_are_dutch_in_dutch():
    with translation.override("nl"):
        shown = {
            group: {value: labels.label(group, value) for value in values}
            for group, values in labels.GROUPS.items()
        }
        reasons = labels.match_reasons("same e-mail, name 0.59 (nickname) + same city")
        number = labels.decimal(0.6707, 3)

    same_in_dutch = {"VoIP", "pager", "voicemail", "is", "website"}
    untranslated = [
        f"{group}:{value}"
        for group, values in shown.items()
        for value, text in values.items()
        if text == value and value not in same_in_dutch
    ]
    assert untranslated == []
    assert reasons == "zelfde e-mail, naam 0,59 (roepnaam) + zelfde plaats"
    assert number == "0,671"


def test_an_intake_reason_is_shown_in_the_readers_language():
    from leadloop.intake.outcome import reason, reason_text

    stored = reason("repeat", gettext_noop("Same lead as submission %(id)d."), id=7)
    old_row = {"code": "empty", "message": "No lead found in it."}

    with translation.override("nl"):
        assert reason_text(stored) == "Dezelfde lead als inzending 7."
        assert reason_text(old_row) == "Er staat geen lead in."
    assert stored["message"] == "Same lead as submission 7."
