"""`leadloop tasks overdue [--team T] [--json]`: open tasks past due, all teams or one."""

import datetime as dt
import io
import json
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError

from leadloop.accounts.actors import SYSTEM
from leadloop.sales.services import steps
from tests.factories.leads import make_lead

pytestmark = pytest.mark.django_db
AMS = ZoneInfo("Europe/Amsterdam")
NOW = dt.datetime(2026, 11, 3, 10, 0, tzinfo=AMS)


@pytest.fixture(autouse=True)
def _now():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def tasks(source, rep, other_rep, team, other_team):
    north = make_lead(source, assigned_to=rep, team=team, first_name="Noor", last_name="D")
    south = make_lead(
        source, assigned_to=other_rep, team=other_team, first_name="Sem", last_name="Z"
    )

    def add(lead, owner, due, kind="call"):
        return steps.add_task(lead, by=SYSTEM, kind=kind, due_at=due, owner=owner)

    late_north = add(north, rep, NOW - dt.timedelta(days=2, hours=3), kind="email")
    late_south = add(south, other_rep, NOW - dt.timedelta(minutes=45))
    add(north, rep, NOW + dt.timedelta(hours=1))
    steps.complete_task(add(south, other_rep, NOW - dt.timedelta(days=1)), by=other_rep)
    return late_north, late_south


def _run(*args):
    out = io.StringIO()
    call_command("tasks", "overdue", *args, stdout=out)
    return out.getvalue()


def test_lists_every_overdue_open_task_oldest_first(tasks):
    text = _run()

    late_north, late_south = tasks
    assert text.splitlines() == [
        f"2026-11-01 07:00      2 d 3 h late  email       #{late_north.lead_id} Noor D  "
        f"({late_north.owner.display_name}, North)",
        f"2026-11-03 09:15       45 min late  call        #{late_south.lead_id} Sem Z  "
        f"({late_south.owner.display_name}, South)",
    ]


def test_one_team_as_json(tasks, rep):
    late_north, _late_south = tasks

    rows = json.loads(_run("--team", "north", "--json"))

    assert rows == [
        {
            "task_id": late_north.pk,
            "lead_id": late_north.lead_id,
            "lead": "Noor D",
            "team": "North",
            "owner": rep.display_name,
            "owner_username": "rep",
            "kind": "email",
            "title": "",
            "due_at": (NOW - dt.timedelta(days=2, hours=3)).astimezone(dt.UTC).isoformat(),
            "late_minutes": (2 * 24 + 3) * 60,
        }
    ]


def test_an_unknown_team_is_an_error(tasks):
    with pytest.raises(CommandError, match="No team is called 'Nowhere'"):
        _run("--team", "Nowhere")


def test_nothing_overdue_says_so(db, team):
    assert _run("--team", "North").strip() == "No overdue tasks for team North."
    assert json.loads(_run("--json")) == []


def test_the_friendly_name_exits_non_zero_for_an_unknown_team(tasks, capsys):
    from leadloop.cli import main

    with pytest.raises(SystemExit) as stopped:
        main(["leadloop", "tasks", "overdue", "--team", "Nowhere"])

    assert stopped.value.code == 1
    assert "No team is called 'Nowhere'." in capsys.readouterr().err
