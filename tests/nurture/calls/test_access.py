"""An agent sees the leads on its call lists and nothing else, through the pages and the API;
the desk works through HTMX without leaving the page; what agents and reps may not do."""

from __future__ import annotations

import json

import pytest
import time_machine

from leadloop.accounts.models import Role
from leadloop.accounts.permissions import Permission, can
from leadloop.accounts.selectors import lead_visibility
from leadloop.leads.models import Lead
from leadloop.nurture.calls import services as calls
from leadloop.nurture.calls.models import CallAttempt, CallEntry
from tests.factories.leads import make_lead
from tests.nurture.calls.conftest import TUESDAY_10

pytestmark = pytest.mark.django_db


def test_an_agent_sees_only_the_leads_of_its_call_lists(agent, queued, source, marketing):
    on_list = queued().lead
    elsewhere = make_lead(source, phone="+31 6 1234 0099")
    other_list = calls.create_call_list(by=marketing, name="Other", script_en="Hi")
    not_mine = calls.add_to_call_list(
        make_lead(source, phone="+31 6 1234 0098"), other_list, by=marketing
    )

    visible = set(Lead.objects.filter(lead_visibility(agent)).values_list("pk", flat=True))

    assert visible == {on_list.pk}
    assert elsewhere.pk not in visible
    assert not_mine.lead_id not in visible


def test_an_agent_cannot_open_another_lead_by_page_or_api(
    agent, queued, source, logged_in_client, api_client_for
):
    mine = queued().lead
    other = make_lead(source, phone="+31 6 1234 0097")
    api = api_client_for(agent)

    assert api.get(f"/api/v1/leads/{mine.pk}").status_code == 200
    answer = api.get(f"/api/v1/leads/{other.pk}")
    assert answer.status_code == 404
    assert answer["Content-Type"].startswith("application/problem+json")
    page = logged_in_client(agent)
    assert page.get(f"/leads/{mine.pk}/").status_code == 200
    assert page.get(f"/leads/{other.pk}/").status_code == 404
    listed = api.get("/api/v1/leads").json()
    assert [item["id"] for item in listed["items"]] == [mine.pk]


def test_an_agent_has_none_of_the_broad_staff_rights(agent):
    assert not can(agent, Permission.STAFF_WORK)
    assert not can(agent, Permission.MANAGE_CALL_LISTS)
    assert can(agent, Permission.WORK_CALL_LISTS)


def test_an_agent_cannot_manage_lists_or_the_do_not_call_list(
    agent, call_list, api_client_for, logged_in_client
):
    api = api_client_for(agent)

    answers = [
        api.post("/api/v1/nurture/calls/lists", json.dumps({"name": "Mine", "script_en": "x"}),
                 content_type="application/json").status_code,
        api.get("/api/v1/nurture/calls/dnc").status_code,
        api.post("/api/v1/nurture/calls/dnc", json.dumps({"phone": "+31612340001"}),
                 content_type="application/json").status_code,
        api.get(f"/api/v1/nurture/calls/lists/{call_list.pk}/entries").status_code,
    ]  # fmt: skip
    page = logged_in_client(agent)

    assert answers == [403, 403, 403, 403]
    assert page.get("/nurture/calls/").status_code == 403
    assert page.get("/nurture/calls/dnc/").status_code == 403
    # Its own list it may read (the desk names it).
    assert [item["id"] for item in api.get("/api/v1/nurture/calls/lists").json()] == [call_list.pk]


def test_a_sales_rep_sees_no_call_lists(rep, call_list, api_client_for):
    api = api_client_for(rep)

    assert api.get("/api/v1/nurture/calls/lists").json() == []
    assert api.get(f"/api/v1/nurture/calls/lists/{call_list.pk}").status_code == 404
    assert api.post("/api/v1/nurture/calls/desk/next").status_code == 403


def test_the_desk_takes_a_lead_and_logs_the_call_without_leaving_the_page(
    agent, queued, logged_in_client
):
    entry = queued(first_name="Ann", company_name="Smit BV", language="nl")
    client = logged_in_client(agent)
    htmx = {"HTTP_HX_REQUEST": "true"}

    with time_machine.travel(TUESDAY_10, tick=False):
        page = client.get("/nurture/calls/desk/")
        card = client.post("/nurture/calls/desk/next/", **htmx)
        missing = client.post(
            f"/nurture/calls/desk/{entry.pk}/outcome/", {"outcome": "callback"}, **htmx
        )
        logged = client.post(
            f"/nurture/calls/desk/{entry.pk}/outcome/",
            {"outcome": "no_answer", "notes": "Rang out", "minutes": "0.5"},
            **htmx,
        )

    assert page.status_code == 200
    assert "1 lead is due" in page.content.decode()
    html = card.content.decode()
    assert card.status_code == 200
    assert not html.lstrip().startswith("<!DOCTYPE")  # the card only
    assert "Hallo Ann, met Fenna Kok. Heeft Smit BV onze brochure ontvangen?" in html
    assert f'href="tel:{entry.lead.phone_e164}"' in html
    assert missing.status_code == 422
    assert "Required for a call-back." in missing.content.decode()
    assert logged.status_code == 200
    assert "logged" in logged.content.decode()
    attempt = CallAttempt.objects.get()
    assert (attempt.outcome, attempt.duration_seconds, attempt.notes) == (
        "no_answer",
        30,
        "Rang out",
    )


def test_without_javascript_the_desk_redirects_back_to_itself(agent, queued, logged_in_client):
    entry = queued()
    client = logged_in_client(agent)

    with time_machine.travel(TUESDAY_10, tick=False):
        taken = client.post("/nurture/calls/desk/next/")
        desk = client.get("/nurture/calls/desk/")
        logged = client.post(
            f"/nurture/calls/desk/{entry.pk}/outcome/", {"outcome": "not_interested"}
        )

    assert (taken.status_code, taken["Location"]) == (302, "/nurture/calls/desk/")
    assert entry.lead.full_name in desk.content.decode()
    assert logged.status_code == 302
    assert CallEntry.objects.get(pk=entry.pk).outcome == "not_interested"


def test_marketing_builds_a_list_fills_it_and_sees_its_entries(
    marketing, agent, logged_in_client, make_callable
):
    leads = [make_callable(company_name="Utrecht Bakery") for _ in range(3)]
    make_callable(company_name="Delft Blue")
    client = logged_in_client(marketing)

    created = client.post(
        "/nurture/calls/new/",
        {
            "name": "Utrecht",
            "script_en": "Hi {first_name}",
            "call_days": ["0", "1", "2", "3", "4"],
            "opens_at": "09:00",
            "closes_at": "17:00",
            "time_zone": "Europe/Amsterdam",
            "holiday_country": "NL",
            "retry_delay_minutes": "240",
            "max_attempts": "3",
            "members": [str(agent.pk)],
            "is_active": "on",
        },
    )
    list_id = int(created["Location"].rstrip("/").split("/")[-1])
    filled = client.post(f"/nurture/calls/{list_id}/", {"query": "q=utrecht"}, follow=True)

    assert created.status_code == 302
    assert "3 leads added" in filled.content.decode()
    assert set(CallEntry.objects.values_list("lead_id", flat=True)) == {lead.pk for lead in leads}
    assert set(CallEntry.objects.values_list("origin", flat=True)) == {"filter"}
    assert Role.AGENT in dict(Role.choices)
