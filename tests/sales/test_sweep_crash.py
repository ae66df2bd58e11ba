"""kill -9 in the middle of the first-contact sweep: the clocks of the batches committed before
the kill stay handled (the sweep commits CHECK_BATCH checks together; two here), the batch being
handled when it died is rolled back with its notifications, and the next run does the rest.
Every reminder and every escalation happens exactly once in total: reminders and breaches
are written a batch at a time, a breach's hand-over to the pool just before; the kill hits a
team that only alerts and one that takes the lead back.

Real processes on a database of their own (SQLite file, or a fresh PostgreSQL database when
DATABASE_URL is set): the crash cannot be simulated inside the test's own transaction.
"""

import json
import signal
import subprocess
import sys

import pytest

from tests.distribution.processes import fresh_database, run

LEADS = 6

CLOCK = """
import datetime as dt
import json
import time_machine
from zoneinfo import ZoneInfo
AMS = ZoneInfo("Europe/Amsterdam")
def at(*args):
    return time_machine.travel(dt.datetime(*args, tzinfo=AMS), tick=False)
"""

# Six leads assigned on Tuesday 3 November 2026 at 10:00: the owner is reminded at 16:45 (75%
# of nine business hours), the time runs out on Wednesday at 10:00, and the team puts a lead
# whose time ran out back in its pool.
SETUP = (
    CLOCK
    + """
from leadloop.accounts import services as accounts
from leadloop.accounts.actors import SYSTEM
from leadloop.accounts.models import Role
from leadloop.assessment.services import create_lead
from leadloop.leads import events
from leadloop.leads import services as leads
from leadloop.sales.services import clocks, rules
with at(2026, 11, 3, 10, 0):
    team = accounts.get_or_create_team(name="North")
    boss = accounts.create_user(username="boss", role=Role.SALES_MANAGER, team=team)
    accounts.get_or_create_team(name="North", manager=boss)
    noor = accounts.create_user(username="noor", role=Role.SALES_REP, team=team)
    rules.set_team_rules(team, {"on_breach": "ON_BREACH"}, by=SYSTEM)
    source = leads.create_source(name="Web", kind="http_post", by=SYSTEM).source
    ids = []
    with events.isolated():
        for n in range(LEADS):
            lead = create_lead({"first_name": f"Lead{n}", "last_name": "Crash"}, source=source,
                               by=SYSTEM)
            ids.append(leads.assign_lead(lead, by=SYSTEM, to=noor).pk)
    print(json.dumps(clocks.follow(ids)))
"""
)

# The sweep at MOMENT, killed inside its KILL_AT-th call to tell (a batch's reminders at once,
# or one breach): the rows are written in the batch's open transaction, and the process dies
# before it commits.
CRASH = (
    CLOCK
    + """
import signal
from leadloop.sales.services import sweep
sweep.CHECK_BATCH = 2
real_notify = sweep.notify_each
calls = []
def notify_then_die(*args, **kwargs):
    made = real_notify(*args, **kwargs)
    calls.append(len(made))
    if len(calls) == KILL_AT:
        os.kill(os.getpid(), signal.SIGKILL)
    return made
sweep.notify_each = notify_then_die
with at(*MOMENT):
    sweep.check()
print("the sweep was not killed")
"""
)

RESTART = (
    CLOCK
    + """
from leadloop.sales.services import sweep
with at(*MOMENT):
    print(json.dumps(sweep.check()))
"""
)

STATE = """
import json
from collections import Counter
from leadloop.leads.models import Lead
from leadloop.notifications.models import Notification
from leadloop.sales.models import SlaEvent
events = Counter(SlaEvent.objects.values_list("lead_id", "kind"))
told = Counter(Notification.objects.values_list("lead_id", "kind"))
print(json.dumps({
    "events": dict(Counter(kind for _lead, kind in events.elements())),
    "notifications": dict(Counter(kind for _lead, kind in told.elements())),
    "most_per_lead": max([*events.values(), *told.values()]),
    "owners": sorted(set(Lead.objects.values_list("assigned_to__username", flat=True)), key=str),
}))
"""


