"""The market through each door: routing's "sell" action with its fallback, returns and the
money, the API (problem details, scoped to the viewer), the pages, the portal and the CLI."""

import json
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from leadloop.accounts.actors import SYSTEM
from leadloop.accounts.models import Role
from leadloop.distribution import services as routing
from leadloop.distribution.models import Outcome, RouteDecision
from leadloop.distribution.selling.models import Buyer, LeadReturn, Sale, SaleState
from leadloop.distribution.selling.services import buyers, returns
from leadloop.distribution.selling.services.auction import sell_lead
from leadloop.errors import Conflict
from leadloop.leads.models import Lead
from tests.distribution.conftest import publish, ready_lead, team_push
from tests.distribution.selling.conftest import make_buyer
from tests.factories.accounts import make_user

pytestmark = pytest.mark.django_db


def test_routing_sells_and_falls_back_to_the_next_rule(source, fake, team, reps):
    url, _s = fake()
    make_buyer("NL buyer", url, filters=[{"field": "country", "op": "eq", "value": "NL"}])
    publish(
        [
            {
                "name": "Sell",
                "conditions": [{"field": "country", "op": "in", "value": ["NL", "BE"]}],
                "action": {"kind": "sell", "floor": "5"},
            }
        ],
        team_push(team),
    )
    dutch = ready_lead(source, country="NL")
    belgian = ready_lead(source, country="BE", email="be@example.be")

    sold = routing.route_lead(dutch.pk)
    placed = routing.route_lead(belgian.pk)

    assert sold.outcome == Outcome.SOLD
    assert "NL buyer bought it" in sold.explanation
    assert placed.outcome == Outcome.ASSIGNED
    assert "not sold" in placed.explanation
    assert routing.route_lead(dutch.pk) is None  # sold: no longer routable
    assert RouteDecision.objects.filter(lead=dutch).count() == 1


def test_an_approved_return_credits_and_frees_the_lead(source, fake):
    url, _s = fake()
    buyer = make_buyer("B", url, price="30")
    portal_user = make_user(Role.BUYER, username="buyer1")
    buyers.add_login(buyer.pk, portal_user, by=SYSTEM)
    lead = ready_lead(source)
    sale = sell_lead(lead.pk).sold[0]

    asked = returns.request_return(sale.pk, reason="wrong number", by=portal_user)
    with pytest.raises(Conflict):
        returns.request_return(sale.pk, reason="again", by=portal_user)
    returns.decide_return(asked.pk, approve=True, by=SYSTEM)

    assert Buyer.objects.get().balance == Decimal("1000.00")
    assert Sale.objects.get().state == SaleState.RETURNED
    assert Lead.objects.get(pk=lead.pk).sold_at is None
    assert not sell_lead(lead.pk).is_sold  # the returning buyer is not offered it again


def test_the_return_window_closes(source, fake):
    import datetime as dt

    import time_machine
    from django.utils import timezone

    url, _s = fake()
    make_buyer("B", url, return_days=1)
    sale = sell_lead(ready_lead(source).pk).sold[0]
    with time_machine.travel(timezone.now() + dt.timedelta(days=2)), pytest.raises(Conflict):
        returns.request_return(sale.pk, reason="late", by=SYSTEM)


def test_api_buyers_sell_statement_and_problems(client, fake, source):
    url, _s = fake()
    marketing = make_user(Role.MARKETING)
    client.force_login(marketing)
    made = client.post(
        "/api/v1/selling/buyers",
        {"name": "Api buyer", "price": "12.5", "url": f"{url}/lead"},
        content_type="application/json",
    )
    assert made.status_code == 201, made.content
    buyer_id = made.json()["id"]
    bad = client.post(
        "/api/v1/selling/buyers",
        {
            "name": "Bad",
            "price": "1",
            "url": url,
            "filters": [{"field": "nope", "op": "eq", "value": "1"}],
        },
        content_type="application/json",
    )
    assert bad.status_code == 422
    assert bad["Content-Type"].startswith("application/problem+json")
    assert "nope" in json.dumps(bad.json())
    assert (
        client.post(
            f"/api/v1/selling/buyers/{buyer_id}/top-up",
            {"amount": "100"},
            content_type="application/json",
        ).status_code
        == 201
    )
    lead = ready_lead(source)
    dry = client.post(
        "/api/v1/selling/sell",
        {"lead_id": lead.pk, "dry_run": True},
        content_type="application/json",
    ).json()
    assert dry["dry_run"][0]["price"] == "12.50"
    sold = client.post(
        "/api/v1/selling/sell", {"lead_id": lead.pk}, content_type="application/json"
    )
    assert sold.json()["state"] == "sold"
    statement = client.get(f"/api/v1/selling/buyers/{buyer_id}/statement").json()
    assert (statement["bought"], statement["closing"]) == (1, "87.50")
    csv = client.get(f"/api/v1/selling/buyers/{buyer_id}/statement.csv")
    assert b"top_up" in csv.content


