"""The API and the pages: marketing manages templates and the suppression list and sends; a
sales rep may not; nobody previews against or sends to a lead they cannot see; a lead's mails
are listed to whoever sees the lead."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from leadloop.accounts.models import AuditEvent
from leadloop.nurture.mail import services as mail
from leadloop.nurture.mail.models import MarketingMessage, MarketingTemplate, Suppression
from tests.factories.leads import make_lead

pytestmark = pytest.mark.django_db
XSS = '<script>alert("x")</script>'
JSON = "application/json"


def _post(client, path, body):
    return client.post(path, json.dumps(body), content_type=JSON)


def test_marketing_creates_changes_previews_and_deletes_a_template_through_the_api(
    api_client_for, marketing, lead
):
    client = api_client_for(marketing)

    created = _post(
        client,
        "/api/v1/nurture/mail/templates",
        {
            "name": "Welcome",
            "language": "en",
            "subject": "Hi {first_name}",
            "body": "Hello **{first_name}** from {rep_name}",
        },
    )
    template_id = created.json()["id"]
    changed = client.patch(
        f"/api/v1/nurture/mail/templates/{template_id}",
        json.dumps({"is_active": False}),
        content_type=JSON,
    )
    preview = _post(
        client, f"/api/v1/nurture/mail/templates/{template_id}/preview", {"lead_id": lead.pk}
    )
    listed = client.get("/api/v1/nurture/mail/templates")
    deleted = client.delete(f"/api/v1/nurture/mail/templates/{template_id}")

    assert created.status_code == 201
    assert (changed.status_code, changed.json()["is_active"]) == (200, False)
    assert preview.status_code == 200
    body = preview.json()
    assert body["subject"] == "Hi Ann"
    assert "Hello <strong>Ann</strong> from" in body["html"]
    assert "Hello Ann from" in body["text"]
    assert [t["name"] for t in listed.json()] == ["Welcome"]
    assert deleted.status_code == 204
    assert not MarketingTemplate.objects.exists()


def test_a_sales_rep_may_not_manage_templates_or_the_suppression_list(
    api_client_for, logged_in_client, rep, template
):
    client = api_client_for(rep)
    audits = AuditEvent.objects.count()

    answers = [
        client.get("/api/v1/nurture/mail/templates").status_code,
        _post(
            client,
            "/api/v1/nurture/mail/templates",
            {"name": "X", "language": "en", "subject": "S", "body": "B"},
        ).status_code,
        client.patch(
            f"/api/v1/nurture/mail/templates/{template.pk}",
            json.dumps({"subject": "Changed"}),
            content_type=JSON,
        ).status_code,
        client.get("/api/v1/nurture/mail/suppressions").status_code,
        _post(client, "/api/v1/nurture/mail/suppressions", {"email": "a@b.example"}).status_code,
    ]
    page = logged_in_client(rep).get(reverse("nurture:mail-templates"))

    assert answers == [403, 403, 403, 403, 403]
    assert page.status_code == 403
    assert MarketingTemplate.objects.get().subject == "{first_name}, our spring offer"
    assert not Suppression.objects.exists()
    assert AuditEvent.objects.count() == audits


def test_nobody_previews_against_or_sends_to_a_lead_they_cannot_see(
    inbox, api_client_for, rep, other_rep, template, source, marketing
):
    hidden = make_lead(source, assigned_to=other_rep, email="hidden@example.com")
    client = api_client_for(rep)

    preview = _post(
        client, f"/api/v1/nurture/mail/templates/{template.pk}/preview", {"lead_id": hidden.pk}
    )
    send = _post(
        client, f"/api/v1/nurture/mail/leads/{hidden.pk}/messages", {"template_id": template.pk}
    )
    messages = client.get(f"/api/v1/nurture/mail/leads/{hidden.pk}/messages")

    assert (preview.status_code, send.status_code, messages.status_code) == (403, 404, 404)
    assert not MarketingMessage.objects.exists()


def test_a_marketer_sends_to_a_lead_and_its_rep_reads_the_log(
    inbox, api_client_for, marketing, rep, lead, template
):
    sent = _post(
        api_client_for(marketing),
        f"/api/v1/nurture/mail/leads/{lead.pk}/messages",
        {"template_id": template.pk},
    )
    log = api_client_for(rep).get(f"/api/v1/nurture/mail/leads/{lead.pk}/messages")

    assert sent.status_code == 201
    assert sent.json()["state"] == "pending"
    assert [(m["id"], m["subject"], m["to"]) for m in log.json()] == [
        (sent.json()["id"], "Ann, our spring offer", "Ann@smit.example")
    ]


def test_the_suppression_list_through_the_api(api_client_for, marketing):
    client = api_client_for(marketing)

    added = _post(
        client,
        "/api/v1/nurture/mail/suppressions",
        {"email": "Bob@Example.com", "reason": "complaint", "note": "phoned"},
    )
    twice = _post(client, "/api/v1/nurture/mail/suppressions", {"email": "bob@example.com"})
    bad = _post(client, "/api/v1/nurture/mail/suppressions", {"email": "not an address"})
    found = client.get("/api/v1/nurture/mail/suppressions", {"q": "BOB"})
    removed = client.delete(f"/api/v1/nurture/mail/suppressions/{added.json()['id']}")

    assert added.status_code == 201
    assert (added.json()["email"], added.json()["reason"]) == ("bob@example.com", "complaint")
    assert (twice.status_code, bad.status_code) == (422, 422)
    assert [e["email"] for e in found.json()] == ["bob@example.com"]
    assert removed.status_code == 204
    assert not Suppression.objects.exists()


def test_the_preview_page_shows_hostile_lead_values_as_text(logged_in_client, marketing, source):
    lead = make_lead(source, first_name=XSS, company_name='"><img src=x onerror=alert(1)>')
    client = logged_in_client(marketing)

    html = client.post(
        reverse("nurture:mail-template-preview"),
        {
            "subject": "Hi {first_name}",
            "body": "Dear {first_name} of {company}",
            "language": "en",
            "lead": lead.pk,
        },
        headers={"HX-Request": "true"},
    ).text

    assert "<script>" not in html
    assert "<img src=x" not in html
    assert 'sandbox=""' in html
    # The mail sits in srcdoc, escaped once more: the lead's value is escaped twice there.
    assert "&amp;lt;script&amp;gt;" in html


def test_the_pages_let_a_marketer_add_a_template_and_a_suppression_and_send(
    inbox, logged_in_client, marketing, lead
):
    client = logged_in_client(marketing)

    created = client.post(
        reverse("nurture:mail-template-new"),
        {
            "name": "Intro",
            "language": "en",
            "subject": "Hi",
            "body": "Hello {first_name}",
            "is_active": "on",
        },
    )
    template = MarketingTemplate.objects.get()
    listed = client.get(reverse("nurture:mail-templates")).text
    sent = client.post(
        reverse("nurture:mail-lead-messages", args=[lead.pk]), {"template": template.pk}
    )
    page = client.get(reverse("nurture:mail-lead-messages", args=[lead.pk])).text
    added = client.post(
        reverse("nurture:mail-suppressions"),
        {"email": "x@y.example", "reason": "manual", "note": ""},
    )
    refused = client.post(
        reverse("nurture:mail-template-new"),
        {
            "name": "Bad",
            "language": "en",
            "subject": "Hi {nope}",
            "body": "B",
        },
    )

    assert (created.status_code, sent.status_code, added.status_code) == (302, 302, 302)
    assert "Intro" in listed
    assert MarketingMessage.objects.get().subject == "Hi"
    assert "Hi" in page
    assert "Waiting to be sent" in page
    assert Suppression.objects.get().email == "x@y.example"
    assert refused.status_code == 422
    assert "{nope}" in refused.text
    mail.send_waiting()
    assert len(inbox.messages) == 1


def test_the_lead_page_shows_the_latest_marketing_mails_and_offers_marketing_to_send(
    inbox, logged_in_client, marketing, rep, lead, template
):
    mail.send_marketing_email(lead, template, by=marketing)
    path = reverse("leads:lead-detail", args=[lead.pk])

    for_marketing = logged_in_client(marketing).get(path).text
    for_rep = logged_in_client(rep).get(path).text

    assert "Ann, our spring offer" in for_marketing
    assert reverse("nurture:mail-lead-messages", args=[lead.pk]) in for_marketing
    assert "Ann, our spring offer" in for_rep
    assert reverse("nurture:mail-lead-messages", args=[lead.pk]) not in for_rep
