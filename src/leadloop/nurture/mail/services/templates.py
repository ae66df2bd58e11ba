"""Marketing templates: written by marketing and admins (MANAGE_NURTURE), one row per language.

A placeholder outside `rendering.MERGE_FIELDS` is refused when a template is saved, and so is a
template whose mail would pass the size limit even before the merge values grow it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import pycountry
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from leadloop.accounts.actors import Actor
from leadloop.accounts.audit import record_audit
from leadloop.accounts.models import AuditAction, User
from leadloop.accounts.permissions import Permission, require
from leadloop.errors import ValidationFailed
from leadloop.leads import services as lead_services
from leadloop.leads.models import Lead
from leadloop.leads.normalize import InvalidValue
from leadloop.nurture.mail.models import MarketingTemplate
from leadloop.nurture.mail.services import rendering
from leadloop.nurture.surveys.models import Survey
from leadloop.nurture.surveys.services import survey_link

FIELDS = ("name", "language", "subject", "body", "is_active", "survey_id")
MAX_BODY = 100_000
_LANGUAGE = re.compile(r"^([a-z]{2})(?:-[a-z]{2})?$")
PREVIEW_KEY = "preview"


def _text(value: Any, *, field: str, limit: int, errors: dict[str, list[str]]) -> str:
    try:
        text = lead_services.clean_text(value)
    except InvalidValue as exc:
        errors[field] = [str(exc)]
        return ""
    if not text:
        errors[field] = [_("Required.")]
    elif len(text) > limit:
        errors[field] = [_("At most %(n)d characters.") % {"n": limit}]
    return text


def _language(value: Any, errors: dict[str, list[str]]) -> str:
    code = str(value or "").strip().lower().replace("_", "-")
    match = _LANGUAGE.match(code)
    if match is None or pycountry.languages.get(alpha_2=match.group(1)) is None:
        errors["language"] = [_("A language code, like en or nl.")]
    return code


def sample_values() -> dict[str, str]:
    """Merge values of a made-up lead, for the size check and a preview without a lead."""
    return {
        "first_name": "Annemarie",
        "last_name": "van den Berg-Oosterhuis",
        "full_name": "Annemarie van den Berg-Oosterhuis",
        "company": "Oosterhuis Installatietechniek B.V.",
        "rep_name": "Noor Bakker",
        "rep_email": "noor.bakker@example.com",
        "survey_url": f"{settings.LEADLOOP_BASE_URL}/nurture/surveys/s/preview/",
    }


def _checked(values: Mapping[str, Any]) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    checked: dict[str, Any] = {
        "name": _text(values.get("name"), field="name", limit=100, errors=errors),
        "language": _language(values.get("language"), errors),
        "subject": " ".join(
            _text(values.get("subject"), field="subject", limit=200, errors=errors).split()
        ),
        "body": _text(values.get("body"), field="body", limit=MAX_BODY, errors=errors),
        "is_active": bool(values.get("is_active", True)),
        "survey_id": _survey_id(values.get("survey_id"), errors),
    }
    uses_survey = any("{survey_url}" in str(checked[f]) for f in ("subject", "body"))
    if uses_survey and checked["survey_id"] is None and "survey_id" not in errors:
        errors["survey_id"] = [_("Choose the survey that {survey_url} links to.")]
    for field in ("subject", "body"):
        unknown = rendering.unknown_fields(str(checked[field]))
        if unknown and field not in errors:
            errors[field] = [
                _("Unknown merge field %(names)s; use %(known)s.")
                % {
                    "names": ", ".join(f"{{{n}}}" for n in unknown),
                    "known": ", ".join(f"{{{n}}}" for n in rendering.MERGE_FIELDS),
                }
            ]
    if not errors:
        mail = rendering.render_mail(
            subject=str(checked["subject"]),
            body=str(checked["body"]),
            language=str(checked["language"]),
            values=sample_values(),
            key=PREVIEW_KEY,
        )
        too_large = rendering.size_errors(mail)
        if too_large:
            errors["body"] = too_large
    if errors:
        raise ValidationFailed(_("Some fields are not valid."), errors=errors)
    return checked


def _survey_id(value: Any, errors: dict[str, list[str]]) -> int | None:
    if value in (None, ""):
        return None
    if isinstance(value, Survey):
        value = value.pk
    if not isinstance(value, int) or not Survey.objects.filter(pk=value, is_active=True).exists():
        errors["survey_id"] = [_("No such active survey.")]
        return None
    return value


def _refuse_duplicate(values: Mapping[str, Any], *, exclude: int | None = None) -> None:
    same = MarketingTemplate.objects.filter(name=values["name"], language=values["language"])
    if exclude is not None:
        same = same.exclude(pk=exclude)
    if same.exists():
        raise ValidationFailed(
            _("A template with this name and language exists."),
            errors={"name": [_("Already used in this language.")]},
        )


def _audit(template: MarketingTemplate, *, by: Actor, changed: list[str]) -> None:
    record_audit(
        actor=by,
        action=AuditAction.SETTING_CHANGED,
        target_type="marketing_template",
        target_id=template.pk,
        target_label=str(template)[:200],
        data={"fields": changed, "is_active": template.is_active},
    )


@transaction.atomic
def create_template(*, by: Actor, **values: Any) -> MarketingTemplate:
    """Add a marketing template (marketing and admins)."""
    require(by, Permission.MANAGE_NURTURE)
    checked = _checked(values)
    _refuse_duplicate(checked)
    now = timezone.now()
    template = MarketingTemplate.objects.create(**checked, created_at=now, updated_at=now)
    _audit(template, by=by, changed=sorted(checked))
    return template


@transaction.atomic
def update_template(template: MarketingTemplate, *, by: Actor, **changes: Any) -> MarketingTemplate:
    """Change any of a template's fields; mails already queued keep their own copy."""
    require(by, Permission.MANAGE_NURTURE)
    locked = MarketingTemplate.objects.select_for_update().get(pk=template.pk)
    given = {name: value for name, value in changes.items() if name in FIELDS}
    merged = {name: given.get(name, getattr(locked, name)) for name in FIELDS}
    checked = _checked(merged)
    _refuse_duplicate(checked, exclude=locked.pk)
    changed = [name for name in FIELDS if checked[name] != getattr(locked, name)]
    if not changed:
        return locked
    for name in changed:
        setattr(locked, name, checked[name])
    locked.updated_at = timezone.now()
    locked.save()
    _audit(locked, by=by, changed=changed)
    return locked


