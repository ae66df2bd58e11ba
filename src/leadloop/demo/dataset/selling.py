"""The demo's lead market: five buyers with different filters, caps, prices and deliveries (one
bids by ping), a dozen leads sold in real auctions, two returns (one approved), funds, and a
buyer portal user.

While the demo is built, a fake buyer (`leadloop fake-buyer`) runs on 127.0.0.1 and takes the
posts and pings, and the e-mail buyer's mails are written to var/demo-mail/. Afterwards the HTTP
buyers point at http://127.0.0.1:8099: run `leadloop fake-buyer --port 8099` (with
LEADLOOP_ALLOW_PRIVATE_HOSTS=true) to keep selling to them, or point them at real buyers.
"""

from __future__ import annotations

import contextlib
from typing import Any

from django.conf import settings
from django.test.utils import override_settings

from leadloop.accounts.actors import SYSTEM
from leadloop.accounts.models import User
from leadloop.distribution import selectors
from leadloop.distribution.selling import fakebuyer
from leadloop.distribution.selling.models import Buyer, Sale, SaleState
from leadloop.distribution.selling.services import auction, buyers, returns
from leadloop.errors import LeadloopError
from leadloop.leads.models import Lead

AFTER = "http://127.0.0.1:8099"
SOLD = 12


def _buyers(url: str) -> list[dict[str, Any]]:
    return [
        {
            "name": "WarmtePomp Direct",
            "contact_name": "Eva de Wit",
            "contact_email": "inkoop@warmtepomp-direct.example",
            "filters": [{"field": "country", "op": "eq", "value": "NL"}],
            "price": "35",
            "price_rules": [
                {"conditions": [{"field": "grade", "op": "eq", "value": "A"}], "price": "45"}
            ],
            "cap_day": 20,
            "method": "json",
            "url": f"{url}/warmtepomp/leads",
            "field_map": [
                ["voornaam", "first_name"],
                ["achternaam", "last_name"],
                ["email", "email"],
                ["telefoon", "phone"],
                ["postcode", "postal_code"],
                ["plaats", "city"],
                ["bron", "=leadloop"],
            ],
            "priority": 2,
        },
        {
            "name": "Zonnepanelen Groep",
            "filters": [{"field": "grade", "op": "in", "value": ["A", "B", "C"]}],
            "price": "25",
            "max_shares": 2,
            "funding": "credit",
            "credit_limit": "500",
            "method": "xml",
            "url": f"{url}/zon/xml",
        },
        {
            "name": "Isolatie Partners BV",
            "filters": [
                {"field": "country", "op": "eq", "value": "NL"},
                {"field": "postal_code", "op": "between", "value": ["1000", "4999"]},
            ],
            "price": "18",
            "cap_week": 50,
            "work_days": "12345",
            "method": "form",
            "url": f"{url}/isolatie/post",
            "max_shares": 2,
        },
        {
            "name": "Energie Advies België",
            "filters": [{"field": "country", "op": "eq", "value": "BE"}],
            "price": "22",
            "method": "email",
            "email_to": "leads@energie-advies.example",
        },
        {
            "name": "LeadBid Exchange",
            "filters": [{"field": "country", "op": "eq", "value": "NL"}],
            "price": "1",
            "pings": True,
            "ping_url": f"{url}/ping",
            "method": "json",
            "url": f"{url}/exchange/post",
            "ping_timeout_ms": 400,
            "cap_hour": 5,
        },
    ]


def selling_examples() -> dict[str, int]:
    """Set up the market once (a second demo run keeps what is there) and sell a few leads."""
    if Buyer.objects.exists():
        return {}
    server, state = fakebuyer.start(price="38.50")
    url = f"http://127.0.0.1:{server.server_address[1]}"
    mail_dir = settings.VAR_DIR / "demo-mail"
    try:
        with override_settings(
            LEADLOOP_ALLOW_PRIVATE_HOSTS=True,
            EMAIL_BACKEND="django.core.mail.backends.filebased.EmailBackend",
            EMAIL_FILE_PATH=str(mail_dir),
        ):
            made = [buyers.save_buyer(data, by=SYSTEM) for data in _buyers(url)]
            for buyer, funds in zip(made, ("2000", "300", "600", "400", "1500"), strict=True):
                buyers.top_up(buyer.pk, funds, by=SYSTEM, note="Vooruitbetaling december")
            sold = _sell(state)
    finally:
        server.shutdown()
        server.server_close()
    for buyer in Buyer.objects.exclude(method="email"):
        Buyer.objects.filter(pk=buyer.pk).update(
            url=buyer.url.replace(url, AFTER), ping_url=buyer.ping_url.replace(url, AFTER)
        )
    portal = User.objects.filter(username="buyer").first()
    if portal is not None:
        buyers.add_login(made[0].pk, portal, by=SYSTEM)
    return {"buyers": len(made), "sold": sold, **_returns()}


def _sell(state: fakebuyer.State) -> int:
    leads = list(
        Lead.objects.filter(selectors.routable(), country__in=["NL", "BE"]).order_by(
            "-priority", "-id"
        )[: SOLD + 2]
    )
    sold = 0
    for number, lead in enumerate(leads):
        # The exchange turns one post down: the lead falls to the next bid.
        state.behaviour = "reject" if number == 3 else "accept"
        with contextlib.suppress(LeadloopError):
            sold += len(auction.sell_lead(lead.pk, by=SYSTEM).sold)
    return sold


def _returns() -> dict[str, int]:
    sales = list(Sale.objects.filter(state=SaleState.SOLD).order_by("pk")[:2])
    if len(sales) < 2:
        return {"returns": 0}
    approved = returns.request_return(sales[0].pk, reason="Telefoonnummer bestaat niet", by=SYSTEM)
    returns.decide_return(approved.pk, approve=True, by=SYSTEM, note="Klopt, gecrediteerd")
    returns.request_return(sales[1].pk, reason="Klant zegt niets aangevraagd te hebben", by=SYSTEM)
    return {"returns": 2}
