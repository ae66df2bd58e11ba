"""Load the demo: reference data, then the leads in chunks, audit events and privacy examples."""

from __future__ import annotations

import datetime as dt
import logging
import time
from typing import Any

from django.core.management.color import no_style
from django.db import connection, transaction
from django.utils import timezone

from leadloop.accounts.actors import SYSTEM
from leadloop.accounts.audit import record_audit, record_audit_many
from leadloop.accounts.models import AuditAction, AuditTarget, Role, User
from leadloop.analytics.models import AlertKind, AlertRule
from leadloop.analytics.services import alerts, facts
from leadloop.demo.dataset import chunks
from leadloop.demo.dataset.leads import _LeadMaker
from leadloop.demo.dataset.nurture import nurture_examples
from leadloop.demo.dataset.reference import DemoResult, _countries, _reference
from leadloop.demo.dataset.routing import routing_examples
from leadloop.demo.dataset.sales import sales_setup
from leadloop.demo.dataset.selling import selling_examples
from leadloop.demo.dataset.webhooks import webhook_examples
from leadloop.demo.dataset.world import CHUNK, PARTNER_USER, USERS
from leadloop.leads import services
from leadloop.leads.models import (
    ChannelKind,
    Lead,
    LeadStatus,
    Source,
)
from leadloop.sales.services import sweep, tally

logger = logging.getLogger("leadloop.demo")


def _audit_events() -> None:
    """A few audit entries, so the admin's audit log is not empty on the first visit: logins, a
    source change, lead views and an export, the way the app itself records them."""
    users = {u.username: u for u in User.objects.filter(username__in=[u[0] for u in USERS])}
    admin, marketing, rep = users.get("admin"), users.get("marketing"), users.get("rep.noor")
    record_audit(
        actor=None,
        action=AuditAction.LOGIN_FAILED,
        target_type=AuditTarget.USER,
        target_id=rep.pk if rep else None,
        target_label=rep.username if rep else "",
        data={"known_user": rep is not None},
    )
    for user in (marketing, rep, admin):
        if user is not None:
            record_audit(
                actor=user,
                action=AuditAction.LOGIN,
                target_type=AuditTarget.USER,
                target_id=user.pk,
                target_label=user.username,
            )
    source = Source.objects.order_by("pk").first()
    if marketing is not None and source is not None:
        services.audit_source(source, by=marketing, change="mapping", sections=["fields"])
    if rep is not None:
        for lead_id in (
            Lead.objects.filter(assigned_to=rep).order_by("-pk").values_list("pk", flat=True)[:3]
        ):
            record_audit(
                actor=rep,
                action=AuditAction.LEAD_VIEWED,
                target_type=AuditTarget.LEAD,
                target_id=lead_id,
            )
    if marketing is not None:
        record_audit_many(
            actor=marketing,
            action=AuditAction.LEAD_EXPORTED,
            target_type=AuditTarget.LEAD,
            count=Lead.objects.filter(status=LeadStatus.WON).count(),
            data={"format": "xlsx", "filters": {"status": ["won"]}},
        )


# --- Loading -------------------------------------------------------------------------------------


def _privacy_examples(first_id: int, now: dt.datetime) -> None:
    """Two people who objected (an unsubscribe and an objection to processing) and one lost
    lead erased on request, so a newcomer sees what privacy requests leave behind."""
    from leadloop.accounts.actors import SYSTEM
    from leadloop.leads.services import erase_lead_personal_data, record_objection

    ours = Lead.objects.filter(pk__gte=first_id).exclude(email="").order_by("pk")
    nurtured = list(ours.filter(status=LeadStatus.NURTURING)[:2])
    for lead, kind, where in zip(
        nurtured,
        ("marketing", "processing"),
        ("Unsubscribe link in the newsletter", "E-mail to the privacy desk"),
        strict=False,
    ):
        record_objection(lead, by=SYSTEM, source=where, at=now, **{kind: True})
    lost = ours.filter(status=LeadStatus.LOST).first()
    if lost is not None:
        with transaction.atomic():
            erase_lead_personal_data(lost, by=SYSTEM, reason="request", at=now)


# What the intake queue shows on the first login: a vendor's lead held for review (its only
# contact, a phone number, is not valid for the Netherlands) and a post that could not be read.
# Neither makes a lead, so the demo's leads stay exactly what the seed gives.
INTAKE_EXAMPLES = (
    (
        "LeadMarkt HTTP POST",
        "application/json",
        b'{"first_name": "Sanne", "last_name": "Visser", "phone": "+31 6 1234",'
        b' "comments": "Offerte zonnepanelen graag"}',
    ),
    ("LeadMarkt HTTP POST", "application/xml", b"<lead><first_name>Bram</first_name>"),
)


