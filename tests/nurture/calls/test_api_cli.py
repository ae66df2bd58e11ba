"""The API (problem details on errors) and `leadloop calls`."""

from __future__ import annotations

import json

import pytest
import time_machine
from django.core.management import CommandError, call_command

from leadloop.nurture.calls import services as calls
from leadloop.nurture.calls.models import CallEntry, DoNotCall
from tests.nurture.calls.conftest import TUESDAY_10

pytestmark = pytest.mark.django_db
JSON = "application/json"


def _post(client, path, body=None):
    return client.post(path, json.dumps(body or {}), content_type=JSON)


def test_marketing_manages_a_list_and_an_agent_works_it_through_the_api(
    marketing, agent, api_client_for, make_callable
):
    admin_api, agent_api = api_client_for(marketing), api_client_for(agent)
    lead = make_callable(first_name="Ann")

    created = _post(
        admin_api,
        "/api/v1/nurture/calls/lists",
        {"name": "Spring", "script_en": "Hi {first_name}", "members": [agent.pk],
         "holiday_country": "", "days_off": ["2026-12-24"]},
    )  # fmt: skip
    list_id = created.json()["id"]
    patched = admin_api.patch(
        f"/api/v1/nurture/calls/lists/{list_id}", json.dumps({"max_attempts": 2}), content_type=JSON
    )
    with time_machine.travel(TUESDAY_10, tick=False):
        added = _post(
            admin_api, f"/api/v1/nurture/calls/lists/{list_id}/entries", {"lead_id": lead.pk}
        )
        taken = _post(agent_api, "/api/v1/nurture/calls/desk/next")
        entry_id = taken.json()["id"]
        logged = _post(
            agent_api,
            f"/api/v1/nurture/calls/entries/{entry_id}/outcome",
            {"outcome": "not_interested", "duration": 42, "notes": "Has a supplier"},
        )
        none_left = _post(agent_api, "/api/v1/nurture/calls/desk/next")
        stats = agent_api.get("/api/v1/nurture/calls/stats?days=1")

    assert created.status_code == 201
    assert created.json()["days_off"] == ["2026-12-24"]
    assert (patched.status_code, patched.json()["max_attempts"]) == (200, 2)
    assert added.status_code == 201
    assert taken.status_code == 200
    assert taken.json()["script_html"] == "<p>Hi Ann</p>\n"
    assert logged.status_code == 201
    assert logged.json()["entry"]["state"] == "done"
    assert none_left.status_code == 204
    [row] = stats.json()
    assert (row["calls"], row["reached"], row["reach_rate"]) == (1, 1, 1.0)


def test_errors_are_problem_documents(marketing, agent, api_client_for, queued, call_list):
    api = api_client_for(marketing)
    entry = queued()

    invalid = _post(
        api, "/api/v1/nurture/calls/lists", {"name": "X", "script_en": "Hi {frist_name}"}
    )
    no_phone_lead = _post(api, "/api/v1/nurture/calls/dnc", {"phone": "not a number"})
    calls.add_dnc(entry.lead.phone_raw, by=marketing)
    other = calls.create_call_list(by=marketing, name="Other", script_en="Hi")
    refused = _post(
        api, f"/api/v1/nurture/calls/lists/{other.pk}/entries", {"lead_id": entry.lead_id}
    )
    bad_outcome = _post(
        api, f"/api/v1/nurture/calls/entries/{entry.pk}/outcome", {"outcome": "maybe"}
    )
    unknown = api.get("/api/v1/nurture/calls/lists/999999")

    for answer, status in ((invalid, 422), (no_phone_lead, 422), (refused, 409),
                           (bad_outcome, 422), (unknown, 404)):  # fmt: skip
        assert answer.status_code == status
        assert answer["Content-Type"].startswith("application/problem+json")
    [error] = invalid.json()["errors"]
    assert (error["field"], "frist_name" in error["detail"]) == ("script_en", True)
    assert "do-not-call" in refused.json()["detail"]


def test_the_do_not_call_list_through_the_api(marketing, api_client_for):
    api = api_client_for(marketing)

    added = _post(api, "/api/v1/nurture/calls/dnc", {"phone": "06 1234 0011", "reason": "Letter"})
    listed = api.get("/api/v1/nurture/calls/dnc?q=0011")
    removed = api.delete(f"/api/v1/nurture/calls/dnc/{added.json()['id']}")

    assert (added.status_code, added.json()["phone_e164"]) == (201, "+31612340011")
    assert [e["phone_e164"] for e in listed.json()] == ["+31612340011"]
    assert removed.status_code == 204
    assert not DoNotCall.objects.exists()


def test_the_cli_lists_adds_and_reports(call_list, make_callable, source, capsys):
    from tests.factories.leads import make_lead

    lead = make_callable()
    no_phone = make_lead(source, email="x@example.com")

    call_command("calls", "add", call_list.name, str(lead.pk))
    with pytest.raises(CommandError, match="1 of 2 leads not added"):
        call_command("calls", "add", str(call_list.pk), str(lead.pk), str(no_phone.pk))
    call_command("calls", "list", "--json")
    out = capsys.readouterr().out

    assert f"Lead {no_phone.pk}: Lead #{no_phone.pk} has no phone number" in out
    assert CallEntry.objects.filter(lead=lead).count() == 1
    listed = json.loads(out[out.index("[") :])
    assert listed[0]["name"] == call_list.name
    assert listed[0]["waiting"] == 1


def test_the_cli_fails_on_an_unknown_list_and_reports_figures(db, capsys):
    with pytest.raises(CommandError, match="No call list"):
        call_command("calls", "add", "Nope", "1")
    with pytest.raises(CommandError, match="--days"):
        call_command("calls", "stats", "--days", "0")
    call_command("calls", "stats")
    assert "No calls in the last 7 days." in capsys.readouterr().out
