"""Buyers that misbehave, against real local servers: slow, 500s, HTML, endless answers,
redirects to private addresses, TLS errors, nobody listening, accepting twice; private addresses
refused; a crash between "chosen" and "recorded" settled once; caps under parallel sales."""

import datetime as dt
import json
import socket
import ssl
import threading
from decimal import Decimal
from http.server import HTTPServer

import pytest
import time_machine
from django.utils import timezone

from leadloop.distribution.selling import fakebuyer
from leadloop.distribution.selling.models import (
    Auction,
    AuctionState,
    Bid,
    BidOutcome,
    DeliveryLog,
    LedgerEntry,
    Sale,
    SaleState,
)
from leadloop.distribution.selling.services import auction, market, recovery
from leadloop.distribution.selling.services.auction import sell_lead
from tests.distribution.conftest import ready_lead
from tests.distribution.selling.conftest import make_buyer

pytestmark = pytest.mark.django_db


def test_a_slow_bidder_misses_the_deadline_and_the_others_still_sell(source, fake):
    url_slow, slow = fake(price="99")
    slow.ping_delay = 2.0
    url_ok, _ok = fake(price="20")
    make_buyer("Slow bidder", url_slow, pings=True, ping_timeout_ms=5000)
    make_buyer("Quick bidder", url_ok, pings=True)
    lead = ready_lead(source)

    started = timezone.now()
    result = sell_lead(lead.pk, deadline_ms=300)
    spent = (timezone.now() - started).total_seconds()

    assert [s.buyer.name for s in result.sold] == ["Quick bidder"]
    assert Bid.objects.get(buyer__name="Slow bidder").outcome == BidOutcome.TIMEOUT
    assert spent < 1.5  # did not wait for the slow bidder's 2 s


@pytest.mark.parametrize(
    ("behaviour", "state"),
    [("error", SaleState.FAILED), ("garbage", SaleState.SOLD), ("duplicate", SaleState.REJECTED)],
)
def test_answers_are_read_by_what_they_are(source, fake, behaviour, state):
    url, _s = fake(behaviour=behaviour)
    make_buyer("B", url, retries=0)
    lead = ready_lead(source)

    sell_lead(lead.pk)

    assert Sale.objects.get().state == state


def test_an_html_answer_is_refused_when_the_buyer_says_json(source, fake):
    url, _s = fake(behaviour="garbage")
    make_buyer(
        "Strict",
        url,
        answer_rules=[
            {"test": "json", "expr": "status", "value": "accepted", "outcome": "accepted"},
            {"test": "regex", "expr": ".", "value": "", "outcome": "rejected"},
        ],
    )
    sell_lead(ready_lead(source).pk)
    assert Sale.objects.get().state == SaleState.REJECTED


def test_an_endless_answer_is_cut_off(source, fake):
    url, _s = fake(behaviour="huge")
    make_buyer("Huge", url)
    sell_lead(ready_lead(source).pk)
    log = DeliveryLog.objects.get()
    assert len(log.response) <= 2000
    assert Sale.objects.get().state == SaleState.SOLD


def test_a_redirect_is_not_followed(source, fake):
    url, _s = fake(behaviour="redirect")
    make_buyer("Redirects", url)
    sell_lead(ready_lead(source).pk)
    sale = Sale.objects.get()
    assert sale.state == SaleState.REJECTED
    assert DeliveryLog.objects.get().status_code == 302


def test_nobody_listening_and_a_tls_error_fail_the_post(source, tmp_path):
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()
    plain = HTTPServer(("127.0.0.1", 0), fakebuyer._Handler)
    plain.state = fakebuyer.State()
    threading.Thread(target=plain.serve_forever, daemon=True).start()
    try:
        make_buyer("Gone", f"http://127.0.0.1:{port}", retries=0)
        # https to a server that speaks plain HTTP: the TLS handshake fails.
        make_buyer("Bad TLS", f"https://127.0.0.1:{plain.server_address[1]}", retries=0, price="20")
        sell_lead(ready_lead(source).pk)
    finally:
        plain.shutdown()
        plain.server_close()
    states = dict(Sale.objects.values_list("buyer__name", "state"))
    assert states == {"Gone": SaleState.FAILED, "Bad TLS": SaleState.FAILED}
    errors = " ".join(DeliveryLog.objects.values_list("error", flat=True))
    assert "Connection" in errors or "refused" in errors
    assert "SSL" in errors or "ssl" in errors.lower()
    assert ssl  # the module the error comes from


def test_private_addresses_are_refused_unless_allowed(source, fake, settings):
    url, state = fake()
    make_buyer("Local", url)
    settings.LEADLOOP_ALLOW_PRIVATE_HOSTS = False
    sell_lead(ready_lead(source).pk)
    assert not state.posts()
    assert "not a public address" in DeliveryLog.objects.get().error


def test_a_buyer_that_accepts_twice_is_charged_once(source, fake):
    url, state = fake()
    buyer = make_buyer("Twice", url)
    lead = ready_lead(source)
    sale = market.reserve(buyer.pk, lead.pk, Decimal("30"), auction_id=None, now=timezone.now())
    auction.deliver(sale, by=auction.SELLING)
    sale.refresh_from_db()
    auction.deliver(sale, by=auction.SELLING)  # a second answer "accepted" for the same key

    assert LedgerEntry.objects.filter(sale=sale, kind="sale").count() == 1
    assert len({p.headers["Idempotency-Key"] for p in state.posts()}) == 1


def test_a_crash_before_the_answer_is_recorded_is_settled_once(source, fake):
    """The worker wrote the sale and sent the lead, then died: the sweep sends it again under
    the same key, the buyer recognises it, and the sale is charged once."""
    url, state = fake()
    buyer = make_buyer("B", url)
    lead = ready_lead(source)
    open_auction = Auction.objects.create(lead=lead, started_at=timezone.now())
    sale = market.reserve(
        buyer.pk, lead.pk, Decimal("30"), auction_id=open_auction.pk, now=timezone.now()
    )
    from leadloop.distribution.selling.services import delivery

    delivery.post_lead(buyer, lead, key=str(sale.key), sale_id=sale.pk)  # ...and then it died

    with time_machine.travel(timezone.now() + dt.timedelta(minutes=3)):
        assert recovery.recover() == 0  # it may still be on its way
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=11)):
        assert recovery.recover() == 1

    sale.refresh_from_db()
    assert sale.state == SaleState.SOLD
    assert len(state.posts()) == 2
    assert {p.headers["Idempotency-Key"] for p in state.posts()} == {str(sale.key)}
    assert LedgerEntry.objects.filter(sale=sale).count() == 1
    assert Auction.objects.get().state == AuctionState.SOLD
    assert json.loads(state.posts()[1].body)["id"] == str(lead.pk)
