"""`market.reserve` (the check and the insert of a sale in one statement under the buyer's lock)
and the charge: each refusal and its reason, the caps' windows, credit, and on PostgreSQL the
lock and the charge's commit each sent in one round trip."""

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from leadloop.accounts.actors import SYSTEM
from leadloop.distribution.selling.models import Buyer, LedgerEntry, Sale, SaleState
from leadloop.distribution.selling.services import buyers, market
from leadloop.distribution.selling.services.auction import sell_lead
from tests.distribution.conftest import ready_lead
from tests.distribution.selling.conftest import make_buyer

NOON = dt.datetime(2026, 3, 10, 12, tzinfo=dt.UTC)


def _reserve(buyer, lead, price="10", at=NOON):
    return market.reserve(buyer.pk, lead.pk, Decimal(price), auction_id=None, now=at)


@pytest.mark.django_db
def test_a_sale_is_written_while_the_buyer_has_room(source):
    buyer = make_buyer("Room", "http://127.0.0.1:9", funds="25", cap_day=2)
    first = _reserve(buyer, ready_lead(source, email="a@example.nl"))
    assert isinstance(first, Sale)
    stored = Sale.objects.get(pk=first.pk)
    assert (stored.state, stored.price, stored.currency, stored.key) == (
        SaleState.DELIVERING,
        Decimal("10.00"),
        "EUR",
        first.key,
    )
    assert first.buyer.name == "Room"


@pytest.mark.django_db
def test_each_refusal_says_why(source):
    lead = ready_lead(source, email="a@example.nl")
    capped = make_buyer("Capped", "http://127.0.0.1:9", cap_hour=1)
    assert isinstance(_reserve(capped, lead), Sale)
    other = ready_lead(source, email="b@example.nl")
    assert _reserve(capped, other) == "reached its cap for this hour"

    poor = make_buyer("Poor", "http://127.0.0.1:9", funds="15")
    assert isinstance(_reserve(poor, lead), Sale)  # 15 - 10 pending leaves 5
    assert _reserve(poor, other) == "out of funds"

    paused = make_buyer("Paused", "http://127.0.0.1:9")
    Buyer.objects.filter(pk=paused.pk).update(is_active=False)
    assert _reserve(paused, lead) == "paused"

    twice = make_buyer("Twice", "http://127.0.0.1:9")
    assert isinstance(_reserve(twice, lead), Sale)
    assert _reserve(twice, lead) == "has this lead already"
    assert Sale.objects.filter(buyer=twice).count() == 1


@pytest.mark.django_db
def test_a_cap_counts_its_own_window_and_a_standing_sale(source):
    buyer = make_buyer("Daily", "http://127.0.0.1:9", cap_day=1, cap_total=2)
    leads = [ready_lead(source, email=f"l{n}@example.nl") for n in range(4)]
    with time_machine.travel(NOON - dt.timedelta(days=1)):
        yesterday = _reserve(buyer, leads[0], at=NOON - dt.timedelta(days=1))
    assert isinstance(yesterday, Sale)
    # Yesterday's sale is not today's: room for one more today.
    today = _reserve(buyer, leads[1])
    assert isinstance(today, Sale)
    assert _reserve(buyer, leads[2]) == "reached its cap for today"
    # A rejected sale stands no more: its place is free again, today's and the total's.
    Sale.objects.filter(pk=today.pk).update(state=SaleState.REJECTED)
    assert isinstance(_reserve(buyer, leads[2]), Sale)
    tomorrow = NOON + dt.timedelta(days=1)
    assert _reserve(buyer, leads[3], at=tomorrow) == "reached its total cap"


@pytest.mark.django_db
def test_a_credit_buyer_buys_down_to_its_limit(source):
    buyer = make_buyer("On credit", "http://127.0.0.1:9", funds="0")
    Buyer.objects.filter(pk=buyer.pk).update(funding="credit", credit_limit=Decimal("15"))
    assert isinstance(_reserve(buyer, ready_lead(source, email="a@example.nl")), Sale)
    assert _reserve(buyer, ready_lead(source, email="b@example.nl")) == "out of funds"


@pytest.mark.django_db
def test_a_refusal_leaves_the_callers_transaction_usable(source):
    buyer = make_buyer("Twice", "http://127.0.0.1:9")
    lead = ready_lead(source, email="a@example.nl")
    with transaction.atomic():
        assert isinstance(_reserve(buyer, lead), Sale)
        assert _reserve(buyer, lead) == "has this lead already"  # the unique constraint
        assert Sale.objects.filter(buyer=buyer).count() == 1  # still usable after it


postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the one-round-trip paths are PostgreSQL's"
)


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_the_lock_and_the_charges_commit_each_go_in_one_round_trip(source, fake):
    url, _state = fake()
    buyer = make_buyer("Fixed", url, price="20", funds="100")
    lead = ready_lead(source, email="a@example.nl")

    with CaptureQueriesContext(connection) as ctx:
        result = sell_lead(lead.pk)

    assert result.is_sold
    sent = [q["sql"] for q in ctx.captured_queries]
    reserve = [q for q in sent if q.startswith("BEGIN; SELECT 1 FROM")]
    assert len(reserve) == 1
    assert reserve[0].endswith("; COMMIT")
    charge = [q for q in sent if q.startswith("WITH moved AS")]
    assert len(charge) == 1
    assert charge[0].endswith("; COMMIT")
    assert not connection.in_atomic_block
    entry = LedgerEntry.objects.get(buyer=buyer, kind="sale")
    assert (entry.amount, entry.balance_after) == (Decimal("-20.00"), Decimal("80.00"))
    assert Buyer.objects.get(pk=buyer.pk).balance == Decimal("80.00")


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_charge_inside_someone_elses_transaction_does_not_commit_it(source):
    buyer = make_buyer("Fixed", "http://127.0.0.1:9", funds="100")

    def charge_then_fail():
        with transaction.atomic():
            with transaction.atomic():
                buyers.add_entry(
                    buyer.pk, kind="sale", amount=Decimal("-20"), by=SYSTEM, commit=True
                )
            raise RuntimeError("the outer transaction fails after the charge")

    with pytest.raises(RuntimeError):
        charge_then_fail()

    assert Buyer.objects.get(pk=buyer.pk).balance == Decimal("100.00")
    assert not LedgerEntry.objects.filter(buyer=buyer, kind="sale").exists()
