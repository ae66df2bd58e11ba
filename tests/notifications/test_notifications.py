"""Notifications: in the app in the user's language, e-mailed at once, in a daily digest or not,
through a real SMTP server (aiosmtpd); an unreachable server is retried with back-off and the
mail shows as pending; a send is never made twice. Issue 13, item 6."""

from __future__ import annotations

import datetime as dt
import socket
from collections.abc import Iterator
from email import message_from_bytes

import pytest
import time_machine
from aiosmtpd.controller import Controller
from django.urls import reverse
from django.utils import timezone
from django_tasks import default_task_backend

from leadloop.accounts.actors import SYSTEM
from leadloop.accounts.models import Role
from leadloop.distribution import services as distribution
from leadloop.distribution.tasks import tell_assigned_task
from leadloop.leads import services as lead_services
from leadloop.leads.models import LeadStatus
from leadloop.notifications import selectors, services
from leadloop.notifications.models import EmailState, Notification
from tests.factories.accounts import make_user
from tests.factories.leads import make_lead

pytestmark = pytest.mark.django_db


class Inbox:
    def __init__(self) -> None:
        self.messages: list = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def inbox(settings) -> Iterator[Inbox]:
    """A real SMTP server on 127.0.0.1, and Leadloop set to send through it."""
    handler = Inbox()
    port = _free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    settings.LEADLOOP_SMTP = {**settings.LEADLOOP_SMTP, "host": "127.0.0.1", "port": port,
                              "security": "none"}  # fmt: skip
    settings.LEADLOOP_BASE_URL = "https://leads.example.nl"
    yield handler
    controller.stop()


@pytest.fixture
def smtp_down(settings) -> int:
    """Leadloop set to send through a port nobody listens on."""
    port = _free_port()
    settings.LEADLOOP_SMTP = {**settings.LEADLOOP_SMTP, "host": "127.0.0.1", "port": port,
                              "security": "none", "timeout": 2}  # fmt: skip
    return port


def _tell(user, **extra):
    return services.notify(
        [user],
        kind="test",
        title="New lead for you: %(lead)s",
        body="%(why)s",
        params={"lead": "Ann de Vries", "why": "Rule “NL” (routing v1)"},
        url="/leads/7/",
        lead_id=7,
        **extra,
    )[0]


def test_a_notification_speaks_the_users_language(inbox, team):
    dutch = make_user(Role.SALES_REP, team=team, email="noor@example.nl", language="nl")
    english = make_user(Role.SALES_REP, team=team, email="sam@example.com", language="en")

    assert _tell(dutch).title == "Nieuwe lead voor jou: Ann de Vries"
    assert _tell(english).title == "New lead for you: Ann de Vries"
    assert _tell(english).email_state == EmailState.PENDING


def test_without_smtp_or_address_or_wish_the_mail_is_skipped(settings, team, inbox):
    no_address = make_user(Role.SALES_REP, team=team, email="")
    no_mail = make_user(Role.SALES_REP, team=team, email="x@example.com")
    services.set_email_choice(no_mail, email="none")

    assert _tell(no_address).email_state == EmailState.SKIPPED
    assert _tell(no_mail).email_state == EmailState.SKIPPED
    settings.LEADLOOP_SMTP = {**settings.LEADLOOP_SMTP, "host": ""}
    assert _tell(make_user(Role.SALES_REP, team=team, email="y@example.com")).email_state == (
        EmailState.SKIPPED
    )


def test_the_mail_goes_out_once_through_a_real_smtp_server(inbox, team):
    rep = make_user(Role.SALES_REP, team=team, email="noor@example.nl", language="nl")
    notification = _tell(rep)

    assert services.send_email(notification.pk) == EmailState.SENT
    assert services.send_email(notification.pk) == "not pending"

    [mail] = inbox.messages
    assert mail["Subject"] == "Nieuwe lead voor jou: Ann de Vries"
    assert mail["To"] == "noor@example.nl"
    assert mail["Message-ID"] == f"<leadloop-notification-{notification.pk}@leadloop>"
    text = mail.get_payload(decode=True).decode()
    assert "Openen in Leadloop: https://leads.example.nl/leads/7/" in text
    assert Notification.objects.get(pk=notification.pk).email_state == EmailState.SENT


