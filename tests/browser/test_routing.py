"""Routing as marketing and reps use it: write a rule, test a lead against it, publish, see the
lead routed with the rule on its timeline; a rep takes the next lead from the pool. In English
and Dutch, and nothing overflows a laptop screen."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from leadloop.accounts.actors import SYSTEM
from leadloop.accounts.models import Role
from leadloop.distribution import services
from leadloop.leads import services as lead_services
from leadloop.leads.models import Lead, LeadStatus
from tests.factories.accounts import make_team, make_user
from tests.factories.leads import make_lead, make_source

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TEXT = {
    "en": {"add": "Add a rule", "name": "Name", "when": "When (every line must hold)",
           "then": "Then", "team": "Team", "save": "Save in the draft", "edit": "Edit",
           "publish": "Publish these rules", "test": "Test", "lead": "Lead number",
           "rules": "Rules", "draft": "The draft", "take": "Take the next lead",
           "push": "Push to a rep of a team", "pool": "Put in a team's pool",
           "in_force": "Version 1 is in force"},
    "nl": {"add": "Regel toevoegen", "name": "Naam", "when": "Als (elke regel moet kloppen)",
           "then": "Dan", "team": "Team", "save": "Opslaan in het concept", "edit": "Bewerken",
           "publish": "Deze regels publiceren", "test": "Testen", "lead": "Leadnummer",
           "rules": "Regels", "draft": "Het concept", "take": "Volgende lead pakken",
           "push": "Toewijzen aan een verkoper van een team",
           "pool": "In de pool van een team zetten",
           "in_force": "Versie 1 is van kracht"},
}  # fmt: skip


def _open(page, live_server, lang: str, path: str) -> None:
    page.context.add_cookies([{"name": "django_language", "value": lang, "url": live_server.url}])
    page.goto(live_server.url + path)


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_marketing_writes_tests_and_publishes_a_rule(page, live_server, log_in, lang):
    words = TEXT[lang]
    north = make_team("North")
    make_user(Role.SALES_REP, team=north, username="noor", first_name="Noor", last_name="V")
    make_user(Role.MARKETING, username="mila")
    lead = make_lead(make_source("Web"), country="NL", postal_code="1234 AB")
    page.set_viewport_size({"width": 1280, "height": 900})
    log_in(page, "mila")

    _open(page, live_server, lang, "/distribution/rules/default/")
    page.get_by_label(words["then"]).select_option("team_pool")
    page.get_by_label(words["team"]).select_option(label="North")
    page.get_by_role("button", name=words["save"]).click()
    expect(page).to_have_url(f"{live_server.url}/distribution/")
    page.get_by_role("link", name=words["add"]).click()
    page.get_by_label(words["name"]).fill("NL noord")
    page.get_by_label(words["when"]).fill("country = NL\npostal_code between 1000 and 4999")
    page.get_by_label(words["then"]).select_option("team_push")
    page.get_by_label(words["team"]).select_option(label="North")
    page.get_by_role("button", name=words["save"]).click()
    expect(page).to_have_url(f"{live_server.url}/distribution/")

    expect(page.locator("#rules-table")).to_contain_text("postal_code between 1000 and 4999")
    page.get_by_label(words["lead"]).fill(str(lead.pk))
    page.get_by_role("button", name=words["test"]).click()
    expect(page.locator("#trial")).to_contain_text("NL noord")
    expect(page.locator("#trial")).to_contain_text("Noor V")
    page.get_by_role("button", name=words["publish"]).click()
    expect(page.locator(".flash--success")).to_contain_text(words["in_force"])
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 1280

    if lead.status != LeadStatus.SALES_READY:
        lead_services.transition(lead, to=LeadStatus.SALES_READY, by=SYSTEM)
    decision = services.route_lead(lead.pk)
    assert decision.rule_name == "NL noord"
    _open(page, live_server, lang, f"/leads/{lead.pk}/")
    expect(page.locator("body")).to_contain_text("NL noord")


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_a_rep_takes_the_next_lead_from_the_pool(page, live_server, log_in, lang):
    words = TEXT[lang]
    north = make_team("North")
    make_user(Role.SALES_REP, team=north, username="noor")
    source = make_source("Web")
    lead = make_lead(source, last_name="Pooled")
    lead_services.assign_lead(lead, by=SYSTEM, team=north)
    page.set_viewport_size({"width": 390, "height": 844})
    log_in(page, "noor")

    _open(page, live_server, lang, "/distribution/pool/")
    expect(page.locator("table")).to_contain_text("Pooled")
    page.get_by_role("button", name=words["take"]).click()

    expect(page).to_have_url(f"{live_server.url}/leads/{lead.pk}/")
    assert Lead.objects.get(pk=lead.pk).assigned_to.username == "noor"
