"""/api/v1/sales/email-templates: the texts reps send to leads. Sales managers and admins
write them; the rest of the sales team reads the active ones."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import Schema, Status
from pydantic import Field

from leadloop.accounts.actors import Actor, actor_from_request
from leadloop.core.schemas import StrictIn as In
from leadloop.sales.api.base import sales_router
from leadloop.sales.models import EmailTemplate
from leadloop.sales.selectors import templates as selectors
from leadloop.sales.services import templates as services


def _actor(request: HttpRequest) -> Actor:
    return actor_from_request(request)


class TemplateOut(Schema):
    id: int
    name: str
    language: str
    subject: str
    body: str
    is_active: bool
    updated_at: dt.datetime


class TemplateIn(In):
    name: str = Field(..., max_length=100)
    language: str = Field(..., max_length=8, description="A language code, like en or nl")
    subject: str = Field(..., max_length=200)
    body: str = Field(..., max_length=20000)
    is_active: bool = True


class TemplatePatch(In):
    name: str | None = Field(None, max_length=100)
    language: str | None = Field(None, max_length=8)
    subject: str | None = Field(None, max_length=200)
    body: str | None = Field(None, max_length=20000)
    is_active: bool | None = None


def _template(item: EmailTemplate) -> dict[str, Any]:
    return {
        "id": item.pk,
        "name": item.name,
        "language": item.language,
        "subject": item.subject,
        "body": item.body,
        "is_active": item.is_active,
        "updated_at": item.updated_at,
    }


@sales_router.get("/email-templates", response=list[TemplateOut], url_name="sales-email-templates")
def list_email_templates(request: HttpRequest, language: str = "") -> list[dict[str, Any]]:
    """The templates: all of them for sales managers and admins, the active ones for reps.
    `{first_name}`, `{last_name}`, `{full_name}`, `{company}` and `{sender_name}` are filled
    when a rep sends one."""
    items = selectors.list_templates_for(_actor(request), language=language.strip()[:8])
    return [_template(item) for item in items]


@sales_router.post(
    "/email-templates", response={201: TemplateOut}, url_name="sales-email-template-add"
)
def create_email_template(request: HttpRequest, payload: TemplateIn) -> Status:
    """Add a template (sales managers and admins)."""
    return Status(201, _template(services.create_template(by=_actor(request), **payload.dict())))


@sales_router.patch(
    "/email-templates/{template_id}",
    response=TemplateOut,
    url_name="sales-email-template-update",
)
def update_email_template(
    request: HttpRequest, template_id: int, payload: TemplatePatch
) -> dict[str, Any]:
    """Change a template; `is_active: false` takes it off the reps' list."""
    actor = _actor(request)
    template = selectors.get_template_to_manage(actor, template_id)
    changes = payload.dict(exclude_unset=True)
    return _template(services.update_template(template, by=actor, **changes))
