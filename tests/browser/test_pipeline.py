"""The pipeline board in a real browser: a rep drags a card from "contacted" to "quoted" and the
lead moves; a move the lifecycle refuses snaps back with the reason; the keyboard's Move to menu
does the same without dragging; on a phone the columns stack and nothing runs off the screen."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from leadloop.accounts.actors import SYSTEM
from leadloop.accounts.models import Role
from leadloop.leads import services as lead_services
from leadloop.leads.models import Lead, LeadStatus
from leadloop.sales.services import quotes
from tests.factories.accounts import make_team, make_user
from tests.factories.leads import make_lead, make_source

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

XSS_NAME = '<img src=x onerror="window.__xss=1">'


@pytest.fixture
def floor():
    """A rep with a contacted lead that has a quote, an assigned lead, and a teammate's deal."""
    north = make_team("North")
    noor = make_user(Role.SALES_REP, team=north, username="noor", first_name="Noor")
    other = make_user(Role.SALES_REP, team=north, username="sem", first_name="Sem")
    source = make_source("Website")
    contacted = make_lead(source, assigned_to=noor, first_name="Carla", last_name="Contact")
    lead_services.transition(contacted, to=LeadStatus.CONTACTED, by=SYSTEM)
    quotes.add_quote(contacted, by=SYSTEM, amount="8000", probability=25)
    assigned = make_lead(source, assigned_to=noor, first_name="Arie", last_name=XSS_NAME)
    theirs = make_lead(source, assigned_to=other, first_name="Sven", last_name="Secret")
    quotes.add_quote(theirs, by=SYSTEM, amount="900000", probability=90)
    return {"contacted": contacted, "assigned": assigned}


def _column(page, stage):
    return page.locator(f".pipeline-column__cards[data-stage='{stage}']")


def test_a_rep_drags_a_card_from_contacted_to_quoted(page, live_server, log_in, floor):
    page.set_viewport_size({"width": 1280, "height": 900})
    log_in(page, "noor")
    page.goto(f"{live_server.url}/sales/pipeline/")
    board = page.locator("#pipeline-board")
    expect(board).to_contain_text("€ 2,000")
    expect(board).not_to_contain_text("Secret")

    card = _column(page, "contacted").locator(".pipeline-card", has_text="Carla Contact")
    card.locator(".pipeline-card__facts").drag_to(_column(page, "quoted"), steps=8)

    expect(page.locator(".flash--success")).to_contain_text("Carla Contact moved to Quoted.")
    expect(_column(page, "quoted")).to_contain_text("Carla Contact")
    assert Lead.objects.get(pk=floor["contacted"].pk).status == LeadStatus.QUOTED
    assert page.evaluate("window.__xss") is None

    # The board the move answered with is draggable again.
    card = _column(page, "quoted").locator(".pipeline-card", has_text="Carla Contact")
    card.locator(".pipeline-card__facts").drag_to(_column(page, "contacted"), steps=8)
    expect(page.locator(".flash--success")).to_contain_text("Carla Contact moved to Contacted.")
    assert Lead.objects.get(pk=floor["contacted"].pk).status == LeadStatus.CONTACTED


def test_a_refused_move_snaps_back_with_the_reason(page, live_server, log_in, floor):
    page.set_viewport_size({"width": 1280, "height": 900})
    log_in(page, "noor")
    page.goto(f"{live_server.url}/sales/pipeline/")

    card = _column(page, "contacted").locator(".pipeline-card", has_text="Carla Contact")
    card.locator(".pipeline-card__facts").drag_to(_column(page, "assigned"), steps=8)

    expect(page.locator(".flash--error")).to_contain_text(
        "A lead cannot move from Contacted to Assigned."
    )
    expect(_column(page, "contacted")).to_contain_text("Carla Contact")
    expect(_column(page, "assigned")).not_to_contain_text("Carla Contact")
    assert Lead.objects.get(pk=floor["contacted"].pk).status == LeadStatus.CONTACTED


def test_the_move_to_menu_moves_a_card_without_dragging(page, live_server, log_in, floor):
    page.set_viewport_size({"width": 390, "height": 844})
    log_in(page, "noor")
    page.goto(f"{live_server.url}/sales/pipeline/")

    page.get_by_label("Move Arie").select_option("contacted")
    page.get_by_label("Move Arie").press("Tab")
    page.keyboard.press("Enter")

    expect(page.locator(".flash--success")).to_contain_text("moved to Contacted.")
    expect(_column(page, "contacted")).to_contain_text("Arie")
    assert Lead.objects.get(pk=floor["assigned"].pk).status == LeadStatus.CONTACTED
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
