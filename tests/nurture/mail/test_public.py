"""The links in a marketing mail work without logging in: the unsubscribe page and the RFC 8058
one-click POST unsubscribe at once, the pixel and click redirects count only a message's first
human open and click, and a tampered token is a bare 404."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from leadloop.leads.models import Activity, ActivityKind, Lead
from leadloop.nurture.mail import services as mail
from leadloop.nurture.mail.models import (
    MessageState,
    Suppression,
    SuppressionReason,
    TrackingEvent,
    TrackingHit,
)
from leadloop.nurture.mail.services import tokens

pytestmark = pytest.mark.django_db
START = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
BROWSER = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/131.0 Safari/537.36"


@pytest.fixture
def sent(inbox, template, lead, marketing):
    """A mail sent at START."""
    with time_machine.travel(START, tick=False):
        message = mail.send_marketing_email(lead, template, by=marketing)
        mail.send_waiting()
    message.refresh_from_db()
    assert message.state == MessageState.SENT
    return message


def _unsubscribe_path(message) -> str:
    return reverse("nurture:mail-unsubscribe", args=[tokens.unsubscribe_token(message.key)])


def _open(client, message, **headers):
    path = reverse("nurture:mail-open", args=[tokens.open_token(message.key)])
    return client.get(path, headers={"User-Agent": BROWSER, **headers})


def _click(client, message, index, **headers):
    path = reverse("nurture:mail-click", args=[tokens.click_token(message.key, index)])
    return client.get(path, headers={"User-Agent": BROWSER, **headers})


def _count_queued(django_capture_on_commit_callbacks, request):
    """Run a request, then the judging of its hit the task does a few seconds later."""
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = request()
    mail.process_hits()
    return response, callbacks


def test_the_page_then_its_button_unsubscribe_without_logging_in(sent, template, marketing):
    client = Client(enforce_csrf_checks=True)

    page = client.get(_unsubscribe_path(sent))
    done = client.post(_unsubscribe_path(sent))

    assert page.status_code == 200
    assert '<form method="post">' in page.text
    assert done.status_code == 200
    assert "You are unsubscribed" in done.text
    entry = Suppression.objects.get()
    assert (entry.email, entry.reason) == ("ann@smit.example", SuppressionReason.UNSUBSCRIBED)
    lead = Lead.objects.get(pk=sent.lead_id)
    assert lead.marketing_opt_out_at is not None
    assert Activity.objects.filter(lead=lead, kind=ActivityKind.OBJECTION).count() == 1


def test_the_one_click_post_of_a_mail_client_unsubscribes_at_once_and_stops_queued_mail(
    sent, inbox, template, marketing
):
    lead = Lead.objects.get(pk=sent.lead_id)
    waiting = mail.send_marketing_email(lead, template, by=marketing)

    response = Client(enforce_csrf_checks=True).post(
        _unsubscribe_path(sent), {"List-Unsubscribe": "One-Click"}
    )
    mail.send_waiting()

    assert response.status_code == 200
    assert Suppression.objects.filter(email="ann@smit.example").count() == 1
    waiting.refresh_from_db()
    assert waiting.state == MessageState.SKIPPED
    assert len(inbox.messages) == 1  # only the first mail, sent before


def test_the_unsubscribe_page_speaks_the_leads_language(inbox, marketing, source, settings):
    from tests.factories.leads import make_lead

    template = mail.create_template(by=marketing, name="N", language="nl", subject="S", body="B")
    lead = make_lead(source, email="jan@example.nl", language="nl")
    message = mail.send_marketing_email(lead, template, by=marketing)

    page = Client().get(_unsubscribe_path(message), headers={"Accept-Language": "en"})

    assert '<html lang="nl">' in page.text


def _other_first_char(key: str) -> str:
    """The key with its first character changed (keys are random, so "x" may be the first)."""
    return ("y" if key[0] == "x" else "x") + key[1:]


@pytest.mark.parametrize("name", ["mail-unsubscribe", "mail-open", "mail-click"])
def test_a_tampered_token_is_a_bare_404(sent, name):
    good = {
        "mail-unsubscribe": tokens.unsubscribe_token(sent.key),
        "mail-open": tokens.open_token(sent.key),
        "mail-click": tokens.click_token(sent.key, 0),
    }[name]
    forged = [
        good[:-1] + ("A" if good[-1] != "A" else "B"),
        tokens.unsubscribe_token(_other_first_char(sent.key))
        if name == "mail-unsubscribe"
        else good[2:],
        tokens.open_token(sent.key) if name != "mail-open" else tokens.click_token(sent.key, 0),
    ]

    responses = [Client().get(reverse(f"nurture:{name}", args=[token])) for token in forged]

    assert [r.status_code for r in responses] == [404, 404, 404]
    assert {r.content for r in responses} == {b"Not found."}
    assert not Suppression.objects.exists()
    assert not TrackingHit.objects.exists()
    assert not TrackingEvent.objects.exists()


def test_a_flood_of_pixel_hits_counts_one_open(sent, django_capture_on_commit_callbacks):
    client = Client()
    with time_machine.travel(START + dt.timedelta(minutes=5), tick=False):
        responses = []
        for _ in range(25):
            response, _cb = _count_queued(
                django_capture_on_commit_callbacks, lambda: _open(client, sent)
            )
            responses.append(response)

    assert {r.status_code for r in responses} == {200}
    assert responses[0]["Content-Type"] == "image/gif"
    assert "no-store" in responses[0]["Cache-Control"]
    assert TrackingEvent.objects.count() == 25
    assert TrackingEvent.objects.filter(counted=True).count() == 1
    assert (
        Activity.objects.filter(lead_id=sent.lead_id, kind=ActivityKind.EMAIL_OPENED).count() == 1
    )


def test_apple_privacy_protection_opens_are_stored_but_not_counted(
    sent, django_capture_on_commit_callbacks
):
    client = Client()
    with time_machine.travel(START + dt.timedelta(minutes=5), tick=False):
        _count_queued(
            django_capture_on_commit_callbacks,
            lambda: _open(client, sent, **{"User-Agent": "Mozilla/5.0"}),
        )
        _count_queued(
            django_capture_on_commit_callbacks,
            lambda: client.get(
                reverse("nurture:mail-open", args=[tokens.open_token(sent.key)]),
                headers={"User-Agent": BROWSER},
                REMOTE_ADDR="17.58.1.2",
            ),
        )

    assert list(TrackingEvent.objects.values_list("verdict", flat=True)) == ["machine", "machine"]
    assert not Activity.objects.filter(
        lead_id=sent.lead_id, kind=ActivityKind.EMAIL_OPENED
    ).exists()
    sent.refresh_from_db()
    assert sent.first_opened_at is None


def test_a_scanner_clicking_within_seconds_does_not_count_but_the_person_later_does(
    sent, django_capture_on_commit_callbacks
):
    client = Client()
    with time_machine.travel(START + dt.timedelta(seconds=4), tick=False):
        scan = [
            _count_queued(django_capture_on_commit_callbacks, lambda i=i: _click(client, sent, i))[
                0
            ]
            for i in (0, 1)
        ]
    with time_machine.travel(START + dt.timedelta(hours=2), tick=False):
        person, _cb = _count_queued(
            django_capture_on_commit_callbacks, lambda: _click(client, sent, 1)
        )
        _count_queued(django_capture_on_commit_callbacks, lambda: _click(client, sent, 0))

    assert [r["Location"] for r in scan] == [
        "https://acme.example/offer?x=1&y=2",
        "https://acme.example/blog",
    ]
    assert person.status_code == 302
    verdicts = list(TrackingEvent.objects.order_by("id").values_list("verdict", flat=True))
    assert verdicts == ["scanner", "scanner", "human", "repeat"]
    [clicked] = Activity.objects.filter(lead_id=sent.lead_id, kind=ActivityKind.EMAIL_CLICKED)
    assert clicked.data["url"] == "https://acme.example/blog"


def test_the_click_redirect_goes_only_to_the_messages_own_links(sent):
    client = Client()
    path = reverse("nurture:mail-click", args=[tokens.click_token(sent.key, 0)])

    own = client.get(path + "?url=https://evil.example/", headers={"User-Agent": BROWSER})
    beyond = _click(client, sent, 7)

    assert own.status_code == 302
    assert own["Location"] == "https://acme.example/offer?x=1&y=2"
    assert beyond.status_code == 404