def test_smtp_down_leaves_the_mail_pending_and_it_is_retried_with_back_off(
    smtp_down, settings, team
):
    rep = make_user(Role.SALES_REP, team=team, email="noor@example.nl")
    notification = _tell(rep)

    with pytest.raises(services.MailFailed):
        services.send_email(notification.pk)
    waiting = Notification.objects.get(pk=notification.pk)
    assert (waiting.email_state, waiting.email_attempts) == (EmailState.PENDING, 1)
    assert "ConnectionRefusedError" in waiting.email_error
    # Right after the failure the sweep waits (back-off); the server comes back later.
    assert services.send_pending() == 0

    handler = Inbox()
    controller = Controller(handler, hostname="127.0.0.1", port=smtp_down)
    controller.start()
    try:
        with time_machine.travel(timezone.now() + dt.timedelta(minutes=2)):
            assert services.send_pending() == 1
            assert services.send_pending() == 0
    finally:
        controller.stop()
    assert len(handler.messages) == 1
    sent = Notification.objects.get(pk=notification.pk)
    assert (sent.email_state, sent.email_attempts, sent.email_error) == (EmailState.SENT, 2, "")


def test_a_mail_a_dead_worker_left_half_sent_is_sent_again_after_ten_minutes(inbox, team):
    rep = make_user(Role.SALES_REP, team=team, email="noor@example.nl")
    notification = _tell(rep)
    Notification.objects.filter(pk=notification.pk).update(
        email_state=EmailState.SENDING, email_attempts=1
    )

    assert services.send_pending() == 0
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=11)):
        assert services.send_pending() == 1
    assert len(inbox.messages) == 1


def test_a_lost_task_is_made_up_by_the_sweep(inbox, team):
    rep = make_user(Role.SALES_REP, team=team, email="noor@example.nl")
    _tell(rep)

    with time_machine.travel(timezone.now() + dt.timedelta(minutes=2)):
        assert services.send_pending() == 1
    assert len(inbox.messages) == 1


def test_the_digest_sends_one_mail_a_day(inbox, team):
    rep = make_user(Role.SALES_REP, team=team, email="noor@example.nl")
    services.set_email_choice(rep, email="digest")
    first, second = _tell(rep), _tell(rep)

    assert (first.email_state, second.email_state) == (EmailState.DIGEST, EmailState.DIGEST)
    assert services.send_digests() == 1
    assert services.send_digests() == 0
    [mail] = inbox.messages
    assert mail["Subject"] == "Leadloop: 2 notifications"
    assert mail.get_payload(decode=True).decode().count("New lead for you: Ann de Vries") == 2
    assert set(Notification.objects.values_list("email_state", flat=True)) == {EmailState.SENT}


def test_a_title_cannot_inject_mail_headers(inbox, team):
    rep = make_user(Role.SALES_REP, team=team, email="noor@example.nl")

    notification = services.notify(
        [rep], kind="test", title="%(lead)s", params={"lead": "Ann\r\nBcc: evil@example.com"}
    )[0]
    services.send_email(notification.pk)

    [mail] = inbox.messages
    assert mail["Bcc"] is None
    assert mail["Subject"] == "Ann Bcc: evil@example.com"


