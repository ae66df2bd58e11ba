"""A person's follow-up data in their export, and gone after their erasure: the e-mail a rep sent
them, and what reps wrote about them in tasks and quotes. Amounts and dates stay."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from leadloop.privacy import services as privacy
from leadloop.privacy.selectors import PersonQuery
from leadloop.sales.models import OutgoingEmail, Quote, Task
from leadloop.sales.services import contact, quotes, steps
from tests.privacy.conftest import PERSON, person, web  # noqa: F401 (fixtures)
from tests.privacy.test_erasure import _rows_mentioning

pytestmark = pytest.mark.django_db


@pytest.fixture
def followed_up(person, admin, settings):  # noqa: F811
    settings.LEADLOOP_SMTP = {**settings.LEADLOOP_SMTP, "host": "127.0.0.1"}
    lead = person.lead
    contact.send_email(
        lead, by=admin, subject="Your garden, Zoraida", body="Dear Zoraida Quixwell, ..."
    )
    quotes.add_quote(lead, by=admin, amount="1250.00", title="Quixwell Tuinen greenhouse")
    steps.add_task(
        lead,
        by=admin,
        kind="call",
        due_at=timezone.now() + dt.timedelta(days=1),
        title="Call Zoraida about the greenhouse",
    )
    return person


def test_the_export_holds_the_follow_up(followed_up, admin):
    doc = privacy.export_person(PersonQuery(email=PERSON["email"]), by=admin)
    kinds = {row["kind"]: row for row in doc["follow_up"]}
    assert kinds["email_sent"]["to"] == PERSON["email"]
    assert kinds["quote"]["title"] == "Quixwell Tuinen greenhouse"
    assert kinds["task"]["title"] == "Call Zoraida about the greenhouse"


def test_erasure_blanks_the_follow_up_and_keeps_the_money(followed_up, admin):
    result = privacy.erase_person(PersonQuery(email=PERSON["email"]), by=admin, confirm="ERASE")

    assert result.counts["follow_up"] == 3
    sales_tables = {"sales_outgoingemail", "sales_quote", "sales_task"}
    assert {t for t, _c, _n in _rows_mentioning(("zoraida", "quixwell"))} & sales_tables == set()
    assert Quote.objects.get().amount == Decimal("1250.00")
    assert OutgoingEmail.objects.get().to == ""
    assert Task.objects.get().title == ""
