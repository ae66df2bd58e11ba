"""Call lists: made and changed by marketing and admins (MANAGE_CALL_LISTS), with the agents who
work them. A script may use only the script merge fields; calling hours need at least one day
and an opening before the closing."""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from collections.abc import Iterable, Mapping
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from leadloop.accounts.actors import Actor
from leadloop.accounts.audit import record_audit
from leadloop.accounts.models import AuditAction, User
from leadloop.accounts.permissions import ROLES, Permission, require
from leadloop.core.business_time import public_holidays
from leadloop.errors import ValidationFailed
from leadloop.leads import services as lead_services
from leadloop.leads.normalize import InvalidValue
from leadloop.nurture.calls.models import CallList
from leadloop.nurture.calls.services import scripts

FIELDS = (
    "name",
    "description",
    "script_en",
    "script_nl",
    "time_zone",
    "call_days",
    "opens_at",
    "closes_at",
    "holiday_country",
    "days_off",
    "retry_delay_minutes",
    "max_attempts",
    "fill_query",
    "is_active",
)
MAX_SCRIPT = 20_000
MAX_DESCRIPTION = 2_000
# A retry between five minutes and a week of calling time; one to ten tries.
RETRY_MINUTES = (5, 7 * 24 * 60)
ATTEMPTS = (1, 10)


def _text(
    value: Any, *, field: str, limit: int, errors: dict[str, list[str]], required: bool = False
) -> str:
    try:
        text = lead_services.clean_text(value if value is not None else "")
    except InvalidValue as exc:
        errors[field] = [str(exc)]
        return ""
    if required and not text:
        errors[field] = [_("Required.")]
    elif len(text) > limit:
        errors[field] = [_("At most %(n)d characters.") % {"n": limit}]
    return text


def _days(value: Any, errors: dict[str, list[str]]) -> list[int]:
    if isinstance(value, str):
        value = [part for part in re.split(r"[\s,]+", value) if part]
    try:
        days = sorted({int(day) for day in value or []})
    except (TypeError, ValueError):
        days = []
    if not days or any(not 0 <= day <= 6 for day in days):
        errors["call_days"] = [_("Choose at least one day (0 is Monday, 6 is Sunday).")]
    return days


def _time(value: Any, field: str, errors: dict[str, list[str]]) -> dt.time:
    if isinstance(value, dt.time):
        return value.replace(second=0, microsecond=0, tzinfo=None)
    try:
        return dt.time.fromisoformat(str(value)).replace(second=0, microsecond=0)
    except ValueError:
        errors[field] = [_("A time, like 09:00.")]
        return dt.time(0, 0)


def _dates(value: Any, errors: dict[str, list[str]]) -> list[str]:
    if isinstance(value, str):
        value = [part for part in re.split(r"[\s,;]+", value) if part]
    found = []
    for item in value or []:
        try:
            day = item if isinstance(item, dt.date) else dt.date.fromisoformat(str(item))
        except ValueError:
            errors["days_off"] = [_("Dates like 2026-12-24, one per line.")]
            return []
        found.append(day.isoformat())
    return sorted(set(found))[:400]


def _number(value: Any, field: str, bounds: tuple[int, int], errors: dict[str, list[str]]) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = bounds[0] - 1
    if not bounds[0] <= number <= bounds[1]:
        errors[field] = [_("Between %(low)d and %(high)d.") % {"low": bounds[0], "high": bounds[1]}]
    return number


