"""kill -9 between "routed" and "notified": the routing and its notification commit together or
not at all, and after a restart the lead is routed once and its e-mail sent once. Real processes
on a real database of their own; a real SMTP server (aiosmtpd) in the test process."""

import json
import signal
import socket
from email import message_from_bytes

import pytest
from aiosmtpd.controller import Controller

from tests.distribution.processes import fresh_database, run

SETUP = """
from leadloop.accounts.actors import SYSTEM
from leadloop.accounts import services as accounts
from leadloop.accounts.models import Role
from leadloop.assessment.services import create_lead
from leadloop.distribution import services
from leadloop.leads import events
from leadloop.leads import services as leads
from leadloop.leads.models import LeadStatus

team = accounts.get_or_create_team(name="North", manager=None)
accounts.create_user(username="noor", role=Role.SALES_REP, team=team, email="noor@example.nl")
source = leads.create_source(name="Web", kind="http_post", by=SYSTEM).source
services.publish(by=SYSTEM, document={
    "rules": [], "default": {"kind": "team", "team_id": team.pk, "mode": "push"}})
with events.isolated():
    lead = create_lead({"first_name": "Ann", "last_name": "Crash"}, source=source, by=SYSTEM)
    if lead.status != LeadStatus.SALES_READY:
        leads.transition(lead, to=LeadStatus.SALES_READY, by=SYSTEM)
print(lead.pk)
"""

# Dies inside the routing's transaction, right after the notification row is written.
CRASH = """
import signal
from leadloop.distribution.services import tell
real = tell.notify
def notify_then_die(*args, **kwargs):
    real(*args, **kwargs)
    os.kill(os.getpid(), signal.SIGKILL)
tell.notify = notify_then_die
from leadloop.distribution import services
services.route_lead(LEAD_ID)
"""

# The restart: the sweep routes the lead (its task is gone), then the mail sweep sends.
RESTART = """
import datetime as dt
import time_machine
from django.utils import timezone
from leadloop.distribution import services
from leadloop.notifications import services as notifications
with time_machine.travel(timezone.now() + dt.timedelta(minutes=3)):
    print(services.sweep_waiting(), notifications.send_pending())
with time_machine.travel(timezone.now() + dt.timedelta(minutes=20)):
    print(services.sweep_waiting(), notifications.send_pending())
"""

STATE = """
import json
from leadloop.distribution.models import RouteDecision
from leadloop.leads.models import Lead
from leadloop.notifications.models import Notification
lead = Lead.objects.get(pk=LEAD_ID)
print(json.dumps({
    "decisions": RouteDecision.objects.filter(lead=lead).count(),
    "owner": lead.assigned_to.username if lead.assigned_to else None,
    "notifications": list(Notification.objects.values_list("email_state", flat=True)),
}))
"""


class Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"


@pytest.fixture
def inbox_port():
    handler = Inbox()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    yield handler, port
    controller.stop()


def test_a_crash_between_routing_and_telling_routes_and_mails_once_after_restart(
    tmp_path, inbox_port
):
    inbox, port = inbox_port
    with fresh_database(tmp_path) as env:
        env.update(LEADLOOP_SMTP_HOST="127.0.0.1", LEADLOOP_SMTP_PORT=str(port),
                   LEADLOOP_SMTP_SECURITY="none")  # fmt: skip
        setup = run(SETUP, env)
        assert setup.returncode == 0, setup.stderr
        lead_id = setup.stdout.strip().splitlines()[-1]

        crashed = run(CRASH.replace("LEAD_ID", lead_id), env)
        after_crash = json.loads(run(STATE.replace("LEAD_ID", lead_id), env).stdout)
        restarted = run(RESTART, env)
        after_restart = json.loads(run(STATE.replace("LEAD_ID", lead_id), env).stdout)

    assert crashed.returncode == -signal.SIGKILL
    assert after_crash == {"decisions": 0, "owner": None, "notifications": []}
    assert restarted.returncode == 0, restarted.stderr
    # The sweep routes it; its mail goes out on the next mail sweep (its task was never queued).
    assert restarted.stdout.split() == ["1", "0", "0", "1"]
    assert after_restart == {"decisions": 1, "owner": "noor", "notifications": ["sent"]}
    [mail] = inbox.messages
    assert mail["To"] == "noor@example.nl"
