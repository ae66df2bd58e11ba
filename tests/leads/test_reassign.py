"""Moving leads with a reason: one lead, many from the list, and a leaving rep's whole open book
(service, page, API and CLI). Issue 13, item 4."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from leadloop.accounts import services as accounts_services
from leadloop.accounts.actors import SYSTEM
from leadloop.errors import NotAllowed, ValidationFailed
from leadloop.leads import services
from leadloop.leads.models import Activity, ActivityKind, Lead, LeadStatus
from tests.factories.leads import make_lead

MOVE = reverse("leads:leads-move")


@pytest.fixture
def book(source, rep, lost_reason):
    """Three open leads and two closed ones that `rep` works."""
    open_leads = [make_lead(source, assigned_to=rep, last_name=f"Open{i}") for i in range(3)]
    won = make_lead(source, assigned_to=rep, last_name="Won")
    services.transition(won, to=LeadStatus.CONTACTED, by=SYSTEM)
    services.transition(won, to=LeadStatus.WON, by=SYSTEM, order_value=100)
    lost = make_lead(source, assigned_to=rep, last_name="Lost")
    services.transition(lost, to=LeadStatus.LOST, by=SYSTEM, lost_reason=lost_reason)
    return {"open": open_leads, "closed": [won, lost]}


def _last_assignment(lead: Lead) -> Activity:
    return lead.activities.filter(kind=ActivityKind.ASSIGNED).latest("created_at", "id")


def test_a_leaving_reps_open_leads_move_with_the_reason_and_closed_ones_stay(
    book, rep, teammate, manager
):
    result = services.reassign_open_leads(rep, by=manager, to=teammate, reason="Daan left the team")

    assert result.changed == 3
    assert result.failed == {}
    for lead in book["open"]:
        lead.refresh_from_db()
        assert lead.assigned_to == teammate
        moved = _last_assignment(lead)
        assert moved.message == "Daan left the team"
        assert moved.actor_user_id == manager.pk
    for lead in book["closed"]:
        lead.refresh_from_db()
        assert lead.assigned_to == rep


def test_a_deactivated_reps_leads_go_to_the_team_pool(book, rep, team, admin):
    accounts_services.set_user_active(rep, active=False, by=admin)

    result = services.reassign_open_leads(rep, by=admin, team=team, reason="Left")

    assert result.changed == 3
    assert set(
        Lead.objects.filter(pk__in=[lead.pk for lead in book["open"]]).values_list(
            "assigned_to", "team", "status"
        )
    ) == {(None, team.pk, LeadStatus.SALES_READY)}


def test_who_may_move_whose_leads(book, rep, other_rep, teammate, manager, partner_user):
    with pytest.raises(NotAllowed):
        services.reassign_open_leads(rep, by=teammate, to=manager)  # a rep: nobody's
    with pytest.raises(NotAllowed):
        services.reassign_open_leads(other_rep, by=manager, to=teammate)  # another team's rep
    with pytest.raises(NotAllowed):
        services.reassign_open_leads(rep, by=partner_user, to=teammate)
    with pytest.raises(ValidationFailed):
        services.reassign_open_leads(rep, by=manager, to=rep)
    with pytest.raises(ValidationFailed):
        services.reassign_open_leads(rep, by=manager)
    assert Lead.objects.filter(assigned_to=rep).count() == 5


def test_one_lead_and_many_from_the_list_carry_the_reason(
    logged_in_client, source, manager, rep, teammate
):
    one = make_lead(source, assigned_to=rep)
    many = [make_lead(source, assigned_to=rep) for _ in range(2)]
    client = logged_in_client(manager)

    client.post(
        reverse("leads:lead-assign", args=[one.pk]),
        {"assignee": f"user:{teammate.pk}", "reason": "Speaks German"},
    )
    client.post(
        reverse("leads:lead-bulk"),
        {
            "ids": [lead.pk for lead in many],
            "action": "assign",
            "bulk-assignee": f"user:{teammate.pk}",
            "bulk-reason": "Holiday cover",
            "query": "",
        },
    )
    page = logged_in_client(teammate).get(reverse("leads:lead-detail", args=[one.pk])).text

    assert _last_assignment(one).message == "Speaks German"
    assert {_last_assignment(lead).message for lead in many} == {"Holiday cover"}
    assert "Speaks German" in page  # the rep who got it sees why


def test_the_move_page_moves_a_book_and_is_not_for_reps(logged_in_client, book, rep, manager, team):
    client = logged_in_client(manager)

    form = client.get(MOVE, {"from": rep.pk})
    done = client.post(
        MOVE, {"owner": rep.pk, "assignee": f"team:{team.pk}", "reason": "Reorganised"}, follow=True
    )
    missing = client.post(MOVE, {"owner": rep.pk, "assignee": ""})
    as_rep = logged_in_client(rep).get(MOVE)

    assert form.status_code == 200
    assert f'<option value="{rep.pk}" selected>' in form.text
    assert "3 open leads moved." in done.text
    assert missing.status_code == 422
    assert as_rep.status_code == 404
    assert Lead.objects.filter(assigned_to=rep).count() == 2  # the closed ones


def test_the_api_moves_a_book_and_hides_other_teams_people(
    api_client_for, book, rep, other_rep, manager, teammate
):
    client = api_client_for(manager)

    moved = client.post(
        "/api/v1/leads/reassign",
        {"from_user_id": rep.pk, "user_id": teammate.pk, "reason": "Left"},
        content_type="application/json",
    )
    hidden = client.post(
        "/api/v1/leads/reassign",
        {"from_user_id": other_rep.pk, "user_id": teammate.pk},
        content_type="application/json",
    )
    as_rep = api_client_for(teammate).post(
        "/api/v1/leads/reassign",
        {"from_user_id": teammate.pk, "team_id": rep.team_id},
        content_type="application/json",
    )

    assert moved.status_code == 200
    assert moved.json() == {"moved": 3, "refused": {}}
    assert hidden.status_code == 404
    assert as_rep.status_code == 404
    assert hidden["Content-Type"].startswith("application/problem+json")


def test_the_cli_moves_a_book(book, rep, teammate):
    out = io.StringIO()

    call_command(
        "reassign", "--from", rep.username, "--to", teammate.username, "--reason", "Left",
        "--json", stdout=out,
    )  # fmt: skip

    assert json.loads(out.getvalue()) == {"moved": 3, "refused": {}}
    assert {_last_assignment(lead).message for lead in book["open"]} == {"Left"}
    with pytest.raises(CommandError, match="No user"):
        call_command("reassign", "--from", "nobody", "--to", teammate.username)
    with pytest.raises(CommandError):
        call_command("reassign", "--from", rep.username, "--to", rep.username)
