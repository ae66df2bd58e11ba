"""The lead market as marketing and a buyer use it: set up a buyer in the form (a filter on an
unknown field is refused on the form), preview and send a real lead to a real local buyer from
the buyer's page (HTMX), and, in Dutch, a buyer's user returns a lead it bought."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from leadloop.accounts.actors import SYSTEM
from leadloop.accounts.models import Role
from leadloop.distribution.selling import fakebuyer
from leadloop.distribution.selling.models import LeadReturn
from leadloop.distribution.selling.services import auction, buyers
from tests.factories.accounts import make_user
from tests.factories.leads import make_lead, make_source

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def buyer_server():
    server, state = fakebuyer.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", state
    server.shutdown()
    server.server_close()


def test_marketing_sets_up_a_buyer_and_sends_it_a_test_lead(
    page, live_server, log_in, buyer_server
):
    url, state = buyer_server
    make_user(Role.MARKETING, username="mila", password="correct-horse-9")
    lead = make_lead(make_source("Web"), first_name="Anna", last_name="Visser")
    log_in(page, "mila")

    page.goto(f"{live_server.url}/selling/")
    page.get_by_role("link", name="New buyer").click()
    page.locator("#id_name").fill("Browser buyer")
    page.get_by_label("Price per lead").fill("25")
    page.get_by_label("Post to").fill(f"{url}/lead")
    page.get_by_label("Filters (one condition a line)").fill("shoe_size = 44")
    page.get_by_role("button", name="Save buyer").click()
    expect(page.get_by_text("shoe_size", exact=False).first).to_be_visible()

    page.get_by_label("Filters (one condition a line)").fill("country is not empty")
    page.get_by_role("button", name="Save buyer").click()
    expect(page.get_by_role("heading", name="Browser buyer")).to_be_visible()

    page.get_by_label("Lead number").fill(str(lead.pk))
    page.get_by_role("button", name="Send as a test").click()
    expect(page.get_by_text("Sent as a test: accepted")).to_be_visible()
    expect(page.locator("#preview pre").first).to_contain_text('"first_name": "Anna"')
    assert len(state.posts()) == 1


def test_a_buyer_returns_a_lead_in_dutch(page, live_server, log_in, buyer_server):
    url, _state = buyer_server
    buyer = buyers.save_buyer({"name": "Koper BV", "price": "30", "url": f"{url}/lead"}, by=SYSTEM)
    buyers.top_up(buyer.pk, "100", by=SYSTEM)
    user = make_user(Role.BUYER, username="koper", password="correct-horse-9")
    buyers.add_login(buyer.pk, user, by=SYSTEM)
    lead = make_lead(make_source("Web"), first_name="Bram", email="bram@example.nl")
    sale = auction.sell_lead(lead.pk).sold[0]
    log_in(page, "koper")
    page.context.add_cookies([{"name": "django_language", "value": "nl", "url": live_server.url}])

    page.goto(f"{live_server.url}/selling/portal/")
    expect(page.get_by_role("heading", name="Leads gekocht door Koper BV")).to_be_visible()
    expect(page.get_by_text("bram@example.nl")).to_be_visible()
    page.get_by_placeholder("reden").fill("Nummer bestaat niet")
    page.get_by_role("button", name="Retour").click()

    expect(page.get_by_text("Retour aangevraagd; marketing beslist.")).to_be_visible()
    assert LeadReturn.objects.get().sale_id == sale.pk
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
