"""Alerts on the hand-made November: each subject is told once when it starts to breach and
once when it recovers; a source that stops sending in its usual hours; who may set what."""

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.core.management import call_command

from leadloop.accounts.actors import SYSTEM
from leadloop.analytics.models import AlertKind, AlertState
from leadloop.analytics.services import alerts
from leadloop.errors import NotAllowed, ValidationFailed
from leadloop.leads import services as lead_services
from leadloop.notifications.models import Notification
from tests.analytics.world import NOW, ams, build
from tests.factories.leads import make_lead, make_source

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(rep, teammate, team):
    return build(rep, teammate, team)


def _told(user):
    return list(
        Notification.objects.filter(user=user, kind="analytics_alert")
        .order_by("pk")
        .values_list("title", flat=True)
    )


def test_a_source_below_its_roi_is_told_once_and_again_when_it_recovers(world, marketing):
    rule = alerts.create_rule(
        by=marketing,
        name="Broker pays",
        kind=AlertKind.ROI_BELOW,
        threshold="1",
        window_days=30,
        source=world.broker,
        owner=marketing,
    )

    with time_machine.travel(NOW, tick=False):
        first = alerts.evaluate()
        again = alerts.evaluate()

    assert (first["breached"], again["breached"]) == (1, 0)
    assert _told(marketing) == ["Alert: Broker pays — Broker"]
    state = AlertState.objects.get(rule=rule)
    assert state.value == Decimal("0")  # its order was in dollars: no euros for €40 of leads
    assert state.breached_at == NOW

    lead_services.set_source_cost(world.broker, cost_per_lead=None, by=SYSTEM)
    with time_machine.travel(NOW + dt.timedelta(minutes=15), tick=False):
        recovered = alerts.evaluate()

    assert recovered["recovered"] == 1
    assert _told(marketing)[-1] == "Recovered: Broker pays — Broker"
    assert AlertState.objects.get(rule=rule).breached_at is None


def test_a_cost_per_order_alert_counts_a_source_without_orders_as_over_the_limit(world, marketing):
    alerts.create_rule(
        by=marketing, name="CPO", kind=AlertKind.CPO_ABOVE, threshold="500", owner=marketing
    )

    with time_machine.travel(NOW, tick=False):
        alerts.evaluate()

    # In the 30 days to 4 December Fair spent €2,100 (1,000 + 11 of 31 days of 3,100) and won
    # nothing; Broker's €40 is under the limit.
    states = {s.subject_name: s for s in AlertState.objects.all()}
    assert states["Fair"].breached_at == NOW
    assert states["Fair"].value == Decimal("2100.0000")
    assert states["Broker"].breached_at is None


def test_a_teams_overdue_share_above_the_limit(world, manager, team):
    alerts.create_rule(
        by=manager,
        name="Overdue",
        kind=AlertKind.OVERDUE_ABOVE,
        threshold="10",
        team=team,
        owner=manager,
    )

    with time_machine.travel(NOW, tick=False):
        alerts.evaluate()

    state = AlertState.objects.get()
    assert (state.subject, state.subject_id, state.value) == ("team", team.pk, Decimal("50.0"))
    assert _told(manager) == [f"Alert: Overdue — {team.name}"]


def test_a_source_that_stops_sending_in_its_usual_hours(db, marketing):
    feed = make_source("Feed")
    start = ams(2026, 10, 5, 9, 0)  # a Monday
    for day in range(35):
        with time_machine.travel(start + dt.timedelta(days=day), tick=False):
            for _ in range(3):
                make_lead(feed)
    rule = alerts.create_rule(
        by=marketing,
        name="Feed sends",
        kind=AlertKind.SOURCE_SILENT,
        silent_hours=24,
        source=feed,
        owner=marketing,
    )

    # The day after its last leads: it sent three the day before, as on every day.
    with time_machine.travel(start + dt.timedelta(days=34, hours=12), tick=False):
        alerts.evaluate()
    assert AlertState.objects.get(rule=rule).breached_at is None
    # Two days on: nothing for 24 hours, where it usually sent three.
    with time_machine.travel(start + dt.timedelta(days=36, hours=1), tick=False):
        alerts.evaluate()
    state = AlertState.objects.get(rule=rule)
    assert state.breached_at is not None
    assert state.value == Decimal("3")
    assert _told(marketing) == ["Alert: Feed sends — Feed"]


def test_a_source_quiet_at_night_as_always_is_not_silent(db, marketing):
    feed = make_source("Office hours")
    start = ams(2026, 10, 5, 10, 0)
    for day in range(35):
        with time_machine.travel(start + dt.timedelta(days=day), tick=False):
            make_lead(feed)
    alerts.create_rule(
        by=marketing, name="Quiet", kind=AlertKind.SOURCE_SILENT, silent_hours=6, owner=marketing
    )

    # 04:00 on a night after a day of leads: it never sends between 22:00 and 04:00.
    with time_machine.travel(ams(2026, 11, 9, 4, 0), tick=False):
        alerts.evaluate()

    assert AlertState.objects.get().breached_at is None


def test_who_may_set_which_alert(world, rep, manager, marketing):
    with pytest.raises(NotAllowed):
        alerts.create_rule(
            by=rep, name="x", kind=AlertKind.OVERDUE_ABOVE, threshold="10", owner=rep
        )
    with pytest.raises(NotAllowed):
        alerts.create_rule(
            by=manager, name="x", kind=AlertKind.ROI_BELOW, threshold="1", owner=manager
        )
    with pytest.raises(ValidationFailed) as refused:
        alerts.create_rule(by=marketing, name="", kind=AlertKind.ROI_BELOW, owner=marketing)
    assert set(refused.value.errors) == {"name", "threshold"}


def test_the_cli_checks_the_alerts(world, marketing, capsys):
    alerts.create_rule(
        by=marketing, name="ROI", kind=AlertKind.ROI_BELOW, threshold="1", owner=marketing
    )

    with time_machine.travel(NOW, tick=False):
        call_command("analytics", "alerts")

    assert "Checked 1 alert(s): 2 started to breach, 0 recovered." in capsys.readouterr().out


def test_the_alerts_api_and_page(world, api_client_for, logged_in_client, marketing, rep, source):
    client = api_client_for(marketing)
    created = client.post(
        "/api/v1/analytics/alerts",
        {"name": "ROI", "kind": "roi_below", "threshold": "1", "source_id": world.broker.pk},
        "application/json",
    )
    assert created.status_code == 201, created.content
    rule_id = created.json()["id"]
    with time_machine.travel(NOW, tick=False):
        checked = client.post("/api/v1/analytics/alerts/check")
    assert checked.json() == {"rules": 1, "breached": 1, "recovered": 0}
    listed = client.get("/api/v1/analytics/alerts").json()
    assert [b["name"] for b in listed[0]["breaching"]] == ["Broker"]
    assert api_client_for(rep).get("/api/v1/analytics/alerts").status_code == 403

    page = logged_in_client(marketing).get("/analytics/alerts/")
    assert 'badge--overdue">Broker' in page.content.decode()
    paused = client.post(f"/api/v1/analytics/alerts/{rule_id}/pause")
    assert paused.json()["is_active"] is False
    assert client.delete(f"/api/v1/analytics/alerts/{rule_id}").status_code == 204
