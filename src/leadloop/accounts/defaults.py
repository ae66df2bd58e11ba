"""The deployment's defaults (language, country, currency, time zone): read and changed here.

`get_defaults()` is read on every request (the time zone) and for every lead (country,
currency), so it is a per-process snapshot reloaded after `TTL` seconds, and at once in the
process that changed it: a change reaches the other workers within `TTL`. Until an admin saves
the defaults, the values come from the environment (settings.py).
"""

from __future__ import annotations

import threading
import time
import zoneinfo
from dataclasses import asdict, dataclass
from functools import cache

import pycountry
from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from leadloop.accounts.actors import Actor
from leadloop.accounts.audit import record_audit
from leadloop.accounts.models import AuditAction, AuditTarget, DeploymentDefaults
from leadloop.accounts.permissions import Permission, require
from leadloop.errors import ValidationFailed

TTL = 5.0
FIELDS = ("language", "country", "currency", "time_zone")


@dataclass(frozen=True)
class Defaults:
    language: str
    country: str
    currency: str
    time_zone: str


_lock = threading.Lock()
_snapshot: tuple[float, Defaults] | None = None


def from_environment() -> Defaults:
    """The defaults the operator set in the environment, used until an admin saves others."""
    return Defaults(
        language=settings.LANGUAGE_CODE,
        country=settings.LEADLOOP_DEFAULT_COUNTRY.upper(),
        currency=settings.LEADLOOP_DEFAULT_CURRENCY.upper(),
        time_zone=settings.LEADLOOP_DEFAULT_TIME_ZONE,
    )


def _load() -> Defaults:
    row = DeploymentDefaults.objects.filter(pk=1).first()
    if row is None:
        return from_environment()
    return Defaults(
        language=row.language, country=row.country, currency=row.currency, time_zone=row.time_zone
    )


def get_defaults() -> Defaults:
    """The deployment's defaults: the saved row, else the environment's values."""
    global _snapshot
    now = time.monotonic()
    snapshot = _snapshot
    if snapshot is not None and now - snapshot[0] < TTL:
        return snapshot[1]
    with _lock:
        loaded = _load()
        _snapshot = (now, loaded)
    return loaded


def invalidate() -> None:
    """Read the defaults afresh on the next call (after a change, and between tests)."""
    global _snapshot
    _snapshot = None


@cache
def country_codes() -> frozenset[str]:
    """ISO 3166-1 alpha-2 codes."""
    return frozenset(c.alpha_2 for c in pycountry.countries)


@cache
def currency_codes() -> frozenset[str]:
    """ISO 4217 alphabetic codes."""
    return frozenset(c.alpha_3 for c in pycountry.currencies)


@cache
def time_zones() -> tuple[str, ...]:
    """The IANA time zones this machine knows, sorted."""
    return tuple(sorted(zoneinfo.available_timezones()))


def _check(values: Defaults) -> None:
    errors: dict[str, list[str]] = {}
    if values.language not in {code for code, _name in settings.LANGUAGES}:
        errors["language"] = [_("Unknown language.")]
    if values.country not in country_codes():
        errors["country"] = [_("Use a two-letter ISO 3166 country code, such as NL.")]
    if values.currency not in currency_codes():
        errors["currency"] = [_("Use a three-letter ISO 4217 currency code, such as EUR.")]
    if values.time_zone not in time_zones():
        errors["time_zone"] = [_("Use an IANA zone such as Europe/Amsterdam.")]
    if errors:
        raise ValidationFailed(_("Check the defaults."), errors=errors)


@transaction.atomic
def change_defaults(
    *,
    by: Actor,
    language: str | None = None,
    country: str | None = None,
    currency: str | None = None,
    time_zone: str | None = None,
) -> Defaults:
    """Set some of the deployment's defaults (admins); audited with each changed value's before
    and after. Users with their own language or time zone keep it."""
    require(by, Permission.MANAGE_USERS)
    row = DeploymentDefaults.objects.select_for_update().filter(pk=1).first()
    before = (
        Defaults(row.language, row.country, row.currency, row.time_zone)
        if row is not None
        else from_environment()
    )

    def pick(name: str, value: str | None) -> str:
        return str(getattr(before, name)) if value is None else value.strip()

    after = Defaults(
        language=pick("language", language),
        country=pick("country", country).upper(),
        currency=pick("currency", currency).upper(),
        time_zone=pick("time_zone", time_zone),
    )
    _check(after)
    changed = {
        name: {"before": getattr(before, name), "after": getattr(after, name)}
        for name in FIELDS
        if getattr(before, name) != getattr(after, name)
    }
    if not changed:
        return after
    DeploymentDefaults.objects.update_or_create(pk=1, defaults=asdict(after))
    record_audit(
        actor=by,
        action=AuditAction.SETTING_CHANGED,
        target_type=AuditTarget.DEFAULTS,
        target_id=1,
        target_label="defaults",
        data=changed,
    )
    transaction.on_commit(invalidate)
    invalidate()
    return after
