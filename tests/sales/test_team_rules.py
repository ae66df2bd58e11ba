"""A team's first-contact rules and targets: who may change them (a manager only their own
teams, admins any) and what is refused, with the field it is about."""

import datetime as dt

import pytest
import time_machine
from django.db import IntegrityError, transaction

from leadloop.accounts.models import AuditEvent, Role
from leadloop.errors import NotAllowed, NotFound, ValidationFailed
from leadloop.sales.models import SlaTarget, TeamSla
from leadloop.sales.services import rules
from tests.factories.accounts import make_team, make_user
from tests.sales.team_world import ams

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_rules():
    rules.forget()
    yield
    rules.forget()


def _team_sla_audits():
    return AuditEvent.objects.filter(target_type="team_sla").count()


def test_the_manager_of_a_team_sets_its_rules(manager, team):
    rules.set_team_rules(team, {"work_days": "0123", "target_minutes": 120}, by=manager)

    saved = TeamSla.objects.get(team=team)
    assert (saved.work_days, saved.target_minutes) == ("0123", 120)
    assert saved.time_zone == "Europe/Amsterdam"
    assert _team_sla_audits() == 1


def test_a_manager_cannot_change_another_teams_rules(manager, other_team):
    with pytest.raises(NotAllowed, match="teams you manage"):
        rules.set_team_rules(other_team, {"target_minutes": 60}, by=manager)

    assert not TeamSla.objects.exists()
    assert _team_sla_audits() == 0


def test_being_in_a_team_is_not_managing_it(team):
    someone = make_user(Role.SALES_MANAGER, team=team)

    with pytest.raises(NotAllowed):
        rules.set_team_rules(team, {"target_minutes": 60}, by=someone)
    assert not TeamSla.objects.exists()


@pytest.mark.parametrize("who", ["rep", "marketing", "partner_user"])
def test_only_managers_and_admins_change_rules(request, team, who):
    with pytest.raises(NotAllowed):
        rules.set_team_rules(team, {"target_minutes": 60}, by=request.getfixturevalue(who))
    assert not TeamSla.objects.exists()


def test_an_admin_sets_any_teams_rules_and_targets_for_every_team(admin, other_team):
    rules.set_team_rules(other_team, {"on_breach": "pool"}, by=admin)
    target = rules.set_target(by=admin, business_minutes=60, fit_grade="A")

    assert TeamSla.objects.get(team=other_team).on_breach == "pool"
    assert (target.team_id, target.fit_grade) == (None, "A")


def test_one_target_per_team_source_and_grade_even_when_some_are_empty(admin, team):
    """Setting it again changes it; a second row for the same "every team, grade A" is refused
    by the database itself, on SQLite as on PostgreSQL (no NULLS NOT DISTINCT needed)."""
    first = rules.set_target(by=admin, business_minutes=60, fit_grade="A")
    again = rules.set_target(by=admin, business_minutes=30, fit_grade="A")
    assert again.pk == first.pk
    assert SlaTarget.objects.get().business_minutes == 30
    with pytest.raises(IntegrityError), transaction.atomic():
        SlaTarget.objects.create(business_minutes=90, fit_grade="A", updated_at=first.updated_at)
    rules.set_target(by=admin, team=team, business_minutes=60, fit_grade="A")
    assert SlaTarget.objects.count() == 2


def test_a_manager_sets_targets_for_their_team_only(manager, team, other_team, source):
    mine = rules.set_target(by=manager, team=team, source=source, business_minutes=240)

    with pytest.raises(NotAllowed, match="every team"):
        rules.set_target(by=manager, fit_grade="A", business_minutes=60)
    with pytest.raises(NotAllowed):
        rules.set_target(by=manager, team=other_team, business_minutes=60)
    assert list(SlaTarget.objects.values_list("pk", flat=True)) == [mine.pk]


