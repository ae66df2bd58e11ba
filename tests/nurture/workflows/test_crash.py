"""kill -9 between "step due" and "mail sent": the worker dies after a mail step created its
message but before the batch committed. The restarted run does the step again, each lead's mail
is queued once, and the real SMTP server receives each mail exactly once.

Real processes on a database of their own (the crash cannot happen inside the test's own
transaction), a real aiosmtpd server in the test process.
"""

from __future__ import annotations

import json
import signal

from aiosmtpd.controller import Controller

from tests.distribution.processes import fresh_database, run
from tests.nurture.mail.conftest import Inbox, _free_port

LEADS = 5

CLOCK = """
import datetime as dt
import json
import time_machine
from zoneinfo import ZoneInfo
AMS = ZoneInfo("Europe/Amsterdam")
def at(*args):
    return time_machine.travel(dt.datetime(*args, tzinfo=AMS), tick=False)
"""

SETUP = (
    CLOCK
    + """
from leadloop.accounts.actors import SYSTEM
from leadloop.assessment.services import create_lead
from leadloop.leads import events
from leadloop.leads import services as leads
from leadloop.leads.models import LeadStatus
from leadloop.nurture.mail import services as mail
from leadloop.nurture.workflows import services as workflows
from leadloop.nurture.workflows.services import live
with at(2026, 11, 2, 9, 0):
    source = leads.create_source(name="Web", kind="http_post", by=SYSTEM).source
    mail.create_template(by=SYSTEM, name="Brochure", language="en",
                         subject="Brochure for {first_name}", body="Here it is.")
    workflow = workflows.create_workflow(by=SYSTEM, name="Seed", definition={
        "trigger": {"on": "nurturing"},
        "steps": [{"id": "brochure", "type": "send_email", "template": "Brochure"},
                  {"id": "week", "type": "wait", "days": 7}]})
    workflows.activate(workflow, by=SYSTEM)
    ids = []
    with events.isolated():
        for n in range(LEADS):
            lead = create_lead({"first_name": f"Lead{n}", "last_name": "Crash",
                                "email": f"lead{n}@example.com"}, source=source, by=SYSTEM)
            if lead.status != LeadStatus.NURTURING:
                lead = leads.transition(lead, to=LeadStatus.NURTURING, by=SYSTEM)
            ids.append(lead.pk)
    print(live.enroll_on_trigger(ids, on="nurturing"))
"""
)

# The runner at 09:01 with batches of two, killed inside the third mail step: its message row
# is written in the batch's open transaction, and the process dies before the commit.
CRASH = (
    CLOCK
    + """
import os, signal
from leadloop.nurture.mail.services import sending
from leadloop.nurture.workflows.services import live
live.BATCH = 2
real_send = sending.send_marketing_email
calls = []
def send_then_die(*args, **kwargs):
    made = real_send(*args, **kwargs)
    calls.append(made.pk)
    if len(calls) == 3:
        os.kill(os.getpid(), signal.SIGKILL)
    return made
sending.send_marketing_email = send_then_die
with at(2026, 11, 2, 9, 1):
    live.run_due()
print("the runner was not killed")
"""
)

RESTART = (
    CLOCK
    + """
from leadloop.nurture.workflows.services import live
with at(2026, 11, 2, 9, 2):
    print(json.dumps(live.run_due()))
"""
)

SEND = (
    CLOCK
    + """
from leadloop.nurture.mail.services import sending
with at(2026, 11, 2, 9, 3):
    print(json.dumps(sending.send_waiting()))
"""
)

STATE = """
import json
from collections import Counter
from leadloop.nurture.mail.models import MarketingMessage
from leadloop.nurture.workflows.models import Enrollment
per_lead = Counter(MarketingMessage.objects.values_list("lead_id", flat=True))
print(json.dumps({
    "messages": sum(per_lead.values()),
    "most_per_lead": max(per_lead.values(), default=0),
    "states": Counter(MarketingMessage.objects.values_list("state", flat=True)),
    "steps": Counter(Enrollment.objects.values_list("step", flat=True)),
}))
"""


def _state(env):
    done = run(STATE, env)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_a_runner_killed_between_step_and_send_queues_and_sends_each_mail_once(tmp_path):
    inbox = Inbox()
    port = _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        with fresh_database(tmp_path) as env:
            env.update(
                LEADLOOP_SMTP_HOST="127.0.0.1",
                LEADLOOP_SMTP_PORT=str(port),
                LEADLOOP_SMTP_SECURITY="none",
                LEADLOOP_MARKETING_FROM="news@acme.example",
            )
            setup = run(SETUP.replace("LEADS", str(LEADS)), env)
            assert setup.returncode == 0, setup.stderr
            crashed = run(CRASH, env)
            after_crash = _state(env)
            restarted = run(RESTART, env)
            sent = run(SEND, env)
            again = run(RESTART, env)
            final = _state(env)
    finally:
        controller.stop()

    assert setup.stdout.strip().splitlines()[-1] == str(LEADS)
    assert crashed.returncode == -signal.SIGKILL, crashed.stdout + crashed.stderr
    # The first batch of two committed; the batch that died left nothing behind.
    assert after_crash["messages"] == 2
    assert after_crash["steps"] == {"week": 2, "brochure": 3}
    assert restarted.returncode == 0, restarted.stderr
    assert json.loads(restarted.stdout) == {"waiting": 3}
    assert json.loads(sent.stdout)["sent"] == LEADS
    assert json.loads(again.stdout) == {}
    assert final["messages"] == LEADS
    assert final["most_per_lead"] == 1
    assert final["states"] == {"sent": LEADS}
    assert final["steps"] == {"week": LEADS}
    received = sorted(m["To"] for m in inbox.messages)
    assert received == [f"lead{n}@example.com" for n in range(LEADS)]
    assert len({m["Message-ID"] for m in inbox.messages}) == LEADS
