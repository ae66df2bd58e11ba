"""E-mail to a lead from its page or the API: a template in the rep's language filled from the
lead, sent through a real SMTP server (aiosmtpd) with the stored Message-ID, a clear refusal
without a mail server; and the templates page for sales managers and admins."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from email import message_from_bytes

import pytest
from aiosmtpd.controller import Controller
from django.urls import reverse

from leadloop.accounts.models import AuditEvent, Role
from leadloop.leads.models import Activity, ActivityKind, Lead, LeadStatus
from leadloop.sales.models import EmailTemplate, OutgoingEmail
from leadloop.sales.services import clocks, contact
from leadloop.sales.services import templates as email_templates
from tests.factories.accounts import make_user
from tests.factories.leads import make_lead

pytestmark = pytest.mark.django_db
HX = {"HTTP_HX_REQUEST": "true"}
XSS = '<img src=x onerror="alert(1)">'


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
    yield handler
    controller.stop()


@pytest.fixture
def no_smtp(settings) -> None:
    settings.LEADLOOP_SMTP = {**settings.LEADLOOP_SMTP, "host": ""}


def _text(mail) -> str:
    """The body as written (SMTP carries CRLF line ends)."""
    return mail.get_payload(decode=True).decode().replace("\r\n", "\n").rstrip("\n")


def _lead(source, rep, **fields):
    fields = {"first_name": "Ann", "last_name": "Smit", "email": "ann@smit.example", **fields}
    lead = make_lead(source, assigned_to=rep, **fields)
    clocks.follow([lead.pk])
    return lead


def test_an_email_from_the_lead_page_reaches_the_lead_through_smtp(
    inbox, logged_in_client, source, team
):
    rep = make_user(Role.SALES_REP, team=team, email="noor@leadloop.example")
    lead = _lead(source, rep)

    response = logged_in_client(rep).post(
        reverse("sales:lead-email", kwargs={"lead_id": lead.pk}),
        {"email-subject": "Your question", "email-body": "Dear Ann,\n\nHere it is."},
    )
    sent = contact.send_waiting()

    assert (response.status_code, sent) == (302, 1)
    stored = OutgoingEmail.objects.get(lead=lead)
    [mail] = inbox.messages
    assert mail["To"] == "ann@smit.example"
    assert mail["Subject"] == "Your question"
    assert mail["Reply-To"] == "noor@leadloop.example"
    assert mail["Message-ID"] == stored.message_id
    assert _text(mail) == "Dear Ann,\n\nHere it is."
    assert stored.state == OutgoingEmail.State.SENT
    entry = Activity.objects.get(lead=lead, kind=ActivityKind.EMAIL)
    assert (entry.message, entry.data["to"]) == ("Your question", "ann@smit.example")
    assert Lead.objects.get(pk=lead.pk).status == LeadStatus.CONTACTED


def test_an_email_through_the_api_with_a_template_is_filled_from_the_lead(
    inbox, api_client_for, source, team, manager
):
    rep = make_user(Role.SALES_REP, team=team, first_name="Noor", last_name="Bakker")
    lead = _lead(source, rep, company_name="Smit BV")
    template = email_templates.create_template(
        by=manager,
        name="Intro",
        language="en",
        subject="{company}: your request",
        body="Dear {first_name},\n\nKind regards,\n{sender_name}",
    )

    response = api_client_for(rep).post(
        f"/api/v1/leads/{lead.pk}/emails",
        json.dumps({"template_id": template.pk}),
        content_type="application/json",
    )
    contact.send_waiting()

    assert response.status_code == 201
    body = response.json()
    assert (body["to"], body["subject"], body["state"]) == (
        "ann@smit.example",
        "Smit BV: your request",
        "pending",
    )
    [mail] = inbox.messages
    assert mail["Message-ID"] == body["message_id"]
    assert _text(mail) == "Dear Ann,\n\nKind regards,\nNoor Bakker"


def test_the_panel_offers_templates_in_the_reps_language_first_and_fills_them_in(
    inbox, logged_in_client, source, team, manager
):
    rep = make_user(Role.SALES_REP, team=team, language="nl")
    lead = _lead(source, rep)
    english = email_templates.create_template(
        by=manager, name="A intro", language="en", subject="Hi", body="Hello {first_name}"
    )
    dutch = email_templates.create_template(
        by=manager, name="B intro", language="nl", subject="Hoi", body="Beste {first_name}"
    )
    client = logged_in_client(rep)

    panel = client.get(reverse("sales:lead-panel", kwargs={"lead_id": lead.pk}), **HX).text
    filled = client.get(
        reverse("sales:lead-email", kwargs={"lead_id": lead.pk}), {"template": dutch.pk}, **HX
    ).text

    assert panel.index(f'<option value="{dutch.pk}">') < panel.index(
        f'<option value="{english.pk}">'
    )
    assert "Beste Ann</textarea>" in filled
    assert 'value="Hoi"' in filled


def test_without_a_mail_server_sending_is_refused_with_a_clear_message(
    no_smtp, logged_in_client, api_client_for, source, rep
):
    lead = _lead(source, rep)

    panel = logged_in_client(rep).get(
        reverse("sales:lead-panel", kwargs={"lead_id": lead.pk}), **HX
    )
    page = logged_in_client(rep).post(
        reverse("sales:lead-email", kwargs={"lead_id": lead.pk}),
        {"email-subject": "Hi", "email-body": "Hello"},
        **HX,
    )
    api = api_client_for(rep).post(
        f"/api/v1/leads/{lead.pk}/emails",
        json.dumps({"subject": "Hi", "body": "Hello"}),
        content_type="application/json",
    )

    assert "No mail server is set up" in panel.text
    assert page.status_code == 409
    assert "No mail server is set up (LEADLOOP_SMTP_HOST)." in page.text
    assert api.status_code == 409
    assert api.json()["detail"] == "No mail server is set up (LEADLOOP_SMTP_HOST)."
    assert OutgoingEmail.objects.count() == 0
    assert Activity.objects.filter(lead=lead, kind=ActivityKind.EMAIL).count() == 0


def test_a_lead_without_an_email_address_cannot_be_mailed(inbox, api_client_for, source, rep):
    lead = _lead(source, rep, email="")

    response = api_client_for(rep).post(
        f"/api/v1/leads/{lead.pk}/emails",
        json.dumps({"subject": "Hi", "body": "Hello"}),
        content_type="application/json",
    )

    assert response.status_code == 422
    assert response.json()["detail"] == "This lead has no e-mail address."
    assert OutgoingEmail.objects.count() == 0


def test_a_rep_cannot_mail_another_reps_lead(inbox, logged_in_client, source, rep, other_rep):
    theirs = _lead(source, other_rep)

    response = logged_in_client(rep).post(
        reverse("sales:lead-email", kwargs={"lead_id": theirs.pk}),
        {"email-subject": "Hi", "email-body": "Hello"},
    )

    assert response.status_code == 404
    assert OutgoingEmail.objects.count() == 0


# --- The templates page ------------------------------------------------------------------------


def test_a_manager_adds_edits_and_deactivates_a_template_on_the_page(logged_in_client, manager):
    client = logged_in_client(manager)

    added = client.post(
        reverse("sales:template-new"),
        {"name": "Intro", "language": "nl", "subject": "Hoi {first_name}", "body": "Beste.",
         "is_active": "on"},
    )  # fmt: skip
    template = EmailTemplate.objects.get()
    edited = client.post(
        reverse("sales:template-edit", kwargs={"template_id": template.pk}),
        {"name": "Intro", "language": "nl", "subject": "Dag {full_name}", "body": "Beste."},
    )
    listing = client.get(reverse("sales:template-list"))

    assert (added.status_code, edited.status_code) == (302, 302)
    template.refresh_from_db()
    assert (template.subject, template.is_active) == ("Dag {full_name}", False)
    assert "{first_name}" in listing.text  # the placeholders are shown
    assert "inactive" in listing.text
    assert AuditEvent.objects.filter(target_type="email_template").count() == 2


def test_a_template_form_error_is_shown_next_to_the_field(logged_in_client, manager):
    response = logged_in_client(manager).post(
        reverse("sales:template-new"),
        {"name": "Intro", "language": "xx", "subject": "Hi {nmae}", "body": "x"},
    )

    assert response.status_code == 422
    assert "A language code, like en or nl." in response.text
    assert "Unknown placeholder {nmae}" in response.text
    assert EmailTemplate.objects.count() == 0


def test_reps_and_partners_cannot_open_the_templates_page(logged_in_client, rep, partner_user):
    answers = [
        logged_in_client(user).get(reverse("sales:template-list")).status_code
        for user in (rep, partner_user)
    ]

    assert answers == [403, 403]


def test_hostile_text_in_a_template_is_escaped(logged_in_client, manager):
    email_templates.create_template(by=manager, name=XSS, language="en", subject=XSS, body="x")

    page = logged_in_client(manager).get(reverse("sales:template-list")).text

    assert XSS not in page
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in page
