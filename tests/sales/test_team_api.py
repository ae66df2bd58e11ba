"""/api/v1/sales/team, /teams/{id}/rules, /sla-targets and /sla/breaches: the same answers as
the pages, scoped the same way, with refusals as problem details."""

import pytest
import time_machine

from leadloop.accounts.models import Role
from leadloop.sales.models import SlaTarget, TeamSla
from leadloop.sales.services import rules
from tests.factories.accounts import make_user
from tests.sales.team_world import NOW, ams, build

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_rules():
    rules.forget()
    yield
    rules.forget()


@pytest.fixture
def world(source, team, manager, rep, teammate, other_rep):
    return build(source=source, team=team, rep=rep, teammate=teammate, other_rep=other_rep)


def _problem(response, status):
    assert response.status_code == status
    assert response["Content-Type"] == "application/problem+json"
    return response.json()


def _fields(body):
    """The fields a problem document names, with their messages."""
    return {error["field"]: error["detail"] for error in body.get("errors", [])}


def test_the_team_view_of_a_manager(world, api_client_for, manager, team):
    with time_machine.travel(NOW, tick=False):
        body = api_client_for(manager).get("/api/v1/sales/team").json()

    assert body["team"] == {"id": team.pk, "name": "North"}
    assert body["teams"] == [{"id": team.pk, "name": "North"}]
    measures = ("open_leads", "pool", "owned", "overdue", "overdue_percent", "no_next_step")
    assert [body[m] for m in measures] == [5, 1, 4, 1, 25, 1]
    assert (body["followed_up_percent"], body["breached_this_week"], body["late_now"]) == (75, 1, 1)
    rep_row = next(r for r in body["reps"] if r["username"] == "rep")
    assert rep_row == {
        "user_id": rep_row["user_id"],
        "username": "rep",
        "name": rep_row["name"],
        "is_member": True,
        "open_leads": 2,
        "overdue": 1,
        "no_next_step": 1,
        "not_contacted": 1,
        "tasks_today": 1,
    }
    assert [lead["id"] for lead in body["overdue_leads"]] == [world.overdue.pk]
    assert body["overdue_leads"][0]["owner"] == rep_row["name"]
    assert [lead["id"] for lead in body["no_next_step_leads"]] == [world.bare.pk]
    [breach] = body["breached_leads"]
    assert (breach["lead_id"], breach["state"]) == (world.bare.pk, "running")
    assert breach["breached_at"].startswith("2026-11-03T09:05:00")


def test_another_team_is_not_found_for_a_manager(world, api_client_for, manager, other_team):
    client = api_client_for(manager)

    assert _problem(client.get(f"/api/v1/sales/team?team={other_team.pk}"), 404)
    assert _problem(client.get(f"/api/v1/sales/teams/{other_team.pk}/rules"), 404)


@pytest.mark.parametrize("who", ["rep", "partner_user"])
def test_reps_and_partners_are_refused_everywhere(request, world, api_client_for, team, who):
    client = api_client_for(request.getfixturevalue(who))

    for path in (
        "/api/v1/sales/team",
        f"/api/v1/sales/team?team={team.pk}",
        f"/api/v1/sales/teams/{team.pk}/rules",
        "/api/v1/sales/sla-targets",
        "/api/v1/sales/sla/breaches",
    ):
        assert _problem(client.get(path), 403)["title"] == "Not allowed", path
    refused = client.put(
        f"/api/v1/sales/teams/{team.pk}/rules",
        {"target_minutes": 5},
        content_type="application/json",
    )
    assert _problem(refused, 403)
    assert not TeamSla.objects.exists()


def test_an_admin_with_no_teams_gets_an_empty_view(api_client_for, admin):
    body = api_client_for(admin).get("/api/v1/sales/team").json()

    assert body["team"] is None
    assert (body["open_leads"], body["reps"], body["overdue_leads"]) == (0, [], [])


def test_rules_are_read_with_the_defaults_and_changed_in_part(api_client_for, manager, team):
    client = api_client_for(manager)

    with time_machine.travel(ams(2026, 11, 6, 17, 55), tick=False):
        before = client.get(f"/api/v1/sales/teams/{team.pk}/rules").json()
        changed = client.put(
            f"/api/v1/sales/teams/{team.pk}/rules",
            {"work_days": "1234", "target_minutes": 60, "opens": "08:30"},
            content_type="application/json",
        )

    assert before["is_default"] is True
    assert (before["work_days"], before["business_day_minutes"]) == ("12345", 540)
    assert before["due_if_received_now"].startswith("2026-11-09T16:55:00")
    assert changed.status_code == 200
    after = changed.json()
    assert (after["work_days"], after["target_minutes"], after["opens"]) == ("1234", 60, "08:30:00")
    assert (after["time_zone"], after["is_default"]) == ("Europe/Amsterdam", False)
    # Friday is no working day any more: Monday 08:30 plus one business hour (in UTC).
    assert after["due_if_received_now"].startswith("2026-11-09T08:30:00")
    assert TeamSla.objects.get(team=team).work_days == "0123"


