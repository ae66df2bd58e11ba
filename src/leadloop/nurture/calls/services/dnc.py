"""The do-not-call list: numbers (E.164) nobody calls from the desk, whichever lead carries them.

A person who asks not to be called lands here from the desk (outcome `do_not_call`); marketing
and admins add and remove numbers by hand or from a CSV file. A wrong number is not put here: it
is someone else's number, who never asked anything.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from leadloop.accounts.actors import Actor
from leadloop.accounts.audit import record_audit
from leadloop.accounts.models import AuditAction, User
from leadloop.accounts.permissions import Permission, require
from leadloop.accounts.selectors import get_defaults
from leadloop.errors import ValidationFailed
from leadloop.leads import services as lead_services
from leadloop.leads.normalize import InvalidValue, normalize_phone
from leadloop.nurture.calls.models import DoNotCall

MAX_IMPORT_ROWS = 50_000


def phone_key(raw: str, *, region: str = "") -> str:
    """`raw` in E.164 (read for the deployment's country when it has no +); ValidationFailed."""
    try:
        e164 = normalize_phone(str(raw or ""), region=region or get_defaults().country)
    except InvalidValue as exc:
        raise ValidationFailed(str(exc), errors={"phone": [str(exc)]}) from exc
    if not e164:
        raise ValidationFailed(_("Give a phone number."), errors={"phone": [_("Required.")]})
    return e164


def is_on_dnc(phone_e164: str) -> bool:
    return bool(phone_e164) and DoNotCall.objects.filter(phone_e164=phone_e164).exists()


def _add(e164: str, *, by: Actor, reason: str) -> tuple[DoNotCall, bool]:
    existing = DoNotCall.objects.filter(phone_e164=e164).first()
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            entry = DoNotCall.objects.create(
                phone_e164=e164,
                reason=reason,
                added_by=by if isinstance(by, User) else None,
                created_at=timezone.now(),
            )
    except IntegrityError:  # added at the same moment by someone else
        return DoNotCall.objects.get(phone_e164=e164), False
    return entry, True


def _reason(value: str) -> str:
    try:
        return lead_services.clean_text(value or "")[:300]
    except InvalidValue as exc:
        raise ValidationFailed(str(exc), errors={"reason": [str(exc)]}) from exc


def add_dnc(phone: str, *, by: Actor, reason: str = "") -> DoNotCall:
    """Put a number on the do-not-call list (marketing and admins); a number already there is
    returned as it is."""
    require(by, Permission.MANAGE_CALL_LISTS)
    entry, created = _add(phone_key(phone), by=by, reason=_reason(reason))
    if created:
        _audit(by, "added", entry)
    return entry


def add_asked_not_to_call(phone_e164: str, *, by: Actor, reason: str) -> DoNotCall | None:
    """The desk's "asks not to be called": whoever logged the call may put the number here."""
    if not phone_e164:
        return None
    entry, created = _add(phone_e164, by=by, reason=reason[:300])
    if created:
        _audit(by, "asked", entry)
    return entry


def remove_dnc(entry: DoNotCall, *, by: Actor) -> None:
    """Take a number off the list (marketing and admins): it may be called again."""
    require(by, Permission.MANAGE_CALL_LISTS)
    _audit(by, "removed", entry)
    DoNotCall.objects.filter(pk=entry.pk).delete()


@dataclass
class ImportResult:
    added: int = 0
    already: int = 0
    invalid: list[tuple[int, str]] = field(default_factory=list)  # (line, value)


def import_dnc(data: bytes | str, *, by: Actor, reason: str = "") -> ImportResult:
    """Add the numbers of a CSV file (the first column; a header line without a number is
    skipped). Invalid numbers are reported by line, the valid ones added."""
    require(by, Permission.MANAGE_CALL_LISTS)
    text = data.decode("utf-8-sig", errors="replace") if isinstance(data, bytes) else data
    why = _reason(reason) or _("Imported")
    result = ImportResult()
    region = get_defaults().country
    for line, row in enumerate(csv.reader(io.StringIO(text)), start=1):
        if line > MAX_IMPORT_ROWS:
            break
        value = (row[0] if row else "").strip()
        if not value:
            continue
        try:
            e164 = normalize_phone(value, region=region)
        except InvalidValue:
            if line > 1:
                result.invalid.append((line, value[:40]))
            continue
        _entry, created = _add(e164, by=by, reason=why)
        if created:
            result.added += 1
        else:
            result.already += 1
    record_audit(
        actor=by,
        action=AuditAction.SETTING_CHANGED,
        target_type="do_not_call",
        target_id=None,
        data={"imported": result.added, "already": result.already, "invalid": len(result.invalid)},
    )
    return result


def _audit(by: Actor, change: str, entry: DoNotCall) -> None:
    record_audit(
        actor=by,
        action=AuditAction.SETTING_CHANGED,
        target_type="do_not_call",
        target_id=entry.pk,
        data={"change": change},
    )