def _leadloop(env, *args):
    return subprocess.run(
        [sys.executable, "-m", "leadloop.cli", "sla", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _state(env):
    done = run(STATE, env)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def _sweep(script, env, *, moment, kill_at=0):
    code = script.replace("MOMENT", repr(moment)).replace("KILL_AT", str(kill_at))
    return run(code, env)


@pytest.mark.parametrize("on_breach", ["pool", "alert"])
def test_a_sweep_killed_mid_way_resumes_without_a_second_reminder_or_escalation(
    tmp_path, on_breach
):
    # Reminders and breaches are told a batch at a time (a breach's hand-over to the pool is
    # done just before, in the same transaction): the second call is the second batch.
    with fresh_database(tmp_path) as env:
        setup = run(SETUP.replace("LEADS", str(LEADS)).replace("ON_BREACH", on_breach), env)
        assert setup.returncode == 0, setup.stderr
        assert json.loads(setup.stdout.splitlines()[-1]) == {"started": LEADS}

        # Tuesday 16:50: six reminders are due; the sweep dies inside the second batch.
        reminding = _sweep(CRASH, env, moment=(2026, 11, 3, 16, 50), kill_at=2)
        after_reminders_crash = _state(env)
        reminders_resumed = _sweep(RESTART, env, moment=(2026, 11, 3, 16, 51))
        after_reminders = _state(env)

        # Wednesday 10:05: six breaches are due; the sweep dies inside the second batch.
        breaching = _sweep(CRASH, env, moment=(2026, 11, 4, 10, 5), kill_at=2)
        after_breach_crash = _state(env)
        breaches_resumed = _sweep(RESTART, env, moment=(2026, 11, 4, 10, 6))
        nothing_left = _sweep(RESTART, env, moment=(2026, 11, 4, 10, 30))
        final = _state(env)
        unknown_team = _leadloop(env, "status", "--team", "Nowhere")

    assert reminding.returncode == -signal.SIGKILL, reminding.stdout + reminding.stderr
    assert after_reminders_crash["events"] == {"started": 6, "reminded": 2}
    assert after_reminders_crash["notifications"] == {"sla_reminder": 2}
    assert reminders_resumed.returncode == 0, reminders_resumed.stderr
    assert json.loads(reminders_resumed.stdout) == {"started": 0, "reminded": 4, "breached": 0}
    assert after_reminders["notifications"] == {"sla_reminder": 6}

    assert breaching.returncode == -signal.SIGKILL, breaching.stdout + breaching.stderr
    returned = {"pool": 2, "alert": 0}[on_breach]
    handed_back = {"returned": returned} if returned else {}
    assert after_breach_crash["events"] == {
        "started": 6,
        "reminded": 6,
        "breached": 2,
        **handed_back,
    }
    assert after_breach_crash["notifications"] == {"sla_reminder": 6, "sla_breached": 2}
    owners_then = [None, "noor"] if on_breach == "pool" else ["noor"]
    assert after_breach_crash["owners"] == owners_then
    assert json.loads(breaches_resumed.stdout) == {"started": 0, "reminded": 0, "breached": 4}
    assert json.loads(nothing_left.stdout) == {"started": 0, "reminded": 0, "breached": 0}

    returned_all = {"returned": 6} if on_breach == "pool" else {}
    assert final["events"] == {"started": 6, "reminded": 6, "breached": 6, **returned_all}
    assert final["notifications"] == {"sla_reminder": 6, "sla_breached": 6}
    assert final["most_per_lead"] == 1
    assert final["owners"] == ([None] if on_breach == "pool" else ["noor"])
    # The operator's view of the same sweep: an unknown team is an error, not an empty list.
    assert unknown_team.returncode == 1
    assert "No team 'Nowhere'" in unknown_team.stderr