@transaction.atomic
def delete_template(template: MarketingTemplate, *, by: Actor) -> None:
    """Delete a template; the messages sent with it keep their rendered copy."""
    require(by, Permission.MANAGE_NURTURE)
    _audit(template, by=by, changed=["deleted"])
    MarketingTemplate.objects.filter(pk=template.pk).delete()


def lead_values(lead: Lead, *, survey: Survey | None = None) -> dict[str, str]:
    """The merge values of one lead: its names and company, its rep, and its own link to the
    template's survey."""
    rep: User | None = lead.assigned_to
    return {
        "first_name": lead.first_name,
        "last_name": lead.last_name,
        "full_name": lead.full_name,
        "company": lead.company_name,
        "rep_name": rep.display_name if rep else "",
        "rep_email": rep.email if rep else "",
        "survey_url": survey_link(lead, survey) if survey is not None else "",
    }


def preview(
    *,
    by: Actor,
    subject: str,
    body: str,
    language: str,
    lead: Lead | None,
    survey_id: int | None = None,
) -> rendering.RenderedMail:
    """The mail a (possibly unsaved) template makes for `lead` (one the caller may see; the
    caller resolves it with `get_lead_for`), or for a made-up lead. Nothing is stored."""
    require(by, Permission.MANAGE_NURTURE)
    checked = _checked(
        {
            "name": "preview",
            "language": language,
            "subject": subject,
            "body": body,
            "survey_id": survey_id,
        }
    )
    survey = Survey.objects.filter(pk=checked["survey_id"]).first() if survey_id else None
    values = lead_values(lead, survey=survey) if lead is not None else sample_values()
    return rendering.render_mail(
        subject=checked["subject"],
        body=checked["body"],
        language=checked["language"],
        values=values,
        key=PREVIEW_KEY,
    )