def _checked(values: Mapping[str, Any]) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    checked: dict[str, Any] = {
        "name": " ".join(
            _text(values.get("name"), field="name", limit=100, errors=errors, required=True).split()
        ),
        "description": _text(
            values.get("description"), field="description", limit=MAX_DESCRIPTION, errors=errors
        ),
        "script_en": _text(
            values.get("script_en"), field="script_en", limit=MAX_SCRIPT, errors=errors
        ),
        "script_nl": _text(
            values.get("script_nl"), field="script_nl", limit=MAX_SCRIPT, errors=errors
        ),
        "time_zone": str(values.get("time_zone") or "Europe/Amsterdam").strip(),
        "call_days": _days(values.get("call_days", [0, 1, 2, 3, 4]), errors),
        "opens_at": _time(values.get("opens_at", "09:00"), "opens_at", errors),
        "closes_at": _time(values.get("closes_at", "18:00"), "closes_at", errors),
        "holiday_country": str(values.get("holiday_country", "NL") or "").strip().upper(),
        "days_off": _dates(values.get("days_off"), errors),
        "retry_delay_minutes": _number(
            values.get("retry_delay_minutes", 240), "retry_delay_minutes", RETRY_MINUTES, errors
        ),
        "max_attempts": _number(values.get("max_attempts", 3), "max_attempts", ATTEMPTS, errors),
        "fill_query": _text(
            values.get("fill_query"), field="fill_query", limit=2000, errors=errors
        ).lstrip("?"),
        "is_active": bool(values.get("is_active", True)),
    }
    try:
        zoneinfo.ZoneInfo(checked["time_zone"])
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        errors["time_zone"] = [_("A time zone, like Europe/Amsterdam.")]
    if checked["holiday_country"]:
        try:
            public_holidays(checked["holiday_country"])
        except NotImplementedError:
            errors["holiday_country"] = [_("A country code, like NL, or empty for none.")]
    times_given = "opens_at" not in errors and "closes_at" not in errors
    if times_given and checked["opens_at"] >= checked["closes_at"]:
        errors["closes_at"] = [_("After the opening time.")]
    for field in ("script_en", "script_nl"):
        unknown = scripts.unknown_fields(checked[field])
        if unknown and field not in errors:
            errors[field] = [
                _("Unknown merge field %(names)s; use %(known)s.")
                % {
                    "names": ", ".join(f"{{{n}}}" for n in unknown),
                    "known": ", ".join(f"{{{n}}}" for n in scripts.SCRIPT_FIELDS),
                }
            ]
    if not checked["script_en"] and not checked["script_nl"] and "script_en" not in errors:
        errors["script_en"] = [_("Write the script in at least one language.")]
    if errors:
        raise ValidationFailed(_("Some fields are not valid."), errors=errors)
    return checked


def _refuse_duplicate(name: str, *, exclude: int | None = None) -> None:
    same = CallList.objects.filter(name__iexact=name)
    if exclude is not None:
        same = same.exclude(pk=exclude)
    if same.exists():
        raise ValidationFailed(
            _("A call list with this name exists."), errors={"name": [_("Already used.")]}
        )


def _members(ids: Iterable[Any]) -> list[User]:
    """The users behind `ids`: active, and allowed to work call lists."""
    try:
        wanted = {int(i) for i in ids}
    except (TypeError, ValueError):
        wanted = set()
    users = list(
        User.objects.filter(
            pk__in=wanted, is_active=True, role__in=ROLES[Permission.WORK_CALL_LISTS]
        )
    )
    if len(users) != len(wanted):
        raise ValidationFailed(
            _("Some fields are not valid."),
            errors={"members": [_("Only active agents, marketing users and admins work lists.")]},
        )
    return users


def _audit(call_list: CallList, *, by: Actor, changed: list[str]) -> None:
    record_audit(
        actor=by,
        action=AuditAction.SETTING_CHANGED,
        target_type="call_list",
        target_id=call_list.pk,
        target_label=call_list.name[:200],
        data={"fields": changed, "is_active": call_list.is_active},
    )


@transaction.atomic
def create_call_list(*, by: Actor, members: Iterable[Any] | None = None, **values: Any) -> CallList:
    """Add a call list (marketing and admins); `members` are the ids of its agents."""
    require(by, Permission.MANAGE_CALL_LISTS)
    checked = _checked(values)
    _refuse_duplicate(checked["name"])
    agents = _members(members or [])
    now = timezone.now()
    call_list = CallList.objects.create(**checked, created_at=now, updated_at=now)
    call_list.members.set(agents)
    _audit(call_list, by=by, changed=sorted([*checked, "members"]))
    return call_list


@transaction.atomic
def update_call_list(
    call_list: CallList, *, by: Actor, members: Iterable[Any] | None = None, **changes: Any
) -> CallList:
    """Change any of a list's fields, and its agents when `members` is given. Entries waiting on
    it keep their due time; the new hours and retry policy apply from their next call."""
    require(by, Permission.MANAGE_CALL_LISTS)
    locked = CallList.objects.select_for_update().get(pk=call_list.pk)
    merged = {name: changes.get(name, getattr(locked, name)) for name in FIELDS}
    checked = _checked(merged)
    _refuse_duplicate(checked["name"], exclude=locked.pk)
    changed = [name for name in FIELDS if checked[name] != getattr(locked, name)]
    for name in changed:
        setattr(locked, name, checked[name])
    if members is not None:
        agents = _members(members)
        if {a.pk for a in agents} != set(locked.members.values_list("pk", flat=True)):
            locked.members.set(agents)
            changed.append("members")
    if changed:
        locked.updated_at = timezone.now()
        locked.save()
        _audit(locked, by=by, changed=changed)
    return locked