def test_a_buyer_user_sees_only_its_own(client, fake, source):
    url, _s = fake()
    mine = make_buyer("Mine", url)
    other = make_buyer("Other", url, price="5")
    user = make_user(Role.BUYER, username="portal")
    buyers.add_login(mine.pk, user, by=SYSTEM)
    sell_lead(ready_lead(source, first_name="Anna").pk)
    other_sale = Sale.objects.create(
        lead=ready_lead(source, email="x@example.nl"),
        buyer=other,
        state="sold",
        price=5,
        created_at=mine.created_at,
        sold_at=mine.created_at,
    )
    client.force_login(user)

    assert [b["name"] for b in client.get("/api/v1/selling/buyers").json()] == ["Mine"]
    assert client.get(f"/api/v1/selling/buyers/{other.pk}").status_code == 404
    assert {s["buyer"] for s in client.get("/api/v1/selling/sales").json()} == {"Mine"}
    assert (
        client.post(
            f"/api/v1/selling/sales/{other_sale.pk}/return",
            {"reason": "x"},
            content_type="application/json",
        ).status_code
        == 404
    )
    assert (
        client.post(
            "/api/v1/selling/buyers", {"name": "X"}, content_type="application/json"
        ).status_code
        == 403
    )
    assert client.get(reverse("selling:statement", args=[other.pk])).status_code == 404
    assert client.get(reverse("selling:statement", args=[mine.pk])).status_code == 200
    assert client.get(f"/api/v1/selling/buyers/{other.pk}/statement").status_code == 404
    portal = client.get(reverse("selling:portal"))
    assert b"Anna" in portal.content
    assert client.get(reverse("selling:buyers")).status_code == 404
    assert client.get(f"/leads/{other_sale.lead_id}/").status_code in (403, 404)


def test_pages_for_marketing(client, fake, source):
    url, _s = fake()
    client.force_login(make_user(Role.MARKETING))
    form = client.post(
        reverse("selling:buyer-new"),
        {
            "name": "Form buyer",
            "price": "20",
            "currency": "EUR",
            "max_shares": 1,
            "funding": "prepaid",
            "credit_limit": 0,
            "return_days": 30,
            "priority": 0,
            "weight": 1,
            "method": "json",
            "url": f"{url}/lead",
            "timeout_ms": 1000,
            "retries": 0,
            "bid_path": "price",
            "ping_timeout_ms": 500,
            "filters": "shoe_size = 44",
        },
    )
    assert form.status_code == 422
    assert "shoe_size" in form.content.decode()
    buyer = make_buyer("Page buyer", url)
    lead = ready_lead(source, first_name="<script>alert(1)</script>")
    preview = client.post(
        reverse("selling:buyer-test", args=[buyer.pk]), {"lead_id": lead.pk, "send": "1"}
    )
    assert b"&lt;script&gt;" in preview.content
    assert b"<script>alert" not in preview.content
    assert b"accepted" in preview.content
    for name, args in (
        ("selling:buyers", []),
        ("selling:buyer", [buyer.pk]),
        ("selling:sales", []),
        ("selling:returns", []),
        ("selling:statement", [buyer.pk]),
    ):
        assert client.get(reverse(name, args=args)).status_code == 200, name


def test_cli_list_sell_statement_verify(fake, source):
    url, _s = fake()
    make_buyer("Cli buyer", url, price="15")
    lead = ready_lead(source)
    out = StringIO()
    call_command("sell", "--id", str(lead.pk), "--dry-run", stdout=out)
    assert "Cli buyer" in out.getvalue()
    out = StringIO()
    call_command("sell", "--id", str(lead.pk), "--json", stdout=out)
    assert json.loads(out.getvalue())["sold_to"] == ["Cli buyer"]
    with pytest.raises(CommandError):
        call_command(
            "sell",
            "--id",
            str(ready_lead(source, email="n@example.nl").pk),
            "--floor",
            "100",
            stdout=StringIO(),
        )
    out = StringIO()
    call_command("buyers", "statement", "Cli buyer", stdout=out)
    assert "-15.00" in out.getvalue()
    out = StringIO()
    call_command("buyers", "verify", stdout=out)
    assert "Every balance" in out.getvalue()
    out = StringIO()
    call_command("buyers", "test", "Cli buyer", "--lead", str(lead.pk), "--send", stdout=out)
    assert "Sent: accepted" in out.getvalue()
    assert LeadReturn.objects.count() == 0
