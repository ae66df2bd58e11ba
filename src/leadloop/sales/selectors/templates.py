"""Reads of the e-mail templates reps send to leads."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from leadloop.accounts.actors import Actor
from leadloop.accounts.permissions import Permission, can, require
from leadloop.errors import NotFound
from leadloop.sales.models import EmailTemplate


def may_manage_templates(actor: Actor) -> bool:
    """Sales managers and admins write the templates."""
    return can(actor, Permission.MANAGE_FOLLOW_UP)


def list_templates_for(actor: Actor, *, language: str = "") -> QuerySet[EmailTemplate]:
    """Every template (inactive ones too) for those who manage them; the active ones for the
    rest of the sales team; NotAllowed for anyone else."""
    if may_manage_templates(actor):
        templates = EmailTemplate.objects.all()
    else:
        require(actor, Permission.FOLLOW_UP_LEADS)
        templates = EmailTemplate.objects.filter(is_active=True)
    if language:
        templates = templates.filter(language=language)
    return templates.order_by("name", "language", "id")


def get_template_for(actor: Actor, template_id: int) -> EmailTemplate:
    """One template `actor` may read (NotFound otherwise)."""
    template = list_templates_for(actor).filter(pk=template_id).first()
    if template is None:
        raise NotFound(_("No such e-mail template."))
    return template


def get_template_to_manage(actor: Actor, template_id: int) -> EmailTemplate:
    require(actor, Permission.MANAGE_FOLLOW_UP)
    return get_template_for(actor, template_id)
