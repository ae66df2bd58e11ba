"""The demo's nurture examples (issue 15): the seed's brochure follow-up workflow as it ran on
the demo's nurturing leads over the last 24 days, driven by the real workflow engine.

Leads entered the workflow "Brochure follow-up" at times spread over those days. The demo plays
the weeks through on a simulated clock, an hour at a time: the engine's runner
(`workflows.services.live.run_due`) does each due step at its time (the brochure, the wait, the
survey invitation, the deadlines, the call list, disqualifying), and the people act at their
own times through the nurture services: some mails bounce, some are opened and clicked, a few
people unsubscribe, some answer the survey (a quote request makes the lead sales-ready, which
routes it), and the agent `agent.fenna` works the call list on weekday mornings at the desk. Each
act nudges the lead's workflow as a live one does. Only the SMTP server's "accepted" is the
demo's own, since the demo sends no mail.
"""

from __future__ import annotations

import datetime as dt
import heapq
import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from django.db import transaction
from django.test import override_settings

from leadloop.accounts.actors import SYSTEM
from leadloop.accounts.models import User
from leadloop.leads.models import Lead, LeadStatus
from leadloop.nurture import engagement
from leadloop.nurture.calls import services as calls
from leadloop.nurture.calls.models import CallList
from leadloop.nurture.calls.services import hours
from leadloop.nurture.mail import services as mail
from leadloop.nurture.mail.models import MarketingMessage, MarketingTemplate, MessageState
from leadloop.nurture.mail.services import tracking
from leadloop.nurture.surveys import services as surveys
from leadloop.nurture.surveys.models import Survey
from leadloop.nurture.workflows import services as workflows
from leadloop.nurture.workflows.models import Enrollment, EnrollmentState
from leadloop.nurture.workflows.services import live

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


CALL_LIST = "Brochure follow-up calls"
CALL_SCRIPTS = {
    "script_en": (
        "Hello {first_name}, this is {agent_name} from Leadloop.\n\n"
        "You downloaded our brochure recently. Did it answer your questions?\n\n"
        "- Is **{company}** looking at this for this year? *(timeframe)*\n"
        "- Is there a budget for it? *(budget)*\n"
        "- Who decides on it besides you? *(authority)*\n\n"
        "If it fits: offer a call with a sales rep who makes a quote."
    ),
    "script_nl": (
        "Hallo {first_name}, met {agent_name} van Leadloop.\n\n"
        "Je hebt onlangs onze brochure gedownload. Heeft die je vragen beantwoord?\n\n"
        "- Kijkt **{company}** hier dit jaar naar? *(timeframe)*\n"
        "- Is er budget voor? *(budget)*\n"
        "- Wie beslist er naast jou over? *(authority)*\n\n"
        "Past het: bied een gesprek aan met een verkoper die een offerte maakt."
    ),
}
# How the demo's calls go, with their weights.
CALL_OUTCOMES = (
    ("no_answer", 34),
    ("voicemail", 14),
    ("not_interested", 20),
    ("qualified", 13),
    ("callback", 9),
    ("wrong_number", 5),
    ("do_not_call", 5),
)
CALL_NOTES = {
    "not_interested": "Has a supplier for now; maybe next year.",
    "qualified": "Wants a quote; decides with the owner.",
    "callback": "In a meeting, asked to call back.",
    "do_not_call": "Asked not to be called again.",
}


WORKFLOW = "Brochure follow-up"
SPAN = dt.timedelta(days=24)
TICK = dt.timedelta(hours=1)


@dataclass(order=True)
class _Act:
    """Something a person does at a time: open a mail, answer, a morning at the call desk."""

    at: dt.datetime
    order: int
    run: Callable[[], None] = field(compare=False)


