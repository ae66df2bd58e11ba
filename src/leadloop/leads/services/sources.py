"""Sources with their keys, campaigns with their costs, lost reasons."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from leadloop.accounts import services as accounts_services
from leadloop.accounts.actors import SYSTEM, Actor
from leadloop.accounts.audit import record_audit
from leadloop.accounts.models import AuditAction, AuditTarget
from leadloop.accounts.permissions import Permission, require
from leadloop.core import prepared, secrets
from leadloop.errors import ValidationFailed
from leadloop.leads.models import (
    Campaign,
    ChannelKind,
    LostReason,
    MinimumContact,
    OnInvalidLead,
    Source,
)
from leadloop.leads.normalize import (
    InvalidValue,
    normalize_country,
)
from leadloop.leads.services.validation import clean_text


@dataclass(frozen=True)
class SourceWithKey:
    source: Source
    raw_key: str


def audit_source(source: Source, *, by: Actor, change: str, **data: Any) -> None:
    """Put a change to a source (its settings, mapping, policy or key) in the audit log.

    Leadloop's own bookkeeping as the plain system (a feed poll storing its ETag) is not a
    change anyone made; the operator's CLI is, and is recorded.
    """
    if by == SYSTEM:
        return
    record_audit(
        actor=by,
        action=AuditAction.SOURCE_CHANGED,
        target_type=AuditTarget.SOURCE,
        target_id=source.pk,
        target_label=source.name,
        data={"change": change, **data},
    )


@transaction.atomic
def create_source(
    *,
    name: str,
    kind: str,
    by: Actor,
    default_country: str = "",
    default_language: str = "",
    field_mapping: dict[str, Any] | None = None,
    minimum_contact: str = MinimumContact.EMAIL_PHONE_OR_ADDRESS,
    on_invalid: str = "",
) -> SourceWithKey:
    """Create a source and its first key (returned once, stored only as a hash)."""
    require(by, Permission.CONFIGURE_SOURCES)
    errors = _lead_rules_errors(minimum_contact, on_invalid)
    name = clean_text(name)
    if not name:
        errors["name"] = [_("Required.")]
    elif Source.objects.filter(name=name).exists():
        errors["name"] = [_("A source with this name exists already.")]
    if kind not in ChannelKind.values:
        errors["kind"] = [
            _("Choose one of: %(choices)s.") % {"choices": ", ".join(ChannelKind.values)}
        ]
    try:
        country = normalize_country(default_country)
    except InvalidValue as exc:
        errors["default_country"] = [str(exc)]
        country = ""
    for path in secrets.secret_paths(field_mapping):
        errors[f"field_mapping.{path}"] = [
            _("Passwords are not kept in the mapping: set them in the channel settings.")
        ]
    if errors:
        raise ValidationFailed(_("The source is not valid."), errors=errors)
    source = Source.objects.create(
        name=name[:200],
        kind=kind,
        default_country=country,
        default_language=default_language,
        field_mapping=field_mapping or {},
        minimum_contact=minimum_contact,
        on_invalid=on_invalid,
    )
    raw = _set_new_key(source)
    audit_source(source, by=by, change="created", kind=kind)
    return SourceWithKey(source=source, raw_key=raw)


def _set_new_key(source: Source) -> str:
    raw, prefix = accounts_services.new_secret("s")
    source.key_prefix = prefix
    source.key_hash = accounts_services.hash_key(raw)
    source.key_revoked_at = None
    source.save(update_fields=["key_prefix", "key_hash", "key_revoked_at"])
    return raw


@transaction.atomic
def rotate_source_key(source: Source, *, by: Actor) -> str:
    """Replace a source's key; the old key stops working at once. Returns the new raw key."""
    require(by, Permission.CONFIGURE_SOURCES)
    raw = _set_new_key(source)
    audit_source(source, by=by, change="key_rotated")
    return raw


@transaction.atomic
def revoke_source_key(source: Source, *, by: Actor) -> Source:
    """Stop a source's key from working (senders get 401) without deleting the source."""
    require(by, Permission.CONFIGURE_SOURCES)
    source.key_revoked_at = timezone.now()
    source.save(update_fields=["key_revoked_at"])
    audit_source(source, by=by, change="key_revoked")
    return source


