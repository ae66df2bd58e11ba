"""The permission matrix, through the API: who sees and changes which lead."""

import json

import pytest

from leadloop.leads.models import Activity
from tests.factories.leads import make_lead

LEADS = [
    "rep",
    "teammate",
    "north_pool",
    "other_rep",
    "south_pool",
    "partner",
    "other_partner",
    "unowned",
]
VISIBLE = {
    "admin": set(LEADS),
    "marketing": set(LEADS),
    "manager": {"rep", "teammate", "north_pool"},
    "rep": {"rep", "north_pool"},
    "other_rep": {"other_rep", "south_pool"},
    "partner_user": {"partner"},
    "other_partner_user": {"other_partner"},
}


@pytest.fixture
def world(request, source, team, other_team, partner_org, other_partner_org):
    users = {name: request.getfixturevalue(name) for name in VISIBLE}
    users["teammate"] = request.getfixturevalue("teammate")
    leads = {
        "rep": make_lead(source, assigned_to=users["rep"]),
        "teammate": make_lead(source, assigned_to=users["teammate"]),
        "north_pool": make_lead(source, team=team),
        "other_rep": make_lead(source, assigned_to=users["other_rep"]),
        "south_pool": make_lead(source, team=other_team),
        "partner": make_lead(source, partner=partner_org),
        "other_partner": make_lead(source, partner=other_partner_org),
        "unowned": make_lead(source),
    }
    return users, leads


@pytest.mark.parametrize("role", sorted(VISIBLE))
def test_list_shows_exactly_the_leads_of_the_role(world, api_client_for, role):
    users, leads = world
    client = api_client_for(users[role])

    body = json.loads(client.get("/api/v1/leads?limit=200").content)

    expected = {leads[name].pk for name in VISIBLE[role]}
    assert {item["id"] for item in body["items"]} == expected


@pytest.mark.parametrize("role", sorted(VISIBLE))
def test_reading_someone_elses_lead_is_404(world, api_client_for, role):
    users, leads = world
    client = api_client_for(users[role])

    statuses = {
        name: client.get(f"/api/v1/leads/{lead.pk}").status_code for name, lead in leads.items()
    }
    timelines = {
        name: client.get(f"/api/v1/leads/{lead.pk}/timeline").status_code
        for name, lead in leads.items()
    }

    expected = {name: 200 if name in VISIBLE[role] else 404 for name in LEADS}
    assert statuses == expected
    assert timelines == expected


@pytest.mark.parametrize("role", sorted(set(VISIBLE) - {"admin", "marketing"}))
def test_denied_writes_change_nothing_and_write_no_timeline(world, api_client_for, role):
    users, leads = world
    client = api_client_for(users[role])
    hidden = [lead for name, lead in leads.items() if name not in VISIBLE[role]]
    before = Activity.objects.count()
    statuses = {lead.pk: lead.status for lead in hidden}

    answers = []
    for lead in hidden:
        answers.append(
            client.patch(
                f"/api/v1/leads/{lead.pk}", {"city": "Hacked"}, content_type="application/json"
            ).status_code
        )
        answers.append(
            client.post(
                f"/api/v1/leads/{lead.pk}/transition",
                {"to": "disqualified"},
                content_type="application/json",
            ).status_code
        )
        answers.append(
            client.post(
                f"/api/v1/leads/{lead.pk}/activities",
                {"kind": "note", "message": "x"},
                content_type="application/json",
            ).status_code
        )
        answers.append(
            client.post(
                f"/api/v1/leads/{lead.pk}/assign",
                {"user_id": users["rep"].pk},
                content_type="application/json",
            ).status_code
        )

    assert set(answers) == {404}
    assert Activity.objects.count() == before
    for lead in hidden:
        lead.refresh_from_db()
        assert lead.city == ""
        assert lead.status == statuses[lead.pk]


def test_rep_can_take_a_pool_lead_and_then_keeps_seeing_it(world, api_client_for):
    users, leads = world
    client = api_client_for(users["rep"])

    response = client.post(
        f"/api/v1/leads/{leads['north_pool'].pk}/assign",
        {"user_id": users["rep"].pk},
        content_type="application/json",
    )

    assert response.status_code == 200
    teammate_view = api_client_for(users["teammate"]).get(f"/api/v1/leads/{leads['north_pool'].pk}")
    assert teammate_view.status_code == 404


def test_partner_user_cannot_assign_even_its_own_lead(world, api_client_for):
    users, leads = world
    before = Activity.objects.count()

    response = api_client_for(users["partner_user"]).post(
        f"/api/v1/leads/{leads['partner'].pk}/assign",
        {"team_id": users["rep"].team_id},
        content_type="application/json",
    )

    assert response.status_code == 403
    assert Activity.objects.count() == before


def test_inactive_users_key_stops_working(world, api_client_for):
    users, _ = world
    client = api_client_for(users["rep"])
    users["rep"].is_active = False
    users["rep"].save()

    assert client.get("/api/v1/leads").status_code == 401