def nurture_examples(*, seed: int, now: dt.datetime, leads: int = 300) -> dict[str, int]:
    """The brochure follow-up workflow on up to `leads` nurturing leads (once: nothing when the
    demo's templates exist). Counts of what was made."""
    if MarketingTemplate.objects.filter(name=BROCHURE).exists():
        return {}
    rng = random.Random(f"{seed}:nurture")  # noqa: S311
    survey = _survey()
    for name, language, subject, body in TEMPLATES:
        mail.create_template(
            by=SYSTEM,
            name=name,
            language=language,
            subject=subject,
            body=body,
            survey_id=survey.pk if "{survey_url}" in body else None,
        )
    agent = User.objects.filter(username="agent.fenna").first()
    call_list = calls.create_call_list(
        by=SYSTEM,
        name=CALL_LIST,
        description="Nurturing leads of the brochure follow-up who opened the survey mail.",
        members=[agent.pk] if agent else [],
        **CALL_SCRIPTS,
    )
    workflow = workflows.create_from_template(
        by=SYSTEM, template="brochure-follow-up", name=WORKFLOW
    )
    version = workflows.activate(workflow, by=SYSTEM)
    picked = list(
        Lead.objects.filter(status=LeadStatus.NURTURING, merged_into__isnull=True).order_by("pk")[
            :leads
        ]
    )
    begin = now - SPAN
    latest = int((SPAN - TICK * 12).total_seconds())
    starts = sorted(
        (begin + dt.timedelta(seconds=rng.randint(0, latest)), n) for n in range(len(picked))
    )
    play = _Play(rng=rng, survey=survey, call_list=call_list, agent=agent)
    play.schedule_desk(begin, now)
    waiting = list(starts)
    moment = begin
    with engagement.quiet(), override_settings(LEADLOOP_SMTP=DEMO_SMTP):
        while moment <= now:
            entering = [picked[n] for at, n in waiting if at <= moment]
            waiting = [(at, n) for at, n in waiting if at > moment]
            if entering:
                with transaction.atomic():
                    live.enroll_leads(version, entering, by="trigger: nurturing", now=moment)
            play.act_until(moment)
            live.run_due(at=moment)
            play.sent(moment)
            moment = _next_tick(moment, waiting, play)
        play.act_until(now)
        live.run_due(at=now)
        play.sent(now)
    return {"enrolled": len(picked) - len(waiting), **play.counts}


def _next_tick(
    moment: dt.datetime, waiting: list[tuple[dt.datetime, int]], play: _Play
) -> dt.datetime:
    """The next hour in which something happens (a lead enters, a person acts, a step is due),
    so the hours in which nothing does are skipped."""
    due = (
        Enrollment.objects.filter(state=EnrollmentState.ACTIVE, due_at__isnull=False)
        .order_by("due_at")
        .values_list("due_at", flat=True)
        .first()
    )
    soonest = min(
        [t for t in (due, waiting[0][0] if waiting else None, play.next_act()) if t is not None],
        default=moment + SPAN,
    )
    hours = max(1, math.ceil((soonest - moment) / TICK))
    return moment + TICK * hours