MAX_INTAKE_LIMIT = 1_000_000


def set_intake_limits(
    source: Source, *, per_source: int | None, per_address: int | None, by: Actor
) -> Source:
    """Set how many posts the source, and one address posting to it, may make per intake window.

    None takes the deployment's default, 0 means no limit.
    """
    require(by, Permission.CONFIGURE_SOURCES)
    errors: dict[str, list[str]] = {}
    for name, value in (("intake_limit", per_source), ("intake_limit_per_address", per_address)):
        if value is not None and not 0 <= value <= MAX_INTAKE_LIMIT:
            errors[name] = [_("Between 0 and %(n)d.") % {"n": MAX_INTAKE_LIMIT}]
    if errors:
        raise ValidationFailed(_("The limits are not valid."), errors=errors)
    source.intake_limit = per_source
    source.intake_limit_per_address = per_address
    source.save(update_fields=["intake_limit", "intake_limit_per_address"])
    audit_source(
        source, by=by, change="intake_limits", per_source=per_source, per_address=per_address
    )
    return source


def set_lead_rules(source: Source, *, minimum_contact: str, on_invalid: str, by: Actor) -> Source:
    """Set what a lead from `source` must carry, and what happens to one that is refused.

    `minimum_contact` is a MinimumContact value; `on_invalid` is "reject", "review" or "" (the
    channel's default: reject on web forms, review on the others).
    """
    require(by, Permission.CONFIGURE_SOURCES)
    errors = _lead_rules_errors(minimum_contact, on_invalid)
    if errors:
        raise ValidationFailed(_("The lead rules are not valid."), errors=errors)
    before = {"minimum_contact": source.minimum_contact, "on_invalid": source.on_invalid}
    source.minimum_contact = minimum_contact
    source.on_invalid = on_invalid
    source.save(update_fields=["minimum_contact", "on_invalid"])
    audit_source(
        source,
        by=by,
        change="lead_rules",
        before=before,
        minimum_contact=minimum_contact,
        on_invalid=on_invalid,
    )
    return source


def _lead_rules_errors(minimum_contact: str, on_invalid: str) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if minimum_contact not in MinimumContact.values:
        errors["minimum_contact"] = [
            _("Choose one of: %(choices)s.") % {"choices": ", ".join(MinimumContact.values)}
        ]
    if on_invalid not in ("", *OnInvalidLead.values):
        errors["on_invalid"] = [
            _("Choose one of: %(choices)s.") % {"choices": ", ".join(OnInvalidLead.values)}
        ]
    return errors


def resolve_source_key(raw: str) -> Source | None:
    """The source a key belongs to (revoked or not: the caller answers 401 for a revoked one)."""
    if not raw.startswith("lls_"):
        return None
    source = prepared.get_by(Source, "key_hash", accounts_services.hash_key(raw))
    return source if isinstance(source, Source) else None


@transaction.atomic
def create_campaign(
    *,
    source: Source,
    name: str,
    by: Actor,
    starts_on: dt.date | None = None,
    ends_on: dt.date | None = None,
    budget_amount: Decimal = Decimal("0"),
    currency: str = "EUR",
) -> Campaign:
    """Create a campaign under a source."""
    require(by, Permission.CONFIGURE_SOURCES)
    errors: dict[str, list[str]] = {}
    name = clean_text(name)
    if not name:
        errors["name"] = [_("Required.")]
    elif Campaign.objects.filter(source=source, name=name).exists():
        errors["name"] = [_("This source has a campaign with this name already.")]
    if starts_on and ends_on and ends_on < starts_on:
        errors["ends_on"] = [_("Ends before it starts.")]
    if budget_amount < 0:
        errors["budget_amount"] = [_("Cannot be negative.")]
    if errors:
        raise ValidationFailed(_("The campaign is not valid."), errors=errors)
    return Campaign.objects.create(
        source=source,
        name=name[:200],
        starts_on=starts_on,
        ends_on=ends_on,
        budget_amount=budget_amount,
        currency=currency,
    )


def get_or_create_lost_reason(name: str) -> LostReason:
    """The lost reason called `name`, created when missing."""
    reason, _created = LostReason.objects.get_or_create(name=name)
    return reason
