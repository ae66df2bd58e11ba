"""The demo's nurture examples (issue 15): the seed's brochure follow-up as it ran on a few
hundred nurturing leads.

Ten days before the demo's day the brochure mail went out; some bounced, some were opened, some
clicked, a few unsubscribed. Three days ago those who opened it got the survey invitation, and
some answered: those who want a quote became sales-ready (and are routed like any other).
Everything goes through the nurture services (templates, survey, queueing, tracking, bounces,
unsubscribes, answers); only the SMTP server's "accepted" is the demo's own, since the demo
sends no mail.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from django.db import transaction
from django.test import override_settings

from leadloop.accounts.actors import SYSTEM
from leadloop.leads.models import Lead, LeadStatus
from leadloop.leads.selectors.privacy import can_receive_marketing
from leadloop.nurture.mail import services as mail
from leadloop.nurture.mail.models import MarketingMessage, MarketingTemplate, MessageState
from leadloop.nurture.mail.services import tracking
from leadloop.nurture.surveys import services as surveys
from leadloop.nurture.surveys.models import Survey

BROCHURE = "Brochure"
INVITATION = "Survey invitation"
SURVEY = "Brochure follow-up"
TEMPLATES = (
    (
        BROCHURE,
        "en",
        "{first_name}, here is the brochure you asked for",
        "Hello {first_name},\n\nThank you for your interest. "
        "[Read the brochure](https://leadloop.example/brochure.pdf) and see "
        "[our customer stories](https://leadloop.example/customers).\n\n"
        "Kind regards,\n\n{rep_name}",
    ),
    (
        BROCHURE,
        "nl",
        "{first_name}, hier is de brochure die je vroeg",
        "Hallo {first_name},\n\nBedankt voor je interesse. "
        "[Lees de brochure](https://leadloop.example/brochure-nl.pdf) en bekijk "
        "[onze klantverhalen](https://leadloop.example/klanten).\n\n"
        "Met vriendelijke groet,\n\n{rep_name}",
    ),
    (
        INVITATION,
        "en",
        "{first_name}, three questions about the brochure",
        "Hello {first_name},\n\nA week ago we sent you our brochure. Would you "
        "[answer three short questions]({survey_url})? It takes a minute.\n\n"
        "Kind regards,\n\n{rep_name}",
    ),
    (
        INVITATION,
        "nl",
        "{first_name}, drie vragen over de brochure",
        "Hallo {first_name},\n\nVorige week stuurden we je onze brochure. Wil je "
        "[drie korte vragen beantwoorden]({survey_url})? Het kost een minuut.\n\n"
        "Met vriendelijke groet,\n\n{rep_name}",
    ),
)
MAIL_CLIENT = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/130.0 Safari/537"
DEMO_SMTP = {"host": "smtp.demo.invalid", "port": 25}


def nurture_examples(*, seed: int, now: dt.datetime, leads: int = 300) -> dict[str, int]:
    """The brochure follow-up on up to `leads` nurturing leads (once: nothing when the demo's
    templates exist). Counts of what was made."""
    if MarketingTemplate.objects.filter(name=BROCHURE).exists():
        return {}
    rng = random.Random(f"{seed}:nurture")  # noqa: S311
    survey = _survey()
    templates = {
        (name, language): mail.create_template(
            by=SYSTEM,
            name=name,
            language=language,
            subject=subject,
            body=body,
            survey_id=survey.pk if "{survey_url}" in body else None,
        )
        for name, language, subject, body in TEMPLATES
    }
    picked = [
        lead
        for lead in Lead.objects.filter(
            status=LeadStatus.NURTURING, merged_into__isnull=True, email__gt=""
        ).order_by("pk")[: leads * 2]
        if can_receive_marketing(lead)
    ][:leads]
    counts = {"brochures": 0, "bounced": 0, "opened": 0, "clicked": 0, "unsubscribed": 0}
    counts |= {"invitations": 0, "answered": 0, "wants_quote": 0}
    sent_at = now - dt.timedelta(days=10, hours=-9)
    invited_at = now - dt.timedelta(days=3, hours=-9)
    openers = []
    for lead in picked:
        at = sent_at + _minutes(rng, 90)
        message = _send(lead, templates[(BROCHURE, "en")], at=at)
        counts["brochures"] += 1
        roll = rng.random()
        if roll < 0.04:
            mail.record_bounce(_bounce(message), at=at + dt.timedelta(minutes=2))
            counts["bounced"] += 1
            continue
        if roll < 0.50:
            _open(message, at=at + _minutes(rng, 60 * 30))
            counts["opened"] += 1
            if rng.random() < 0.35:
                _click(message, at=at + _minutes(rng, 60 * 40))
                counts["clicked"] += 1
            if rng.random() < 0.03:
                tracking.unsubscribe(message, how="link", at=at + _minutes(rng, 600))
                counts["unsubscribed"] += 1
                continue
            openers.append(lead)
    for lead in openers:
        lead.refresh_from_db()
        if not can_receive_marketing(lead):
            continue
        at = invited_at + _minutes(rng, 60)
        message = _send(lead, templates[(INVITATION, "en")], at=at)
        counts["invitations"] += 1
        if rng.random() < 0.6:
            _open(message, at=at + _minutes(rng, 60 * 20))
        if rng.random() < 0.45:
            wants = _answer(lead, survey, rng, at=at + _minutes(rng, 60 * 30))
            counts["answered"] += 1
            counts["wants_quote"] += wants
    return counts


def _minutes(rng: random.Random, most: int) -> dt.timedelta:
    return dt.timedelta(minutes=rng.randint(1, most), seconds=rng.randint(0, 59))


def _send(lead: Lead, template: MarketingTemplate, *, at: dt.datetime) -> MarketingMessage:
    """Queue the mail through the service (in the lead's language), then note what a mail
    server would answer: accepted at once. The demo has no SMTP server to send it to."""
    with override_settings(LEADLOOP_SMTP=DEMO_SMTP), transaction.atomic():
        message = mail.send_marketing_email(lead, template, by=SYSTEM, at=at)
        MarketingMessage.objects.filter(pk=message.pk, state=MessageState.PENDING).update(
            state=MessageState.SENT, attempts=1, sent_at=at, changed_at=at, claimed_at=at
        )
    message.refresh_from_db()
    return message


def _hit(at: dt.datetime) -> tracking.Hit:
    return tracking.Hit(ip="198.51.100.23", user_agent=MAIL_CLIENT, at=at)


def _open(message: MarketingMessage, *, at: dt.datetime) -> None:
    with transaction.atomic():
        tracking.record_open(message.key, _hit(at))
    _count(message)


def _click(message: MarketingMessage, *, at: dt.datetime) -> None:
    if message.links:
        with transaction.atomic():
            tracking.record_click(message.key, 0, _hit(at))
        _count(message)


def _count(message: MarketingMessage) -> None:
    """What a worker does a few seconds after the hit: judge it and log the engagement."""
    tracking.process_hits()


def _bounce(message: MarketingMessage) -> bytes:
    """The delivery report a receiving server sends for an address that does not exist."""
    return (
        "From: MAILER-DAEMON@mx.demo.invalid\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="B1"\r\n\r\n'
        "--B1\r\nContent-Type: text/plain\r\n\r\nYour message could not be delivered.\r\n"
        "--B1\r\nContent-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; mx.demo.invalid\r\n\r\n"
        f"Final-Recipient: rfc822; {message.to}\r\nAction: failed\r\nStatus: 5.1.1\r\n"
        "Diagnostic-Code: smtp; 550 5.1.1 Recipient address rejected: no such user\r\n\r\n"
        "--B1\r\nContent-Type: text/rfc822-headers\r\n\r\n"
        f"To: {message.to}\r\nMessage-ID: {message.message_id}\r\n"
        f"Subject: {message.subject}\r\n\r\n--B1--\r\n"
    ).encode()


def _survey() -> Survey:
    survey = surveys.create_survey(
        by=SYSTEM,
        name=SURVEY,
        title_en="Three questions about our brochure",
        title_nl="Drie vragen over onze brochure",
        intro_en="Thank you for reading our brochure. Your answers help us help you.",
        intro_nl="Bedankt voor het lezen van onze brochure. Met je antwoorden helpen we je beter.",
    )
    wish = surveys.add_question(
        survey,
        by=SYSTEM,
        kind="single",
        text_en="What would you like next?",
        text_nl="Wat wil je nu?",
        is_required=True,
        choices=(
            "A quote | Een offerte\nA call to talk it over | Een belletje om het te bespreken\n"
            "Nothing for now | Voorlopig niets"
        ),
    )
    surveys.add_question(
        survey,
        by=SYSTEM,
        kind="single",
        text_en="Is there a budget for this?",
        text_nl="Is hier budget voor?",
        maps_to="bant_budget",
        choices="Yes | Ja | met\nNot yet | Nog niet | not_met",
    )
    surveys.add_question(
        survey,
        by=SYSTEM,
        kind="single",
        text_en="When would you like to start?",
        text_nl="Wanneer wil je beginnen?",
        maps_to="bant_timeframe",
        choices="Within three months | Binnen drie maanden | met\nLater | Later | not_met",
    )
    surveys.add_rule(survey, by=SYSTEM, question_id=wish.pk, choice="a-quote", action="sales_ready")
    return survey


def _answer(lead: Lead, survey: Survey, rng: random.Random, *, at: dt.datetime) -> bool:
    """The lead answers on its survey page; True when it asked for a quote."""
    questions = list(survey.questions.order_by("position"))
    posted: dict[str, Any] = {}
    for question in questions:
        keys = [choice["key"] for choice in question.choices]
        posted[question.field_name] = keys[0] if rng.random() < 0.4 else rng.choice(keys)
    wants = posted[questions[0].field_name] == "a-quote"
    surveys.submit(
        lead,
        survey,
        posted=posted,
        raw="&".join(f"{k}={v}" for k, v in posted.items()),
        content_type="application/x-www-form-urlencoded",
        language=surveys.page_language(lead, survey),
        at=at,
    )
    return wants