def test_routing_tells_the_rep_in_the_same_transaction(inbox, source, team):
    rep = make_user(Role.SALES_REP, team=team, email="noor@example.nl")
    distribution.publish(
        by=SYSTEM,
        document={"rules": [], "default": {"kind": "team", "team_id": team.pk, "mode": "push"}},
    )
    lead = make_lead(source, last_name="Routed")
    if lead.status != LeadStatus.SALES_READY:
        lead_services.transition(lead, to=LeadStatus.SALES_READY, by=SYSTEM)

    distribution.route_lead(lead.pk)
    distribution.route_lead(lead.pk)

    [notification] = Notification.objects.filter(user=rep)
    assert notification.title == f"New lead for you: {lead}"
    assert notification.body.startswith("Rule “Default rule” (routing v1) → team North")
    assert notification.url == f"/leads/{lead.pk}/"


def test_the_manager_hears_when_nobody_could_take_a_lead(inbox, source, team, manager):
    distribution.set_capacity(manager, by=manager, accepts_leads=False)
    distribution.publish(
        by=SYSTEM,
        document={"rules": [], "default": {"kind": "team", "team_id": team.pk, "mode": "push"}},
    )
    lead = make_lead(source)
    if lead.status != LeadStatus.SALES_READY:
        lead_services.transition(lead, to=LeadStatus.SALES_READY, by=SYSTEM)

    distribution.route_lead(lead.pk)

    [notification] = Notification.objects.filter(user=manager)
    assert notification.kind == "pool_nobody_available"


def test_a_bulk_move_by_hand_mails_the_rep_once_through_a_real_smtp_server(
    inbox, source, team, manager, django_capture_on_commit_callbacks
):
    rep = make_user(Role.SALES_REP, team=team, email="noor@example.nl", username="noor")
    leads = [make_lead(source, last_name=f"Moved{i}") for i in range(12)]
    default_task_backend.clear()

    with django_capture_on_commit_callbacks(execute=True):
        lead_services.bulk_assign(leads, by=manager, to=rep, reason="Daan left")
    with django_capture_on_commit_callbacks(execute=True):
        for result in default_task_backend.results:
            if result.task.module_path.endswith("tell_assigned_task"):
                tell_assigned_task.call(**result.kwargs)
    [notification] = Notification.objects.filter(user=rep)
    services.send_email(notification.pk)

    [mail] = inbox.messages
    assert mail["Subject"] == "12 new leads for you"
    assert mail["To"] == "noor@example.nl"
    text = mail.get_payload(decode=True).decode()
    assert f"From {manager.display_name}: Daan left. Leads: " in text
    assert "https://leads.example.nl/leads/?owner=me&show=open" in text


# --- pages and API -------------------------------------------------------------------------------


def test_a_user_sees_and_opens_only_their_own(logged_in_client, team, rep, teammate):
    mine, theirs = _tell(rep), _tell(teammate)
    client = logged_in_client(rep)

    page = client.get(reverse("notifications:list"))
    opened = client.post(reverse("notifications:open", args=[mine.pk]))
    other = client.post(reverse("notifications:open", args=[theirs.pk]))

    assert page.status_code == 200
    assert page.content.decode().count("New lead for you: Ann de Vries") == 1
    assert opened["Location"] == "/leads/7/"
    assert other.status_code == 404
    assert Notification.objects.get(pk=mine.pk).read_at is not None
    assert Notification.objects.get(pk=theirs.pk).read_at is None
    assert selectors.count_unread(rep) == 0


def test_the_api_lists_marks_read_and_sets_the_choice(api_client_for, team, rep, teammate):
    _tell(rep)
    _tell(teammate)
    client = api_client_for(rep)

    listed = client.get("/api/v1/notifications?unread=true")
    marked = client.post("/api/v1/notifications/read", {}, content_type="application/json")
    chosen = client.put(
        "/api/v1/notifications/preference", {"email": "digest"}, content_type="application/json"
    )
    refused = client.put(
        "/api/v1/notifications/preference", {"email": "hourly"}, content_type="application/json"
    )

    assert [n["title"] for n in listed.json()] == ["New lead for you: Ann de Vries"]
    assert marked.json() == {"marked": 1}
    assert chosen.json() == {"email": "digest"}
    assert refused.status_code == 422
    assert selectors.email_choice(rep) == "digest"
