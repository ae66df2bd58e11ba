"""Leads moved by hand tell whoever gets them, once per receiver per move however many leads
moved; routing's own moves and a rep taking a lead themselves tell nobody twice."""

import pytest
from django_tasks import default_task_backend

from leadloop.accounts.actors import CLI
from leadloop.accounts.models import Role
from leadloop.distribution import services
from leadloop.distribution.tasks import tell_assigned_task
from leadloop.leads import services as lead_services
from leadloop.notifications.models import Notification
from tests.distribution.conftest import publish, ready_lead, team_push
from tests.factories.accounts import make_user
from tests.factories.leads import make_lead

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_queued_tasks():
    default_task_backend.clear()


def _queued():
    return [
        result.kwargs
        for result in default_task_backend.results
        if result.task.module_path.endswith("tell_assigned_task")
    ]


def _run_queued() -> int:
    made = sum(tell_assigned_task.call(**kwargs) for kwargs in _queued())
    default_task_backend.clear()
    return made


def _told():
    return list(
        Notification.objects.order_by("id").values_list("user__username", "kind", "title", "body")
    )


def test_a_manager_assigning_a_lead_tells_the_rep(
    source, manager, rep, django_capture_on_commit_callbacks
):
    lead = make_lead(source, first_name="Ann", last_name="de Vries")

    with django_capture_on_commit_callbacks(execute=True):
        lead_services.assign_lead(lead, by=manager, to=rep, reason="Knows the customer")
    made = _run_queued()

    assert made == 1
    assert _told() == [
        (
            "rep",
            "lead_assigned",
            "New lead for you: Ann de Vries",
            f"From {manager.display_name}: Knows the customer",
        )
    ]
    assert Notification.objects.get().url == f"/leads/{lead.pk}/"
    assert Notification.objects.get().lead_id == lead.pk


def test_a_bulk_move_of_many_leads_is_one_message_in_a_constant_number_of_queries(
    source, admin, rep, django_capture_on_commit_callbacks, django_assert_max_num_queries
):
    leads = [make_lead(source, first_name="Lead", last_name=f"N{i:02}") for i in range(30)]

    with django_capture_on_commit_callbacks(execute=True):
        result = lead_services.bulk_assign(leads, by=admin, to=rep, reason="Spring campaign")
    [task] = _queued()
    with django_assert_max_num_queries(8):
        made = tell_assigned_task.call(**task)

    assert (result.changed, made, len(task["moves"])) == (30, 1, 30)
    [(user, kind, title, body)] = _told()
    assert (user, kind, title) == ("rep", "leads_assigned", "30 new leads for you")
    assert body.startswith(f"From {admin.display_name}: Spring campaign. Leads: Lead N00, Lead N01")
    assert body.endswith("Lead N09 … (+20)")
    assert Notification.objects.get().url == "/leads/?owner=me&show=open"


def test_the_leads_of_a_leaving_rep_tell_the_one_who_takes_them_once(
    source, manager, rep, teammate, django_capture_on_commit_callbacks
):
    for _ in range(3):
        make_lead(source, assigned_to=rep)
    default_task_backend.clear()

    with django_capture_on_commit_callbacks(execute=True):
        lead_services.reassign_open_leads(rep, by=manager, to=teammate, reason="Rep left")
    made = _run_queued()

    assert made == 1
    assert _told() == [
        (
            "teammate",
            "leads_assigned",
            "3 new leads for you",
            _body_with_names(manager.display_name, "Rep left"),
        )
    ]


def _body_with_names(by, reason):
    [body] = Notification.objects.values_list("body", flat=True)
    assert body.startswith(f"From {by}: {reason}. Leads: ")
    return body


