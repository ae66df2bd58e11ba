"""Lost reasons as an admin keeps them on the settings pages: add, rename, (de)activate.

A reason is never deleted: leads lost for it keep pointing at it. An inactive reason is no longer
offered when a lead is marked lost. Admins only; each change a `setting_changed` audit event.
"""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from leadloop.accounts.actors import Actor
from leadloop.accounts.audit import record_audit
from leadloop.accounts.models import AuditAction
from leadloop.accounts.permissions import Permission, require
from leadloop.errors import ValidationFailed
from leadloop.leads.models import LostReason

NAME_MAX = 120
AUDIT_TARGET = "lost_reason"


def _clean_name(name: str, *, pk: int | None) -> str:
    clean = " ".join(str(name or "").split())
    if not clean or len(clean) > NAME_MAX:
        raise ValidationFailed(
            _("Give a name of at most %(limit)d characters.") % {"limit": NAME_MAX},
            errors={"name": [_("Required, at most %(limit)d characters.") % {"limit": NAME_MAX}]},
        )
    same = LostReason.objects.filter(name__iexact=clean)
    if pk is not None:
        same = same.exclude(pk=pk)
    if same.exists():
        raise ValidationFailed(
            _("%(name)s exists already.") % {"name": clean}, errors={"name": [_("Already taken.")]}
        )
    return clean


def _audit(reason: LostReason, *, by: Actor, data: dict[str, object]) -> None:
    record_audit(
        actor=by,
        action=AuditAction.SETTING_CHANGED,
        target_type=AUDIT_TARGET,
        target_id=reason.pk,
        target_label=reason.name,
        data=data,
    )


@transaction.atomic
def create_lost_reason(*, by: Actor, name: str) -> LostReason:
    """A new lost reason, offered at once when a lead is marked lost."""
    require(by, Permission.MANAGE_USERS)
    reason = LostReason.objects.create(name=_clean_name(name, pk=None))
    _audit(reason, by=by, data={"change": "created"})
    return reason


@transaction.atomic
def set_lost_reason_active(reason: LostReason, *, active: bool, by: Actor) -> LostReason:
    """Stop offering a lost reason, or offer it again; leads lost for it keep it."""
    require(by, Permission.MANAGE_USERS)
    locked = LostReason.objects.select_for_update().get(pk=reason.pk)
    if locked.is_active != active:
        locked.is_active = active
        locked.save(update_fields=["is_active"])
        _audit(
            locked, by=by, data={"change": "changed", "fields": ["is_active"], "is_active": active}
        )
    return locked


@transaction.atomic
def rename_lost_reason(reason: LostReason, *, name: str, by: Actor) -> LostReason:
    """Give a lost reason another name; leads lost for it show the new one."""
    require(by, Permission.MANAGE_USERS)
    locked = LostReason.objects.select_for_update().get(pk=reason.pk)
    clean = _clean_name(name, pk=locked.pk)
    if locked.name != clean:
        locked.name = clean
        locked.save(update_fields=["name"])
        _audit(locked, by=by, data={"change": "changed", "fields": ["name"]})
    return locked
