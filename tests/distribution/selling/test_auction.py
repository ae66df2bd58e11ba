"""Selling a lead against real local buyer servers: fixed prices and bids in one auction, the
waterfall after a refusal, caps, funds, sharing, and the money on the ledger."""

import json
from decimal import Decimal

import pytest

from leadloop.accounts.actors import SYSTEM
from leadloop.distribution.selling.models import (
    Auction,
    Bid,
    BidOutcome,
    Buyer,
    LedgerEntry,
    Sale,
    SaleState,
)
from leadloop.distribution.selling.services.auction import sell_lead
from leadloop.errors import Conflict
from leadloop.leads.models import Activity, ActivityKind, Lead
from tests.distribution.conftest import ready_lead
from tests.distribution.selling.conftest import make_buyer

pytestmark = pytest.mark.django_db


def test_the_highest_bid_buys_and_pays_once(source, fake):
    url_a, a = fake(price="41.50")
    url_b, b = fake()
    url_c, c = fake()
    make_buyer("Bidder", url_a, price="1", pings=True)
    make_buyer("Fixed low", url_b, price="20")
    make_buyer("Fixed high", url_c, price="35")
    lead = ready_lead(source, first_name="Ann", email="ann@example.nl", postal_code="1011AB")

    result = sell_lead(lead.pk)

    assert [s.buyer.name for s in result.sold] == ["Bidder"]
    ping = json.loads(a.pings()[0].body)
    assert "email" not in ping
    assert "first_name" not in ping
    assert ping["postal_code"] == "1011 AB"
    post = a.posts()[0]
    assert json.loads(post.body)["email"] == "ann@example.nl"
    sale = Sale.objects.get(lead=lead, state=SaleState.SOLD)
    assert post.headers["Idempotency-Key"] == str(sale.key)
    assert post.headers["webhook-signature"].startswith("v1,")
    assert sale.price == Decimal("41.50")
    assert sale.their_ref == "fb-1"
    assert not b.posts()
    assert not c.posts()
    bidder = Buyer.objects.get(name="Bidder")
    assert bidder.balance == Decimal("958.50")
    assert LedgerEntry.objects.filter(sale=sale).count() == 1
    assert Lead.objects.get(pk=lead.pk).sold_at is not None
    assert Activity.objects.filter(lead=lead, kind=ActivityKind.SOLD).count() == 1
    outcomes = dict(Bid.objects.values_list("buyer__name", "outcome"))
    assert outcomes == {
        "Bidder": BidOutcome.WON,
        "Fixed high": BidOutcome.NOT_REACHED,
        "Fixed low": BidOutcome.NOT_REACHED,
    }


def test_a_refusal_falls_to_the_next_bid(source, fake):
    url_a, _a = fake(behaviour="reject")
    url_b, b = fake(behaviour="error")
    url_c, _c = fake()
    make_buyer("Picky", url_a, price="50")
    make_buyer("Broken", url_b, price="40", retries=1)
    make_buyer("Takes it", url_c, price="30")
    lead = ready_lead(source)

    result = sell_lead(lead.pk)

    assert [s.buyer.name for s in result.sold] == ["Takes it"]
    assert len(b.posts()) == 2  # tried again once after its 500
    states = dict(Sale.objects.values_list("buyer__name", "state"))
    assert states == {"Picky": "rejected", "Broken": "failed", "Takes it": "sold"}
    assert Sale.objects.get(buyer__name="Picky").reason == "outside our area"
    assert Buyer.objects.get(name="Picky").balance == Decimal("1000.00")


def test_filters_schedule_caps_and_funds_pass_buyers_over(source, fake):
    url, _state = fake()
    make_buyer("Only BE", url, filters=[{"field": "country", "op": "eq", "value": "BE"}])
    make_buyer("Poor", url, price="30", funds="10")
    make_buyer("Capped", url, price="25", cap_day=1)
    lead = ready_lead(source, country="NL")
    other = ready_lead(source, country="NL", email="other@example.nl")

    assert [s.buyer.name for s in sell_lead(lead.pk).sold] == ["Capped"]
    second = sell_lead(other.pk)

    assert not second.is_sold
    assert "Only BE" in second.explanation
    assert "Poor: out of funds" in second.explanation
    assert "Capped: reached its cap for today" in second.explanation


def test_a_price_rule_sets_the_price_by_grade(source, fake):
    url, _state = fake()
    make_buyer(
        "Graded",
        url,
        price="10",
        price_rules=[{"conditions": [{"field": "grade", "op": "eq", "value": "A"}], "price": "40"}],
    )
    lead = ready_lead(source)
    Lead.objects.filter(pk=lead.pk).update(fit_grade="A")

    sale = sell_lead(lead.pk).sold[0]

    assert sale.price == Decimal("40.00")


def test_a_shared_lead_goes_to_at_most_n_buyers(source, fake):
    url, state = fake()
    for name, price in (("S1", "30"), ("S2", "29"), ("S3", "28")):
        make_buyer(name, url, price=price, max_shares=2)
    make_buyer("Exclusive", url, price="20")
    lead = ready_lead(source)

    result = sell_lead(lead.pk)

    assert [s.buyer.name for s in result.sold] == ["S1", "S2"]
    assert len(state.posts()) == 2
    assert not sell_lead(lead.pk).is_sold


def test_a_bid_under_the_floor_does_not_count(source, fake):
    url, _state = fake(price="5")
    make_buyer("Cheap bidder", url, pings=True)
    lead = ready_lead(source)

    result = sell_lead(lead.pk, floor=Decimal("10"))

    assert not result.is_sold
    assert Bid.objects.get().outcome == BidOutcome.BELOW_FLOOR


def test_a_second_auction_for_the_same_lead_is_refused(source, fake):
    url, _state = fake()
    make_buyer("B", url)
    lead = ready_lead(source)
    Auction.objects.create(lead=lead, started_at=lead.created_at)

    with pytest.raises(Conflict):
        sell_lead(lead.pk)
    assert not Sale.objects.exists()


def test_a_filter_on_an_unknown_field_is_refused_at_save(fake):
    from leadloop.distribution.selling.services import buyers
    from leadloop.errors import ValidationFailed

    url, _state = fake()
    with pytest.raises(ValidationFailed) as caught:
        buyers.save_buyer(
            {
                "name": "X",
                "price": "1",
                "url": url,
                "filters": [{"field": "shoe_size", "op": "eq", "value": "44"}],
            },
            by=SYSTEM,
        )
    assert "shoe_size" in caught.value.errors["filters"][0]


def test_an_auction_that_sells_is_three_write_transactions(source, fake):
    """Open; the sale written before it is sent; the answer, the charge, the timeline and the
    auction's end together. (Each is a turn at SQLite's one writer.)"""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    url_a, _a = fake(price="41.50")
    url_b, _b = fake()
    make_buyer("Bidder", url_a, price="1", pings=True)
    make_buyer("Fixed", url_b, price="20")
    lead = ready_lead(source, email="ann@example.nl")

    with CaptureQueriesContext(connection) as ctx:
        result = sell_lead(lead.pk)

    assert [s.buyer.name for s in result.sold] == ["Bidder"]
    savepoints = [q["sql"] for q in ctx.captured_queries if q["sql"].startswith("SAVEPOINT")]
    assert len(savepoints) == 3  # the test's own transaction turns each atomic into a savepoint
    auction = Auction.objects.get(lead=lead)
    assert auction.state == "sold"
    assert dict(Bid.objects.filter(auction=auction).values_list("buyer__name", "outcome")) == {
        "Bidder": BidOutcome.WON,
        "Fixed": BidOutcome.NOT_REACHED,
    }
