"""The suppression list: addresses no marketing mail goes to, whatever the lead's consent says.

Addresses are kept lower-cased and compared lower-cased (Ann@X.example is ann@x.example). An
unsubscribe, a hard bounce and a spam complaint add an address by themselves; marketing adds or
removes one by hand with a reason.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from email_validator import EmailNotValidError, validate_email

from leadloop.accounts.actors import Actor
from leadloop.accounts.audit import record_audit
from leadloop.accounts.models import AuditAction, User
from leadloop.accounts.permissions import Permission, require
from leadloop.errors import ValidationFailed
from leadloop.leads import services as lead_services
from leadloop.nurture.mail.models import MarketingMessage, Suppression, SuppressionReason


def normalized(email: str) -> str:
    return email.strip().lower()


def is_suppressed(email: str) -> bool:
    """Whether marketing mail to `email` is suppressed (any case)."""
    return Suppression.objects.filter(email=normalized(email)).exists()


def suppress(
    email: str,
    *,
    reason: str,
    note: str = "",
    message: MarketingMessage | None = None,
    added_by: User | None = None,
) -> Suppression:
    """Put an address on the list; an address already there keeps its first reason."""
    address = normalized(email)
    existing = Suppression.objects.filter(email=address).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            return Suppression.objects.create(
                email=address,
                reason=reason,
                note=note[:300],
                message=message,
                added_by=added_by,
                created_at=timezone.now(),
            )
    except IntegrityError:  # another request suppressed it a moment ago
        return Suppression.objects.get(email=address)


@transaction.atomic
def add_suppression(*, by: Actor, email: str, reason: str = "", note: str = "") -> Suppression:
    """Marketing adds an address by hand, with the reason (manual unless given)."""
    require(by, Permission.MANAGE_NURTURE)
    errors: dict[str, list[str]] = {}
    try:
        address = validate_email(str(email).strip(), check_deliverability=False).normalized
    except EmailNotValidError:
        errors["email"] = [_("Not an e-mail address.")]
        address = ""
    chosen = reason or SuppressionReason.MANUAL
    if chosen not in SuppressionReason.values:
        errors["reason"] = [_("Choose one of: %s.") % ", ".join(SuppressionReason.values)]
    text = lead_services.clean_text(note)[:300]
    if errors:
        raise ValidationFailed(_("Some fields are not valid."), errors=errors)
    if is_suppressed(address):
        raise ValidationFailed(
            _("This address is on the list already."), errors={"email": [_("Already listed.")]}
        )
    entry = suppress(
        address,
        reason=chosen,
        note=text,
        added_by=by if isinstance(by, User) else None,
    )
    _audit(entry, by=by, added=True)
    return entry


@transaction.atomic
def remove_suppression(entry: Suppression, *, by: Actor) -> None:
    """Take an address off the list (marketing): mail may reach it again if the lead consents."""
    require(by, Permission.MANAGE_NURTURE)
    _audit(entry, by=by, added=False)
    Suppression.objects.filter(pk=entry.pk).delete()


def _audit(entry: Suppression, *, by: Actor, added: bool) -> None:
    record_audit(
        actor=by,
        action=AuditAction.SETTING_CHANGED,
        target_type="mail_suppression",
        target_id=entry.pk,
        target_label=entry.email[:200],
        data={"added": added, "reason": entry.reason},
    )
