"""The blocklist: e-mail addresses, domains, phones and networks whose leads are refused."""

from __future__ import annotations

import ipaddress
from typing import Any

import idna
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from leadloop.accounts.actors import Actor
from leadloop.accounts.models import User
from leadloop.accounts.permissions import Permission, require
from leadloop.assessment.models import (
    BlockEntry,
    BlockKind,
)
from leadloop.assessment.scoring.services._common import (
    MIN_PREFIX,
    Errors,
    _audit_block,
    _changed,
    _choice,
    _fail,
    _text,
    _who,
    logger,
)
from leadloop.errors import ValidationFailed
from leadloop.leads.normalize import (
    InvalidValue,
    normalize_country,
    normalize_email,
    normalize_phone,
)

# --- Blocklist -----------------------------------------------------------------------------------


def normalize_block_value(kind: str, value: str, *, country: str = "") -> str:
    """The stored form of a blocklist value: lower-case IDNA domain, normalised e-mail, IP network
    (a single address without /32), E.164 phone. InvalidValue with a readable reason."""
    value = value.strip()
    if not value:
        raise InvalidValue(_("Give the value to block."))
    if kind == BlockKind.EMAIL_DOMAIN:
        return _normalize_domain(value)
    if kind == BlockKind.EMAIL:
        return normalize_email(value).lower()
    if kind == BlockKind.IP:
        return _normalize_network(value)
    if kind == BlockKind.PHONE:
        region = normalize_country(country) if country else ""
        if not region and not value.startswith(("+", "00")):
            raise InvalidValue(
                _("Give the number with its country code (+31 …) or choose a country.")
            )
        if value.startswith("00"):
            value = "+" + value[2:]
        return normalize_phone(value, region=region)
    raise InvalidValue(_("Unknown kind."))


def _normalize_domain(value: str) -> str:
    domain = value.lower().lstrip("@").rstrip(".")
    if "@" in domain:
        domain = domain.rpartition("@")[2]
    try:
        ascii_domain = idna.encode(domain, uts46=True).decode("ascii")
    except (idna.IDNAError, UnicodeError) as exc:
        raise InvalidValue(_("Not a valid domain name.")) from exc
    if "." not in ascii_domain or len(ascii_domain) > 253:
        raise InvalidValue(_("Not a valid domain name (for example spam.example)."))
    return ascii_domain.lower()


def _normalize_network(value: str) -> str:
    try:
        network = ipaddress.ip_network(value, strict=False)
    except ValueError as exc:
        raise InvalidValue(
            _("Not an IP address or network (for example 203.0.113.7 or 203.0.113.0/24).")
        ) from exc
    if network.prefixlen < MIN_PREFIX[network.version]:
        raise InvalidValue(
            _("This network is too wide to block; use /%(prefix)d or narrower.")
            % {"prefix": MIN_PREFIX[network.version]}
        )
    if network.prefixlen == network.max_prefixlen:
        return str(network.network_address)
    return str(network)


def _clean_block(data: dict[str, Any], *, exclude_id: int | None = None) -> dict[str, Any]:
    errors: Errors = {}
    kind = _choice(errors, "kind", data.get("kind"), BlockKind)
    raw = _text(errors, "value", data.get("value"), max_length=254)
    note = _text(errors, "note", data.get("note"), max_length=200)
    country = _text(errors, "country", data.get("country"), max_length=3)
    if country and "country" not in errors:
        try:
            country = normalize_country(country)
        except InvalidValue as exc:
            errors["country"] = [str(exc)]
    value = ""
    if kind and "value" not in errors and "country" not in errors:
        try:
            value = normalize_block_value(kind, raw, country=country)
        except InvalidValue as exc:
            errors["value"] = [str(exc)]
    if value and len(value) > 254:
        errors["value"] = [_("At most %(count)d characters.") % {"count": 254}]
    if value and "value" not in errors:
        same = BlockEntry.objects.filter(kind=kind, value=value)
        if exclude_id is not None:
            same = same.exclude(pk=exclude_id)
        if same.exists():
            errors["value"] = [_("%(value)s is on the blocklist already.") % {"value": value}]
    _fail(errors, _("The blocklist entry is not valid."))
    return {"kind": kind, "value": value, "note": note}


def _save_block(entry: BlockEntry, fields: list[str] | None = None) -> None:
    try:
        with transaction.atomic():
            entry.save(update_fields=fields)
    except IntegrityError as exc:  # the same value added at the same moment by someone else
        raise ValidationFailed(
            _("The blocklist entry is not valid."),
            errors={
                "value": [_("%(value)s is on the blocklist already.") % {"value": entry.value}]
            },
        ) from exc


@transaction.atomic
def create_block_entry(
    *, by: Actor, kind: str, value: str, note: str = "", country: str = ""
) -> BlockEntry:
    """Put a domain, e-mail address, IP network or phone number on the blocklist.

    `country` is the region a phone number without country code is read in.
    """
    require(by, Permission.CONFIGURE_SCORING)
    cleaned = _clean_block({"kind": kind, "value": value, "note": note, "country": country})
    entry = BlockEntry(**cleaned, created_by=by if isinstance(by, User) else None)
    _save_block(entry)
    logger.info("blocklist entry added entry=%s kind=%s by=%s", entry.pk, entry.kind, _who(by))
    _audit_block(entry.pk, kind=entry.kind, change="created", by=by)
    _changed()
    return entry


@transaction.atomic
def update_block_entry(
    entry: BlockEntry, *, by: Actor, kind: str, value: str, note: str = "", country: str = ""
) -> BlockEntry:
    """Change a blocklist entry's value or note."""
    require(by, Permission.CONFIGURE_SCORING)
    cleaned = _clean_block(
        {"kind": kind, "value": value, "note": note, "country": country}, exclude_id=entry.pk
    )
    for name, new in cleaned.items():
        setattr(entry, name, new)
    _save_block(entry, list(cleaned))
    logger.info("blocklist entry updated entry=%s by=%s", entry.pk, _who(by))
    _audit_block(entry.pk, kind=entry.kind, change="updated", by=by)
    _changed()
    return entry


@transaction.atomic
def delete_block_entry(entry: BlockEntry, *, by: Actor) -> None:
    """Take a value off the blocklist."""
    require(by, Permission.CONFIGURE_SCORING)
    entry_id, kind = entry.pk, entry.kind
    entry.delete()
    logger.info("blocklist entry removed entry=%s by=%s", entry_id, _who(by))
    _audit_block(entry_id, kind=kind, change="deleted", by=by)
    _changed()
