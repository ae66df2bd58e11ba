"""The e-mail templates reps send to leads: written and changed by sales managers and admins.

A template is a text in one language with `{first_name}` and the other names of
`contact.TEMPLATE_FIELDS`; a name outside that list is refused when the template is saved, so a
typo does not reach a customer as "{frist_name}". A template is deactivated rather than deleted:
the e-mails sent with it keep their own copy anyway.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import pycountry
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from leadloop.accounts.actors import Actor
from leadloop.accounts.audit import record_audit
from leadloop.accounts.models import AuditAction
from leadloop.accounts.permissions import Permission, require
from leadloop.errors import ValidationFailed
from leadloop.leads import services as lead_services
from leadloop.leads.normalize import InvalidValue
from leadloop.sales.models import EmailTemplate
from leadloop.sales.services.contact import TEMPLATE_FIELDS

FIELDS = ("name", "language", "subject", "body", "is_active")
MAX_BODY = 20000
_LANGUAGE = re.compile(r"^([a-z]{2})(?:-[a-z]{2})?$")
_PLACEHOLDER = re.compile(r"\{(\w+)\}")


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


def _unknown_names(*texts: str) -> list[str]:
    names = {m.group(1) for text in texts for m in _PLACEHOLDER.finditer(text)}
    return sorted(names - set(TEMPLATE_FIELDS))


def _checked(values: Mapping[str, Any]) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    checked = {
        "name": _text(values.get("name"), field="name", limit=100, errors=errors),
        "language": _language(values.get("language"), errors),
        "subject": " ".join(
            _text(values.get("subject"), field="subject", limit=200, errors=errors).split()
        ),
        "body": _text(values.get("body"), field="body", limit=MAX_BODY, errors=errors),
        "is_active": bool(values.get("is_active", True)),
    }
    for field in ("subject", "body"):
        unknown = _unknown_names(str(checked[field]))
        if unknown and field not in errors:
            errors[field] = [
                _("Unknown placeholder %(names)s; use %(known)s.")
                % {
                    "names": ", ".join(f"{{{n}}}" for n in unknown),
                    "known": ", ".join(f"{{{n}}}" for n in TEMPLATE_FIELDS),
                }
            ]
    if errors:
        raise ValidationFailed(_("Some fields are not valid."), errors=errors)
    return checked


def _refuse_duplicate(values: Mapping[str, Any], *, exclude: int | None = None) -> None:
    same = EmailTemplate.objects.filter(name=values["name"], language=values["language"])
    if exclude is not None:
        same = same.exclude(pk=exclude)
    if same.exists():
        raise ValidationFailed(
            _("A template with this name and language exists."),
            errors={"name": [_("Already used in this language.")]},
        )


def _audit(template: EmailTemplate, *, by: Actor, changed: list[str]) -> None:
    record_audit(
        actor=by,
        action=AuditAction.SETTING_CHANGED,
        target_type="email_template",
        target_id=template.pk,
        target_label=f"{template.name} ({template.language})"[:200],
        data={"fields": changed, "is_active": template.is_active},
    )


@transaction.atomic
def create_template(*, by: Actor, **values: Any) -> EmailTemplate:
    """Add a template (sales managers and admins); its placeholders must be known names."""
    require(by, Permission.MANAGE_FOLLOW_UP)
    checked = _checked(values)
    _refuse_duplicate(checked)
    template = EmailTemplate.objects.create(**checked, updated_at=timezone.now())
    _audit(template, by=by, changed=sorted(checked))
    return template


@transaction.atomic
def update_template(template: EmailTemplate, *, by: Actor, **changes: Any) -> EmailTemplate:
    """Change any of a template's fields; `is_active=False` takes it off the reps' list."""
    require(by, Permission.MANAGE_FOLLOW_UP)
    locked = EmailTemplate.objects.select_for_update().get(pk=template.pk)
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