class _Play:
    """The people's side of the demo's weeks: what each does with the mails, and the desk."""

    def __init__(
        self, *, rng: random.Random, survey: Survey, call_list: CallList, agent: User | None
    ) -> None:
        self.rng = rng
        self.survey = survey
        self.call_list = call_list
        self.agent = agent
        self.acts: list[_Act] = []
        self.counts: dict[str, int] = {}
        self._order = 0

    def _count(self, name: str) -> None:
        self.counts[name] = self.counts.get(name, 0) + 1

    def later(self, at: dt.datetime, run: Callable[[], None]) -> None:
        self._order += 1
        heapq.heappush(self.acts, _Act(at, self._order, run))

    def next_act(self) -> dt.datetime | None:
        return self.acts[0].at if self.acts else None

    def act_until(self, moment: dt.datetime) -> None:
        """Do every act whose time has come, in time order."""
        while self.acts and self.acts[0].at <= moment:
            heapq.heappop(self.acts).run()

    def _nudge(self, lead_id: int, at: dt.datetime) -> None:
        """What `workflows.services.live.nudge` does live, at the act's own time."""
        Enrollment.objects.filter(
            lead_id=lead_id, state=EnrollmentState.ACTIVE, due_at__gt=at
        ).update(due_at=at)

    def sent(self, moment: dt.datetime) -> None:
        """The mails the engine queued: accepted by the mail server at once, then what their
        readers do with them, at their own times."""
        queued = list(
            MarketingMessage.objects.filter(state=MessageState.PENDING)
            .select_related("template")
            .order_by("pk")
        )
        for message in queued:
            MarketingMessage.objects.filter(pk=message.pk).update(
                state=MessageState.SENT,
                attempts=1,
                sent_at=message.created_at,
                changed_at=message.created_at,
                claimed_at=message.created_at,
            )
            message.refresh_from_db()
            self._count("mails")
            self._react(message)

    def _react(self, message: MarketingMessage) -> None:
        rng, at = self.rng, message.created_at
        invitation = message.template is not None and message.template.name == INVITATION
        roll = rng.random()
        if roll < (0.02 if invitation else 0.04):
            self.later(at + dt.timedelta(minutes=2), partial(self._bounce, message))
            return
        if roll >= (0.55 if invitation else 0.50):
            return
        opened = at + _minutes(rng, 60 * 30)
        self.later(opened, partial(self._open, message, opened))
        if not invitation and rng.random() < 0.35:
            clicked = opened + _minutes(rng, 60 * 4)
            self.later(clicked, partial(self._click, message, clicked))
        if not invitation and rng.random() < 0.03:
            left = opened + dt.timedelta(hours=1)
            self.later(left, partial(self._unsubscribe, message, left))
        if invitation and rng.random() < 0.45:
            answered = opened + _minutes(rng, 60 * 30)
            self.later(answered, partial(self._answer, message, answered))

    def _bounce(self, message: MarketingMessage) -> None:
        at = message.created_at + dt.timedelta(minutes=2)
        mail.record_bounce(_bounce(message), at=at)
        self._count("bounced")
        self._nudge(message.lead_id, at)

    def _open(self, message: MarketingMessage, at: dt.datetime) -> None:
        _open(message, at=at)
        self._count("opened")
        self._nudge(message.lead_id, at)

    def _click(self, message: MarketingMessage, at: dt.datetime) -> None:
        _click(message, at=at)
        self._count("clicked")

    def _unsubscribe(self, message: MarketingMessage, at: dt.datetime) -> None:
        lead = Lead.objects.get(pk=message.lead_id)
        if lead.marketing_opt_out_at is None:
            tracking.unsubscribe(message, how="link", at=at)
            self._count("unsubscribed")

    def _answer(self, message: MarketingMessage, at: dt.datetime) -> None:
        lead = Lead.objects.get(pk=message.lead_id)
        if lead.status != LeadStatus.NURTURING or surveys.has_answered(lead, self.survey):
            return
        wants = _answer(lead, self.survey, self.rng, at=at)
        self._count("answered")
        if wants:
            self._count("wants_quote")
        self._nudge(lead.pk, at)

    def schedule_desk(self, begin: dt.datetime, now: dt.datetime) -> None:
        """The agent at the desk on weekday mornings from 9:15."""
        if self.agent is None:
            return
        zone = hours.calendar_for(self.call_list).zone
        day = begin.astimezone(zone).date()
        while day <= now.astimezone(zone).date():
            if day.weekday() < 5:
                morning = dt.datetime.combine(day, dt.time(9, 15), tzinfo=zone)
                if morning < now:
                    self.later(morning, partial(self._desk, morning))
            day += dt.timedelta(days=1)

    def _desk(self, morning: dt.datetime) -> None:
        assert self.agent is not None
        rng, moment = self.rng, morning
        for _call in range(rng.randint(10, 16)):
            moment += dt.timedelta(minutes=rng.randint(5, 14), seconds=rng.randint(0, 59))
            entry = calls.next_for(self.agent, at=moment)
            if entry is None:
                return
            outcome = rng.choices(
                [o for o, _w in CALL_OUTCOMES], weights=[w for _o, w in CALL_OUTCOMES]
            )[0]
            callback_at = None
            if outcome == "callback":
                asked = moment + dt.timedelta(days=rng.randint(1, 3), hours=4)
                callback_at = hours.next_calling_time(self.call_list, asked)
            reached = outcome in ("qualified", "not_interested", "callback", "do_not_call")
            calls.log_outcome(
                entry,
                by=self.agent,
                outcome=outcome,
                duration=rng.randint(90, 600) if reached else rng.randint(15, 40),
                notes=CALL_NOTES.get(outcome, ""),
                callback_at=callback_at,
                bant={"budget": "met", "need": "met", "timeframe": rng.choice(["met", "not_met"])}
                if outcome == "qualified"
                else None,
                at=moment,
            )
            self._count("calls")
            self._count(f"call_{outcome}")
            self._nudge(entry.lead_id, moment)


def _minutes(rng: random.Random, most: int) -> dt.timedelta:
    return dt.timedelta(minutes=rng.randint(1, most), seconds=rng.randint(0, 59))


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