@pytest.mark.parametrize(
    ("payload", "field", "message"),
    [
        ({"time_zone": "Mars/Olympus_Mons"}, "time_zone", "Not a known time zone."),
        ({"opens": "18:00", "closes": "09:00"}, "closes", "The day must end after it begins."),
        ({"holiday_country": "XX"}, "holiday_country", "No holiday calendar"),
        ({"work_days": "1289"}, "work_days", "Choose one or more working days."),
        ({"time_zone": None}, "time_zone", "Required."),
        ({"remind_at_percent": 150}, "remind_at_percent", "Between 0"),
    ],
)
def test_invalid_rules_answer_problem_details_naming_the_field(
    api_client_for, manager, team, payload, field, message
):
    response = api_client_for(manager).put(
        f"/api/v1/sales/teams/{team.pk}/rules", payload, content_type="application/json"
    )

    fields = _fields(_problem(response, 422))
    assert list(fields) == [field]
    assert message in fields[field]
    assert not TeamSla.objects.exists()


def test_a_manager_may_not_change_a_team_they_only_belong_to(api_client_for, team):
    member = make_user(Role.SALES_MANAGER, team=team)

    response = api_client_for(member).put(
        f"/api/v1/sales/teams/{team.pk}/rules",
        {"target_minutes": 60},
        content_type="application/json",
    )

    assert "teams you manage" in _problem(response, 403)["detail"]
    assert not TeamSla.objects.exists()


def test_targets_are_listed_added_and_removed(api_client_for, manager, admin, team, source):
    client = api_client_for(manager)
    everyone = rules.set_target(by=admin, fit_grade="A", business_minutes=60)

    added = client.post(
        "/api/v1/sales/sla-targets",
        {"team_id": team.pk, "source_id": source.pk, "business_minutes": 240},
        content_type="application/json",
    )
    listed = client.get(f"/api/v1/sales/sla-targets?team={team.pk}").json()
    refused = client.delete(f"/api/v1/sales/sla-targets/{everyone.pk}")
    removed = client.delete(f"/api/v1/sales/sla-targets/{added.json()['id']}")

    assert added.status_code == 201
    assert added.json() | {"id": 0, "updated_at": ""} == {
        "id": 0,
        "team_id": team.pk,
        "team": "North",
        "source_id": source.pk,
        "source": "Website",
        "fit_grade": "",
        "business_minutes": 240,
        "updated_at": "",
    }
    assert sorted((t["team"] or "", t["fit_grade"]) for t in listed) == [("", "A"), ("North", "")]
    assert _problem(refused, 403)
    assert removed.status_code == 204
    assert list(SlaTarget.objects.values_list("pk", flat=True)) == [everyone.pk]


@pytest.mark.parametrize(
    ("payload", "status", "field"),
    [
        ({"fit_grade": "A", "business_minutes": 60}, 403, None),
        ({"team_id": "OTHER", "business_minutes": 60}, 422, "team_id"),
        ({"team_id": "TEAM", "business_minutes": 0}, 422, "business_minutes"),
        ({"team_id": "TEAM", "fit_grade": "Z", "business_minutes": 60}, 422, "fit_grade"),
        ({"team_id": "TEAM", "source_id": 2**40, "business_minutes": 60}, 422, "source_id"),
    ],
)
def test_targets_a_manager_may_not_add(
    api_client_for, manager, team, other_team, payload, status, field
):
    ids = {"TEAM": team.pk, "OTHER": other_team.pk}
    payload = {k: ids.get(v, v) if isinstance(v, str) else v for k, v in payload.items()}

    response = api_client_for(manager).post(
        "/api/v1/sales/sla-targets", payload, content_type="application/json"
    )

    body = _problem(response, status)
    assert list(_fields(body)) == ([field] if field else [])
    assert not SlaTarget.objects.exists()


def test_breaches_since_a_moment_are_the_managers_teams_only(world, api_client_for, manager):
    since = ams(2026, 10, 26, 0, 0).isoformat()

    with time_machine.travel(NOW, tick=False):
        response = api_client_for(manager).get("/api/v1/sales/sla/breaches", {"since": since})
        recent = api_client_for(manager).get("/api/v1/sales/sla/breaches")

    assert response.status_code == 200
    assert [b["lead_id"] for b in response.json()] == [world.bare.pk, world.old.pk]
    assert [b["state"] for b in response.json()] == ["running", "late"]
    assert [b["lead_id"] for b in recent.json()] == [world.bare.pk]


def test_a_bad_since_is_a_problem(api_client_for, manager):
    response = api_client_for(manager).get("/api/v1/sales/sla/breaches?since=yesterday")

    assert list(_fields(_problem(response, 422))) == ["since"]