def test_the_operator_moving_leads_at_the_command_line_tells_the_receiver(
    source, rep, teammate, django_capture_on_commit_callbacks
):
    make_lead(source, assigned_to=rep, first_name="Bo", last_name="Bakker")
    default_task_backend.clear()

    with django_capture_on_commit_callbacks(execute=True):
        lead_services.reassign_open_leads(rep, by=CLI, to=teammate)
    _run_queued()

    assert _told() == [("teammate", "lead_assigned", "New lead for you: Bo Bakker", "From cli.")]


def test_a_lead_for_a_partner_tells_the_partners_users(
    source, admin, partner_org, partner_user, other_partner_user, django_capture_on_commit_callbacks
):
    colleague = make_user(Role.PARTNER, username="colleague", partner=partner_org)
    lead = make_lead(source, first_name="Cas", last_name="Visser")

    with django_capture_on_commit_callbacks(execute=True):
        lead_services.assign_lead(lead, by=admin, partner=partner_org)
    _run_queued()

    title = "New lead for your organisation: Cas Visser"
    assert sorted(_told()) == [
        ("colleague", "lead_for_partner", title, f"From {admin.display_name}."),
        ("partner", "lead_for_partner", title, f"From {admin.display_name}."),
    ]
    assert colleague.pk != other_partner_user.pk


def test_leads_put_in_a_pool_tell_its_manager_unless_the_manager_did_it(
    source, admin, manager, team, rep, django_capture_on_commit_callbacks
):
    first, second = make_lead(source), make_lead(source)

    with django_capture_on_commit_callbacks(execute=True):
        lead_services.bulk_assign([first, second], by=admin, team=team)
    _run_queued()
    with django_capture_on_commit_callbacks(execute=True):
        lead_services.assign_lead(make_lead(source), by=manager, team=team)
    _run_queued()

    assert [(u, k, t) for u, k, t, _b in _told()] == [
        ("manager", "pool_filled_by_hand", "2 leads were put in the pool of North")
    ]
    assert Notification.objects.get().url == f"/distribution/pool/?team={team.pk}"


def test_a_rep_taking_a_lead_from_the_pool_is_not_told_about_it(
    source, manager, team, rep, django_capture_on_commit_callbacks
):
    lead, pooled = make_lead(source), make_lead(source, team=team)
    default_task_backend.clear()

    with django_capture_on_commit_callbacks(execute=True):
        lead_services.assign_lead(lead, by=rep, to=rep)
        services.claim_lead(rep, pooled.pk)

    assert _queued() == []
    assert _told() == []


def test_routing_tells_the_rep_once(source, team, rep, django_capture_on_commit_callbacks):
    publish([], team_push(team))
    lead = ready_lead(source, first_name="Dirk", last_name="Smit")

    with django_capture_on_commit_callbacks(execute=True):
        services.route_lead(lead.pk)

    assert _queued() == []
    assert [(u, k, t) for u, k, t, _b in _told()] == [
        ("rep", "lead_assigned", "New lead for you: Dirk Smit")
    ]


def test_a_lead_moved_on_before_the_message_is_told_only_to_its_last_receiver(
    source, admin, rep, teammate, django_capture_on_commit_callbacks
):
    lead = make_lead(source, first_name="Eva", last_name="Mol")

    with django_capture_on_commit_callbacks(execute=True):
        lead_services.assign_lead(lead, by=admin, to=rep)
        lead_services.assign_lead(lead, by=admin, to=teammate)
    made = _run_queued()

    assert made == 1
    assert [(u, t) for u, _k, t, _b in _told()] == [("teammate", "New lead for you: Eva Mol")]


def test_a_release_and_a_refused_move_tell_nobody(
    source, rep, other_rep, manager, django_capture_on_commit_callbacks
):
    lead = make_lead(source, assigned_to=rep)
    default_task_backend.clear()

    with django_capture_on_commit_callbacks(execute=True):
        result = lead_services.bulk_assign([lead], by=manager, to=other_rep)
        lead_services.release_lead(lead, by=manager, reason="Back to routing")

    assert len(result.failed) == 1
    assert _queued() == []
    assert _told() == []
