"""`leadloop sla check | status`: the sweep once from the command line, and the clocks still
waiting for a first contact."""

import io
import json

import pytest
import time_machine
from django.core.management import CommandError, call_command

from leadloop.sales.services import clocks, rules
from tests.factories.leads import make_lead
from tests.sales.team_world import ams

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_rules():
    rules.forget()
    yield
    rules.forget()


def _run(*args):
    out = io.StringIO()
    call_command("sla", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def waiting(source, rep, other_rep):
    with time_machine.travel(ams(2026, 11, 3, 10, 0), tick=False):
        leads = [
            make_lead(source, assigned_to=rep, last_name="North"),
            make_lead(source, assigned_to=other_rep, last_name="South"),
        ]
        clocks.follow([lead.pk for lead in leads])
    return leads


def test_check_runs_the_sweep_once_and_counts(waiting, manager):
    with time_machine.travel(ams(2026, 11, 3, 16, 50), tick=False):
        reminded = json.loads(_run("check", "--json"))
        again = json.loads(_run("check", "--json"))
    with time_machine.travel(ams(2026, 11, 4, 10, 5), tick=False):
        text = _run("check")

    assert reminded == {"started": 0, "reminded": 2, "breached": 0}
    assert again == {"started": 0, "reminded": 0, "breached": 0}
    assert text.strip() == "Started 0, reminded 0, breached 2."


def test_status_lists_running_clocks_soonest_first_and_marks_the_late(waiting, source, rep):
    with time_machine.travel(ams(2026, 11, 4, 9, 0), tick=False):
        later = make_lead(source, assigned_to=rep, last_name="Later")
        clocks.follow([later.pk])
    with time_machine.travel(ams(2026, 11, 4, 11, 0), tick=False):
        everyone = json.loads(_run("status", "--json"))
        north = _run("status", "--team", "north")

    assert (everyone["running"], everyone["late"]) == (3, 2)
    assert [row["lead_id"] for row in everyone["clocks"]] == [
        waiting[0].pk,
        waiting[1].pk,
        later.pk,
    ]
    assert [row["late"] for row in everyone["clocks"]] == [True, True, False]
    assert everyone["clocks"][0]["owner"] == "rep"
    lines = north.strip().splitlines()
    assert lines[0].startswith(f"LATE #{waiting[0].pk}")
    assert "rep" in lines[0]
    assert lines[1].startswith(f"     #{later.pk}")
    assert lines[-1] == "2 clock(s) running, 1 past their deadline."


def test_status_of_a_team_by_id(waiting, other_team):
    with time_machine.travel(ams(2026, 11, 3, 12, 0), tick=False):
        found = json.loads(_run("status", "--team", str(other_team.pk), "--json"))

    assert [row["lead_id"] for row in found["clocks"]] == [waiting[1].pk]
    assert found["late"] == 0


def test_status_of_an_unknown_team_fails_with_a_message(waiting):
    with pytest.raises(CommandError, match="No team 'Nowhere'"):
        _run("status", "--team", "Nowhere")
