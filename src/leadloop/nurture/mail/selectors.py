"""Reads of marketing e-mail: templates, the suppression list and returned mail (marketing and
admins), the messages of a lead (whoever may see the lead), and the message behind a token."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from leadloop.accounts.actors import Actor
from leadloop.accounts.permissions import Permission, can, require
from leadloop.errors import NotFound
from leadloop.leads.selectors import require_lead_visible
from leadloop.nurture.mail.models import (
    DeliveryReport,
    MarketingMessage,
    MarketingTemplate,
    Suppression,
)


def can_manage_mail(actor: Actor) -> bool:
    """Marketing and admins write templates, send marketing mail and keep the suppression list."""
    return can(actor, Permission.MANAGE_NURTURE)


def list_templates_for(actor: Actor, *, language: str = "") -> QuerySet[MarketingTemplate]:
    """Every marketing template, for those who manage them; NotAllowed for anyone else."""
    require(actor, Permission.MANAGE_NURTURE)
    templates = MarketingTemplate.objects.all()
    if language:
        templates = templates.filter(language=language)
    return templates.order_by("name", "language", "id")


def get_template_for(actor: Actor, template_id: int) -> MarketingTemplate:
    template = list_templates_for(actor).filter(pk=template_id).first()
    if template is None:
        raise NotFound(_("No such marketing template."))
    return template


def list_suppressions_for(actor: Actor, *, search: str = "") -> QuerySet[Suppression]:
    """The suppression list, newest first, optionally the addresses containing `search`."""
    require(actor, Permission.MANAGE_NURTURE)
    entries = Suppression.objects.all()
    if search.strip():
        entries = entries.filter(email__contains=search.strip().lower())
    return entries.order_by("-created_at", "-id")


def get_suppression_for(actor: Actor, entry_id: int) -> Suppression:
    entry = list_suppressions_for(actor).filter(pk=entry_id).first()
    if entry is None:
        raise NotFound(_("No such address on the suppression list."))
    return entry


def list_lead_messages_for(actor: Actor, lead_id: int) -> QuerySet[MarketingMessage]:
    """The marketing mails of a lead `actor` may see (NotFound otherwise), newest first."""
    require_lead_visible(actor, lead_id)
    return MarketingMessage.objects.filter(lead_id=lead_id).order_by("-id")


def find_message(key: str) -> MarketingMessage | None:
    """The message a verified token names (the public unsubscribe page)."""
    return MarketingMessage.objects.select_related("lead").filter(key=key).first()


def list_reports_for(actor: Actor, *, unread: bool = False) -> QuerySet[DeliveryReport]:
    """Returned mail (bounces, complaints), newest first; with `unread`, only those not read
    (an error to look at, or still waiting). The raw bytes are left out (`defer`)."""
    require(actor, Permission.MANAGE_NURTURE)
    reports = DeliveryReport.objects.defer("raw")
    if unread:
        reports = reports.filter(processed_at__isnull=True)
    return reports.order_by("-received_at", "-id")


def get_report_for(actor: Actor, report_id: int) -> DeliveryReport:
    """One returned mail with its raw bytes."""
    require(actor, Permission.MANAGE_NURTURE)
    report = DeliveryReport.objects.filter(pk=report_id).first()
    if report is None:
        raise NotFound(_("No such returned mail."))
    return report