def test_a_manager_removes_their_teams_targets_but_not_others(manager, admin, team, other_team):
    mine = rules.set_target(by=manager, team=team, business_minutes=240)
    everyone = rules.set_target(by=admin, fit_grade="A", business_minutes=60)
    theirs = rules.set_target(by=admin, team=other_team, business_minutes=60)

    with pytest.raises(NotAllowed):
        rules.delete_target(everyone.pk, by=manager)
    with pytest.raises(NotFound):
        rules.delete_target(theirs.pk, by=manager)
    rules.delete_target(mine.pk, by=manager)

    assert sorted(SlaTarget.objects.values_list("pk", flat=True)) == [everyone.pk, theirs.pk]


@pytest.mark.parametrize(
    ("values", "field", "message"),
    [
        ({"time_zone": "Mars/Olympus_Mons"}, "time_zone", "Not a known time zone."),
        ({"time_zone": "../../etc/passwd"}, "time_zone", "Not a known time zone."),
        ({"opens": dt.time(18, 0), "closes": dt.time(9, 0)}, "closes", "must end after"),
        ({"opens": dt.time(9, 0), "closes": dt.time(9, 0)}, "closes", "must end after"),
        ({"holiday_country": "XX"}, "holiday_country", "No holiday calendar"),
        ({"holiday_country": "NLD"}, "holiday_country", "No holiday calendar"),
        (
            {"holiday_country": "DE", "holiday_subdivision": "ZZ"},
            "holiday_subdivision",
            "No holiday calendar",
        ),
        ({"work_days": ""}, "work_days", "one or more working days"),
        ({"work_days": "0178"}, "work_days", "one or more working days"),
        ({"remind_at_percent": 100}, "remind_at_percent", "Between 0"),
        ({"target_minutes": 0}, "target_minutes", "Between one minute"),
        ({"on_breach": "fire"}, "on_breach", "Not a known choice."),
    ],
)
def test_rules_that_make_no_sense_are_refused_by_field(manager, team, values, field, message):
    with pytest.raises(ValidationFailed) as refused:
        rules.set_team_rules(team, values, by=manager)

    assert list(refused.value.errors) == [field]
    assert message in refused.value.errors[field][0]
    assert not TeamSla.objects.exists()


def test_german_holidays_of_a_region_are_accepted(manager, team):
    rules.set_team_rules(team, {"holiday_country": "de", "holiday_subdivision": "BY"}, by=manager)

    saved = TeamSla.objects.get(team=team)
    assert (saved.holiday_country, saved.holiday_subdivision) == ("DE", "BY")


def test_the_preview_says_when_a_lead_received_now_is_due(manager, team):
    friday_evening = ams(2026, 11, 6, 17, 55)

    assert rules.due_if_received(team.pk, at=friday_evening) == ams(2026, 11, 9, 17, 55)
    rules.set_team_rules(team, {"target_minutes": 60}, by=manager)
    rules.forget()
    assert rules.due_if_received(team.pk, at=friday_evening) == ams(2026, 11, 9, 9, 55)


def test_new_rules_apply_to_new_clocks_only(manager, team, rep, source):
    from leadloop.sales.models import FirstContactClock
    from leadloop.sales.services import clocks
    from tests.factories.leads import make_lead

    with time_machine.travel(ams(2026, 11, 3, 10, 0), tick=False):
        first = make_lead(source, assigned_to=rep)
        clocks.follow([first.pk])
        rules.set_team_rules(team, {"target_minutes": 60}, by=manager)
        rules.forget()
        second = make_lead(source, assigned_to=rep)
        clocks.follow([second.pk])

    assert FirstContactClock.objects.get(pk=first.pk).due_at == ams(2026, 11, 4, 10, 0)
    assert FirstContactClock.objects.get(pk=second.pk).due_at == ams(2026, 11, 3, 11, 0)


def test_a_team_managed_by_someone_else_stays_theirs(team):
    boss = make_user(Role.SALES_MANAGER, username="boss")
    make_team(team.name, manager=boss)
    former = make_user(Role.SALES_MANAGER, username="former")

    rules.set_team_rules(team, {"target_minutes": 30}, by=boss)
    with pytest.raises(NotAllowed):
        rules.set_team_rules(team, {"target_minutes": 90}, by=former)
    assert TeamSla.objects.get(team=team).target_minutes == 30
