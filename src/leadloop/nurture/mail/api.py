"""/api/v1/nurture/mail: marketing templates (with a preview against a lead), sending to a
lead, a lead's marketing mails, and the suppression list. Marketing and admins, except the
list of a lead's mails, which whoever may see the lead reads."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema, Status
from pydantic import Field

from leadloop.accounts.actors import Actor, actor_from_request
from leadloop.core.schemas import StrictIn as In
from leadloop.leads.selectors import get_lead_for
from leadloop.nurture.mail import selectors
from leadloop.nurture.mail import services as mail
from leadloop.nurture.mail.models import MarketingMessage, MarketingTemplate, Suppression

router = Router()


def _actor(request: HttpRequest) -> Actor:
    return actor_from_request(request)


class TemplateOut(Schema):
    id: int
    name: str
    language: str
    subject: str
    body: str
    is_active: bool
    survey_id: int | None = Field(None, description="The survey {survey_url} links to")
    updated_at: dt.datetime


class TemplateIn(In):
    name: str = Field(..., max_length=100)
    language: str = Field(..., max_length=8, description="A language code, like en or nl")
    subject: str = Field(..., max_length=200)
    body: str = Field(..., max_length=100000, description="Markdown with {merge_fields}")
    is_active: bool = True
    survey_id: int | None = Field(
        None, description="The active survey {survey_url} links to (required when it is used)"
    )


class TemplatePatch(In):
    name: str | None = Field(None, max_length=100)
    language: str | None = Field(None, max_length=8)
    subject: str | None = Field(None, max_length=200)
    body: str | None = Field(None, max_length=100000)
    is_active: bool | None = None
    survey_id: int | None = None


class PreviewIn(In):
    lead_id: int | None = Field(None, description="Fill the merge fields from this lead")


class PreviewOut(Schema):
    subject: str
    html: str
    text: str
    links: list[str]
    html_bytes: int


class SendIn(In):
    template_id: int


class MessageOut(Schema):
    id: int
    lead_id: int
    template_id: int | None
    to: str
    language: str
    subject: str
    message_id: str
    state: str
    attempts: int
    error: str
    created_at: dt.datetime
    sent_at: dt.datetime | None
    first_opened_at: dt.datetime | None
    first_clicked_at: dt.datetime | None
    unsubscribed_at: dt.datetime | None


class SuppressionIn(In):
    email: str = Field(..., max_length=254)
    reason: str = Field("manual", description="unsubscribed, hard_bounce, complaint or manual")
    note: str = Field("", max_length=300)


class SuppressionOut(Schema):
    id: int
    email: str
    reason: str
    note: str
    created_at: dt.datetime


def _template(item: MarketingTemplate) -> dict[str, Any]:
    return {
        name: getattr(item, name)
        for name in (
            "id",
            "name",
            "language",
            "subject",
            "body",
            "is_active",
            "survey_id",
            "updated_at",
        )
    }


def _message(item: MarketingMessage) -> dict[str, Any]:
    return {name: getattr(item, name) for name in MessageOut.model_fields}


def _suppression(item: Suppression) -> dict[str, Any]:
    return {name: getattr(item, name) for name in SuppressionOut.model_fields}


@router.get("/templates", response=list[TemplateOut], url_name="nurture-mail-templates")
def list_mail_templates(request: HttpRequest, language: str = "") -> list[dict[str, Any]]:
    """The marketing templates (marketing and admins)."""
    items = selectors.list_templates_for(_actor(request), language=language.strip()[:8])
    return [_template(item) for item in items]


@router.post("/templates", response={201: TemplateOut}, url_name="nurture-mail-template-add")
def create_mail_template(request: HttpRequest, payload: TemplateIn) -> Status:
    """Add a template; unknown merge fields and a mail over 100 KB answer 422."""
    return Status(201, _template(mail.create_template(by=_actor(request), **payload.dict())))


@router.get("/templates/{template_id}", response=TemplateOut, url_name="nurture-mail-template")
def get_mail_template(request: HttpRequest, template_id: int) -> dict[str, Any]:
    return _template(selectors.get_template_for(_actor(request), template_id))


@router.patch(
    "/templates/{template_id}", response=TemplateOut, url_name="nurture-mail-template-update"
)
def update_mail_template(
    request: HttpRequest, template_id: int, payload: TemplatePatch
) -> dict[str, Any]:
    actor = _actor(request)
    template = selectors.get_template_for(actor, template_id)
    changes = payload.dict(exclude_unset=True)
    return _template(mail.update_template(template, by=actor, **changes))


@router.delete(
    "/templates/{template_id}", response={204: None}, url_name="nurture-mail-template-delete"
)
def delete_mail_template(request: HttpRequest, template_id: int) -> Status:
    actor = _actor(request)
    mail.delete_template(selectors.get_template_for(actor, template_id), by=actor)
    return Status(204, None)


@router.post(
    "/templates/{template_id}/preview",
    response=PreviewOut,
    url_name="nurture-mail-template-preview",
)
def preview_mail_template(
    request: HttpRequest, template_id: int, payload: PreviewIn
) -> dict[str, Any]:
    """The mail as a lead you may see (or a made-up lead) would get it; nothing is stored."""
    actor = _actor(request)
    template = selectors.get_template_for(actor, template_id)
    lead = get_lead_for(actor, payload.lead_id) if payload.lead_id is not None else None
    rendered = mail.preview(
        by=actor,
        subject=template.subject,
        body=template.body,
        language=template.language,
        lead=lead,
        survey_id=template.survey_id,
    )
    return {**rendered.__dict__, "html_bytes": len(rendered.html.encode())}


@router.get(
    "/leads/{lead_id}/messages",
    response=list[MessageOut],
    url_name="nurture-mail-lead-messages",
)
def list_lead_mail_messages(request: HttpRequest, lead_id: int) -> list[dict[str, Any]]:
    """The marketing mails of a lead you may see, newest first (at most 200)."""
    items = selectors.list_lead_messages_for(_actor(request), lead_id)[:200]
    return [_message(item) for item in items]


@router.post(
    "/leads/{lead_id}/messages",
    response={201: MessageOut},
    url_name="nurture-mail-lead-send",
)
def send_lead_mail_message(request: HttpRequest, lead_id: int, payload: SendIn) -> Status:
    """Queue a marketing mail from a template to a lead you may see (marketing and admins)."""
    actor = _actor(request)
    lead = get_lead_for(actor, lead_id)
    template = selectors.get_template_for(actor, payload.template_id)
    return Status(201, _message(mail.send_marketing_email(lead, template, by=actor)))


@router.get("/suppressions", response=list[SuppressionOut], url_name="nurture-mail-suppressions")
def list_mail_suppressions(request: HttpRequest, q: str = "") -> list[dict[str, Any]]:
    """The suppression list, newest first (at most 500), optionally the addresses with `q`."""
    items = selectors.list_suppressions_for(_actor(request), search=q[:254])[:500]
    return [_suppression(item) for item in items]


@router.post(
    "/suppressions", response={201: SuppressionOut}, url_name="nurture-mail-suppression-add"
)
def add_mail_suppression(request: HttpRequest, payload: SuppressionIn) -> Status:
    return Status(201, _suppression(mail.add_suppression(by=_actor(request), **payload.dict())))


@router.delete(
    "/suppressions/{suppression_id}",
    response={204: None},
    url_name="nurture-mail-suppression-remove",
)
def remove_mail_suppression(request: HttpRequest, suppression_id: int) -> Status:
    actor = _actor(request)
    mail.remove_suppression(selectors.get_suppression_for(actor, suppression_id), by=actor)
    return Status(204, None)
