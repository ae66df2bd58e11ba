"""Next steps keep the lead's next follow-up at the earliest open task; quotes keep its potential
revenue, probability and currency at the current quote; closing a lead tidies both."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone

from leadloop.errors import Conflict, NotAllowed, ValidationFailed
from leadloop.leads import services as lead_services
from leadloop.leads.models import Lead, LeadStatus, LostReason
from leadloop.sales.models import OPEN_TASK, Quote, QuoteState, Task, TaskKind
from leadloop.sales.services import quotes, steps
from tests.factories.leads import make_lead

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 11, 3, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def lead(source, rep):
    with time_machine.travel(NOW, tick=False):
        return make_lead(source, assigned_to=rep)


def _follow_up(lead):
    return Lead.objects.get(pk=lead.pk).next_follow_up_at


def test_the_next_follow_up_is_the_earliest_open_task(lead, rep):
    with time_machine.travel(NOW, tick=False):
        later = steps.add_task(lead, by=rep, kind="call", due_at=NOW + dt.timedelta(days=3))
        sooner = steps.add_task(lead, by=rep, kind="email", due_at=NOW + dt.timedelta(days=1))
        assert _follow_up(lead) == sooner.due_at
        steps.complete_task(sooner, by=rep, outcome="Sent the brochure")
        assert _follow_up(lead) == later.due_at
        steps.cancel_task(later, by=rep, reason="Not needed")
    assert _follow_up(lead) is None  # "no next step"


def test_a_snooze_keeps_its_reason_and_a_done_task_cannot_move(lead, rep):
    with time_machine.travel(NOW, tick=False):
        task = steps.add_task(lead, by=rep, kind="call", due_at=NOW + dt.timedelta(hours=2))
        with pytest.raises(ValidationFailed):
            steps.move_task(task, by=rep, due_at=NOW + dt.timedelta(days=1), reason="  ")
        moved = steps.move_task(
            task, by=rep, due_at=NOW + dt.timedelta(days=1), reason="At a fair", snooze=True
        )
        assert moved.snoozes == 1
        assert moved.history[-1]["reason"] == "At a fair"
        assert _follow_up(lead) == NOW + dt.timedelta(days=1)
        steps.complete_task(moved, by=rep)
        with pytest.raises(Conflict):
            steps.move_task(moved, by=rep, due_at=NOW, reason="again")


def test_a_repeating_task_comes_back_until_the_lead_closes(lead, rep):
    with time_machine.travel(NOW, tick=False):
        task = steps.add_task(lead, by=rep, kind="call", due_at=NOW, repeat_days=3)
        steps.complete_task(task, by=rep)
        again = Task.objects.filter(OPEN_TASK, lead=lead).get()
        assert again.due_at == NOW + dt.timedelta(days=3)
        lead_services.transition(lead, to=LeadStatus.DISQUALIFIED, by=rep)
        assert steps.tidy([lead.pk]) == 1
    assert not Task.objects.filter(OPEN_TASK, lead=lead).exists()
    assert _follow_up(lead) is None


def test_a_rep_cannot_give_a_task_to_someone_in_another_team(lead, rep, other_rep):
    with pytest.raises(NotAllowed):
        steps.add_task(lead, by=rep, kind="call", due_at=timezone.now(), owner=other_rep)


def test_a_closed_lead_needs_no_next_step(lead, rep):
    lead_services.transition(lead, to=LeadStatus.DISQUALIFIED, by=rep)
    with pytest.raises(Conflict):
        steps.add_task(lead, by=rep, kind=TaskKind.CALL, due_at=timezone.now())


@pytest.mark.parametrize(
    ("amount", "field_error"),
    [
        ("-5", "Not above zero."),
        ("0", "Not above zero."),
        ("1000000000.01", "At most 1,000,000,000."),
        ("12.345", "Two decimals at most."),
        ("lots", "Not a number."),
        ("NaN", "Not a number."),
        ("Infinity", "Not a number."),
    ],
)
def test_a_negative_or_absurd_amount_is_refused_with_a_clear_message(
    lead, rep, amount, field_error
):
    with pytest.raises(ValidationFailed) as refused:
        quotes.add_quote(lead, by=rep, amount=amount)
    assert refused.value.errors == {"amount": [field_error]}
    assert not Quote.objects.exists()


def test_an_unknown_currency_is_refused(lead, rep):
    with pytest.raises(ValidationFailed) as refused:
        quotes.add_quote(lead, by=rep, amount="100", currency="XYZ")
    assert "currency" in refused.value.errors


def test_the_lead_follows_its_current_quote_in_its_own_currency(lead, rep):
    first = quotes.add_quote(lead, by=rep, amount="1000", currency="EUR", probability=40)
    second = quotes.add_quote(lead, by=rep, amount="2500.50", currency="usd")

    lead.refresh_from_db()
    assert (lead.potential_revenue, lead.probability, lead.currency) == (
        Decimal("2500.50"),
        10,  # the stage's default: the lead is only assigned
        "USD",
    )
    assert second.weighted == Decimal("250.05")
    quotes.make_current(first, by=rep)
    lead.refresh_from_db()
    assert (lead.potential_revenue, lead.probability, lead.currency) == (
        Decimal("1000.00"),
        40,
        "EUR",
    )
    assert list(Quote.objects.filter(is_current=True).values_list("pk", flat=True)) == [first.pk]


def test_sending_a_quote_moves_the_lead_to_quoted_and_plans_the_chase(lead, rep):
    quote = quotes.add_quote(lead, by=rep, amount="900", send=True)

    lead.refresh_from_db()
    assert lead.status == LeadStatus.QUOTED
    assert Quote.objects.get(pk=quote.pk).state == QuoteState.SENT
    chase = Task.objects.get(lead=lead)
    assert (chase.repeat_days, chase.quote_id) == (3, quote.pk)


def test_won_takes_the_current_quote_and_lost_names_the_competitor(source, rep, lead):
    quotes.add_quote(lead, by=rep, amount="900", send=True)
    won = quotes.win(lead, by=rep, won_on=dt.date(2026, 11, 20))
    assert (won.status, won.order_value) == (LeadStatus.WON, Decimal("900.00"))
    assert Quote.objects.get(lead=lead).state == QuoteState.ACCEPTED
    assert not Task.objects.filter(OPEN_TASK, lead=lead).exists()

    other = make_lead(source, assigned_to=rep)
    quotes.add_quote(other, by=rep, amount="400", send=True)
    with pytest.raises(ValidationFailed):
        quotes.lose(other, by=rep, lost_reason=None)
    reason = LostReason.objects.get(name="Price")
    lost = quotes.lose(other, by=rep, lost_reason=reason, competitor="SunCo")
    assert (lost.status, lost.competitor) == (LeadStatus.LOST, "SunCo")
    assert Quote.objects.get(lead=other).state == QuoteState.DECLINED