# What the review queue shows on the first login: posts the fraud screen holds back (a test name,
# a throwaway mailbox). These do make leads, held until a person accepts or rejects them, so the
# demo has a few leads more than the seed's count.
HELD_EXAMPLES = (
    b'{"first_name": "Test", "last_name": "Test", "email": "test.test@yopmail.com",'
    b' "comments": "asdf"}',
    b'{"first_name": "Piet", "last_name": "Test", "email": "piet.test@yopmail.com",'
    b' "city": "Utrecht"}',
    b'{"first_name": "Jan", "last_name": "Test", "email": "jan.test@guerrillamail.com",'
    b' "company": "Test B.V."}',
)


def _intake_examples() -> None:
    from leadloop.intake import services as intake_services

    for body in HELD_EXAMPLES:
        source = Source.objects.filter(name="LeadMarkt HTTP POST").first()
        if source is None:
            break
        submission = intake_services.receive(
            source=source, channel="http", body=body, content_type="application/json"
        )
        intake_services.process_submission(submission.pk, submission=submission)
    for name, content_type, body in INTAKE_EXAMPLES:
        source = Source.objects.filter(name=name).first()
        if source is None:
            continue
        submission = intake_services.receive(
            source=source, channel="http", body=body, content_type=content_type
        )
        intake_services.process_submission(submission.pk, submission=submission)


DEMO_FORM: dict[str, Any] = {
    "intro": "Tell us a little about your team and we will show you around.",
    "submit_label": "Request my demo",
    "thank_you_message": "Thank you! We will call you within one working day.",
    "consent_text": "I agree that Leadloop Demo may contact me about my request.",
    "consent_version": "2026-01",
    "consent_purpose": "Contact about a demo",
}
DEMO_FORM_DUTCH = {
    "title": "Vraag een demo aan",
    "intro": "Vertel ons iets over je team, dan laten we je alles zien.",
    "submit_label": "Demo aanvragen",
    "thank_you_message": "Bedankt! We bellen je binnen een werkdag.",
    "consent_text": "Ik ga akkoord dat Leadloop Demo contact met me opneemt over mijn aanvraag.",
}


# A Dutch-only form that addresses its visitors with "u" (the app's own texts on it follow), with
# no thank-you message of its own, so the app's formal one shows.
DEMO_FORMAL_FORM: dict[str, Any] = {
    "title": "Offerte aanvragen",
    "intro": "Laat uw gegevens achter, dan sturen wij u binnen twee werkdagen een offerte op maat.",
    "submit_label": "Offerte aanvragen",
    "consent_text": "Ik ga ermee akkoord dat Leadloop Demo contact met mij opneemt.",
    "consent_version": "2026-01",
    "consent_purpose": "Contact over een offerte",
}


def _web_form_example() -> None:
    """The contact form of the web-form source, in English and Dutch (`/f/contact/`), and a
    formal Dutch quote form (`/f/offerte/`)."""
    from leadloop.intake.web_forms import services as web_forms
    from leadloop.intake.web_forms.models import FieldInput, LeadForm

    source = Source.objects.filter(kind=ChannelKind.WEB_FORM).order_by("pk").first()
    if source is None:
        return
    if not LeadForm.objects.filter(slug="offerte").exists():
        web_forms.create_form(
            source=source,
            by=SYSTEM,
            slug="offerte",
            language="nl",
            languages=["nl"],
            is_formal=True,
            **DEMO_FORMAL_FORM,
        )
    if LeadForm.objects.filter(slug="contact").exists():
        return
    form = web_forms.create_form(
        source=source,
        by=SYSTEM,
        title="Request a demo",
        slug="contact",
        language="en",
        languages=["en", "nl"],
        translations={"nl": DEMO_FORM_DUTCH},
        **DEMO_FORM,
    )
    web_forms.add_field(
        form,
        by=SYSTEM,
        label="Team size",
        target="extra:team_size",
        input_type=FieldInput.SELECT,
        choices="1–10\n11–50\n51+",
        help_text="Roughly is fine.",
        translations={"nl": {"label": "Teamgrootte", "help_text": "Ongeveer is prima."}},
    )


