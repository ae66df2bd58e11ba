"""Changes to a team's routing, a rep's capacity, absences and a partner's response time are in
the audit log with their values before and after; an unchanged save and a refused one are not."""

import datetime as dt

import pytest

from leadloop.accounts.models import AuditEvent
from leadloop.distribution import services
from leadloop.errors import NotAllowed

pytestmark = pytest.mark.django_db


def _entries():
    return list(
        AuditEvent.objects.filter(action="setting_changed")
        .order_by("id")
        .values("actor_label", "target_type", "target_id", "target_label", "data")
    )


def test_a_team_routing_change_is_audited_with_before_and_after(manager, team):
    services.set_team_routing(team, by=manager, strategy="round_robin", pool_alert_hours=4)
    services.set_team_routing(
        team,
        by=manager,
        strategy="load_balanced",
        work_days="12345",
        work_start=dt.time(9, 0),
        work_end=dt.time(17, 30),
        pool_alert_hours=4,
    )

    assert _entries() == [
        {
            "actor_label": manager.username,
            "target_type": "team",
            "target_id": str(team.pk),
            "target_label": "North",
            "data": {
                "setting": "team_routing",
                "before": {
                    "strategy": "round_robin",
                    "work_days": "1234567",
                    "work_start": None,
                    "work_end": None,
                },
                "after": {
                    "strategy": "load_balanced",
                    "work_days": "12345",
                    "work_start": "09:00:00",
                    "work_end": "17:30:00",
                },
            },
        }
    ]


def test_a_capacity_change_is_audited_against_the_defaults_the_first_time(manager, rep):
    services.set_capacity(rep, by=manager, max_open=20, weight=2, languages="nl, en")
    services.set_capacity(rep, by=manager, max_open=25, weight=2, languages="nl, en")

    assert [(e["target_type"], e["target_id"], e["target_label"]) for e in _entries()] == [
        ("user", str(rep.pk), "rep"),
        ("user", str(rep.pk), "rep"),
    ]
    assert [e["data"] for e in _entries()] == [
        {
            "setting": "rep_capacity",
            "before": {"max_open": None, "weight": 1, "languages": ""},
            "after": {"max_open": 20, "weight": 2, "languages": "nl, en"},
        },
        {"setting": "rep_capacity", "before": {"max_open": 20}, "after": {"max_open": 25}},
    ]


def test_adding_and_removing_an_absence_is_audited_without_its_reason(manager, rep):
    absence = services.add_absence(
        rep,
        by=manager,
        starts_on=dt.date(2026, 7, 1),
        ends_on=dt.date(2026, 7, 14),
        reason="Operation, then rest",
    )
    services.remove_absence(absence.pk, by=manager)

    values = {"absence_id": absence.pk, "starts_on": "2026-07-01", "ends_on": "2026-07-14"}
    assert [e["data"] for e in _entries()] == [
        {"setting": "absence", "before": None, "after": values},
        {"setting": "absence", "before": values, "after": None},
    ]
    assert "Operation" not in str(list(AuditEvent.objects.values()))


def test_a_partners_response_hours_change_is_audited(admin, partner_org):
    services.set_response_hours(partner_org, by=admin, hours=24)
    services.set_response_hours(partner_org, by=admin, hours=24)

    assert _entries() == [
        {
            "actor_label": admin.username,
            "target_type": "partner",
            "target_id": str(partner_org.pk),
            "target_label": "Partner A",
            "data": {
                "setting": "partner_response_hours",
                "before": {"response_hours": 48},
                "after": {"response_hours": 24},
            },
        }
    ]


def test_a_refused_change_leaves_no_audit_entry(manager, other_rep, other_team):
    with pytest.raises(NotAllowed):
        services.set_capacity(other_rep, by=manager, max_open=3)
    with pytest.raises(NotAllowed):
        services.set_team_routing(other_team, by=manager, strategy="weighted")

    assert _entries() == []