def load_demo(
    *,
    leads: int = 20_000,
    seed: int = 1,
    now: dt.datetime | None = None,
    if_empty: bool = False,
    chunk_size: int = CHUNK,
    jobs: int = 1,
) -> DemoResult:
    """Load the demo data set: users, sources, campaigns, organisations and `leads` leads.

    The same seed on the same day gives the same data (`now` defaults to today 00:00 UTC). Running
    it again on a database with data reuses the users, sources and campaigns and adds more leads;
    with `if_empty` it does nothing when any lead exists. On PostgreSQL `jobs` processes write
    the leads at once (`chunks.load`).
    """
    began = time.perf_counter()
    users = (*((u[0], str(u[1])) for u in USERS), (PARTNER_USER[0], str(Role.PARTNER)))
    if if_empty and Lead.objects.exists():
        return DemoResult(0, 0, 0, time.perf_counter() - began, True, users)
    if now is None:
        now = timezone.now().replace(hour=0, minute=0, second=0, microsecond=0)
    now = now.astimezone(dt.UTC)
    countries = _countries(seed)
    existing = Lead.objects.count()
    org_count = min(max(leads // 40, 20), 25_000)
    with transaction.atomic():
        ref = _reference(seed, now.date(), org_count, countries)
    logger.info(
        "demo: reference data ready in %.1f s (%d organisations)",
        time.perf_counter() - began,
        len(ref.organizations),
    )
    sales_setup()
    maker = _LeadMaker(ref, countries, now, leads)
    first_id = (Lead.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1
    plan = chunks.Plan(maker, now, seed, existing, first_id)
    activity_count = chunks.load(plan, leads, chunk_size, jobs=jobs)
    with connection.cursor() as cursor:
        for sql in connection.ops.sequence_reset_sql(no_style(), [Lead]):
            cursor.execute(sql)
    _privacy_examples(first_id, now)
    with connection.cursor() as cursor:
        # Fresh statistics, so the planner sees a million rows and not an empty table.
        cursor.execute("ANALYZE leads_lead" if connection.vendor == "postgresql" else "ANALYZE")
        if connection.vendor == "postgresql":
            cursor.execute("ANALYZE leads_activity")
    _audit_events()
    _intake_examples()
    _web_form_example()
    with webhook_examples():
        routing_examples(seed=seed, now=now)
    nurtured = nurture_examples(seed=seed, now=now, leads=min(3000, max(leads // 6, 20)))
    logger.info("demo: nurture examples %s", nurtured)
    logger.info("demo: lead market %s", selling_examples())
    # Reminders and breaches that fell due between the demo's day and now, as the sweep would.
    sweep.check()
    # The pipeline totals' rows the load wrote, added up as the worker does every minute.
    tally.fold()
    # Every lead's funnel facts, so the analytics pages show the year on first login.
    facts_written = facts.rebuild()
    logger.info("demo: analytics facts of %d leads", facts_written)
    logger.info("demo: alerts %s", _alert_examples(now))
    seconds = time.perf_counter() - began
    logger.info("demo: done, %d leads and %d activities in %.1f s", leads, activity_count, seconds)
    return DemoResult(leads, activity_count, len(ref.organizations), seconds, False, users)


def _alert_examples(now: dt.datetime) -> dict[str, int]:
    """Marketing watches sources that do not pay, the north's manager the teams' overdue share;
    checked once, so the breaches are in their notifications on first login."""
    if AlertRule.objects.exists():
        return {}
    marketing = User.objects.filter(username="marketing").first()
    manager = User.objects.filter(username="manager.north").first()
    if marketing is None or manager is None:
        return {}
    alerts.create_rule(
        by=SYSTEM, name="Bron verdient zich niet terug", kind=AlertKind.ROI_BELOW,
        threshold="1", window_days=90, owner=marketing,
    )  # fmt: skip
    alerts.create_rule(
        by=SYSTEM, name="Kosten per order boven € 2.500", kind=AlertKind.CPO_ABOVE,
        threshold="2500", window_days=90, owner=marketing,
    )  # fmt: skip
    alerts.create_rule(
        by=SYSTEM, name="Te veel te laat opgevolgd", kind=AlertKind.OVERDUE_ABOVE,
        threshold="10", window_days=30, owner=manager,
    )  # fmt: skip
    alerts.create_rule(
        by=SYSTEM, name="Website stuurt niets meer", kind=AlertKind.SOURCE_SILENT,
        silent_hours=24, source=Source.objects.filter(name="Website contact form").first(),
        owner=marketing,
    )  # fmt: skip
    return alerts.evaluate(now=now)
