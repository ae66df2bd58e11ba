"""Each team's working time and first-contact targets: read (cached briefly) and changed.

A team without its own rules works Monday to Friday, 09:00 to 18:00 in Europe/Amsterdam, skips
Dutch public holidays, and must reach a lead within one business day. Targets for a source or a
fit grade are more specific and win: an A-grade lead can be due within one business hour.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Mapping
from typing import Any, Protocol

import holidays
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from leadloop.accounts.actors import Actor
from leadloop.accounts.audit import record_audit
from leadloop.accounts.models import AuditAction, Team
from leadloop.accounts.permissions import Permission, require
from leadloop.errors import NotAllowed, NotFound, ValidationFailed
from leadloop.leads.models import FitGrade, Lead, Source
from leadloop.sales.business_time import BusinessCalendar, NoWorkingTime, public_holidays
from leadloop.sales.models import BreachAction, SlaTarget, TeamSla
from leadloop.sales.selectors.team import can_manage_team, get_target_for

TTL = 30.0
DEFAULT_RULES = TeamSla(updated_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
_cache: tuple[float, dict[int, TeamSla], list[SlaTarget]] | None = None


def forget() -> None:
    """Drop the cached rules (tests, and after a change in this process)."""
    global _cache
    _cache = None


def _loaded() -> tuple[dict[int, TeamSla], list[SlaTarget]]:
    global _cache
    if _cache is None or time.monotonic() - _cache[0] > TTL:
        teams = {row.team_id: row for row in TeamSla.objects.all()}
        _cache = (time.monotonic(), teams, list(SlaTarget.objects.all()))
    return _cache[1], _cache[2]


def rules_of(team_id: int | None) -> TeamSla:
    """The team's rules, or the defaults (a team without its own, or no team yet)."""
    teams, _targets = _loaded()
    return teams.get(team_id or 0, DEFAULT_RULES)


def calendar_of(rules: TeamSla) -> BusinessCalendar:
    return BusinessCalendar(
        time_zone=rules.time_zone,
        work_days=frozenset(int(day) for day in rules.work_days),
        opens=rules.opens,
        closes=rules.closes,
        is_holiday=public_holidays(rules.holiday_country, rules.holiday_subdivision)
        if rules.holiday_country
        else (lambda day: False),
    )


class Targeted(Protocol):
    """What a target reads of a lead."""

    @property
    def source_id(self) -> int | None: ...

    @property
    def fit_grade(self) -> str: ...


def target_for(lead: Targeted | Lead, rules: TeamSla) -> int:
    """Business minutes to the first contact: the most specific target matching the lead (grade,
    then source, then team), else the team's own, else one business day."""
    _teams, targets = _loaded()
    best: tuple[tuple[bool, bool, bool], int] | None = None
    for target in targets:
        if target.team_id is not None and target.team_id != rules.team_id:
            continue
        if target.source_id is not None and target.source_id != lead.source_id:
            continue
        if target.fit_grade and target.fit_grade != lead.fit_grade:
            continue
        rank = (bool(target.fit_grade), target.source_id is not None, target.team_id is not None)
        if best is None or rank > best[0]:
            best = (rank, target.business_minutes)
    if best is not None:
        return best[1]
    if rules.target_minutes:
        return rules.target_minutes
    return int(calendar_of(rules).business_day.total_seconds() // 60)


RULE_FIELDS = (
    "time_zone",
    "holiday_country",
    "holiday_subdivision",
    "work_days",
    "opens",
    "closes",
    "target_minutes",
    "remind_at_percent",
    "on_breach",
    "restart_on_reassign",
)


def _check_rules(values: Mapping[str, Any]) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    try:
        from zoneinfo import ZoneInfo

        ZoneInfo(str(values["time_zone"]))
    except (KeyError, ValueError, OSError):
        errors["time_zone"] = [_("Not a known time zone.")]
    country = str(values.get("holiday_country") or "").upper()
    if len(str(values["time_zone"])) > 64:
        errors["time_zone"] = [_("Not a known time zone.")]
    if len(str(values.get("holiday_subdivision") or "")) > 10:
        errors["holiday_subdivision"] = [_("No holiday calendar for this country and region.")]
    elif country and (len(country) != 2 or not country.isalpha()):
        errors["holiday_country"] = [_("No holiday calendar for this country and region.")]
    elif country:
        region = str(values.get("holiday_subdivision") or "") or None
        try:
            holidays.country_holidays(country, subdiv=region)
        except NotImplementedError:
            known_country = country in holidays.list_supported_countries()
            where = "holiday_subdivision" if region and known_country else "holiday_country"
            errors[where] = [_("No holiday calendar for this country and region.")]
    days = str(values.get("work_days") or "")
    if not days or any(c not in "0123456" for c in days) or len(set(days)) != len(days):
        errors["work_days"] = [_("Choose one or more working days.")]
    if values["closes"] <= values["opens"]:
        errors["closes"] = [_("The day must end after it begins.")]
    if not 0 <= int(values["remind_at_percent"]) <= 99:
        errors["remind_at_percent"] = [_("Between 0 (no reminder) and 99.")]
    target = values.get("target_minutes")
    if target is not None and not 1 <= int(target) <= 60 * 24 * 30:
        errors["target_minutes"] = [_("Between one minute and 30 days of business time.")]
    if values["on_breach"] not in BreachAction.values:
        errors["on_breach"] = [_("Not a known choice.")]
    return errors


def _require_manager_of(by: Actor, team: Team | None) -> None:
    """Admins change any team's rules and those for every team; a sales manager only the
    rules of a team they manage."""
    require(by, Permission.MANAGE_FOLLOW_UP)
    if not can_manage_team(by, team):
        if team is None:
            raise NotAllowed(_("Only admins set targets for every team."))
        raise NotAllowed(_("You can change the rules of the teams you manage only."))


@transaction.atomic
def set_team_rules(team: Team, values: Mapping[str, Any], *, by: Actor) -> TeamSla:
    """Set a team's working time and first-contact rules (sales managers of the team, admins).

    New deadlines follow the new rules; clocks already running keep theirs."""
    _require_manager_of(by, team)
    current = TeamSla.objects.filter(team=team).first() or TeamSla(team=team)
    merged = {name: values.get(name, getattr(current, name)) for name in RULE_FIELDS}
    merged["work_days"] = "".join(sorted(str(merged["work_days"])))
    merged["holiday_country"] = str(merged["holiday_country"] or "").upper()
    errors = _check_rules(merged)
    if errors:
        raise ValidationFailed(_("Some fields are not valid."), errors=errors)
    for name, value in merged.items():
        setattr(current, name, value)
    current.updated_at = timezone.now()
    current.save()
    record_audit(
        actor=by,
        action=AuditAction.SETTING_CHANGED,
        target_type="team_sla",
        target_id=team.pk,
        target_label=team.name,
        data={name: str(value) for name, value in merged.items()},
    )
    transaction.on_commit(forget)
    return current


@transaction.atomic
def set_target(
    *,
    by: Actor,
    business_minutes: int,
    team: Team | None = None,
    source: Source | None = None,
    fit_grade: str = "",
) -> SlaTarget:
    """Add or change the target for leads of a team, source and/or fit grade (a team's by
    its manager or an admin; one for every team by an admin)."""
    _require_manager_of(by, team)
    errors: dict[str, list[str]] = {}
    if fit_grade and fit_grade not in FitGrade.values:
        errors["fit_grade"] = [_("Not a fit grade.")]
    if not 1 <= business_minutes <= 60 * 24 * 30:
        errors["business_minutes"] = [_("Between one minute and 30 days of business time.")]
    if team is None and source is None and not fit_grade:
        errors["team"] = [_("Choose a team, a source or a fit grade (or set the team's rules).")]
    if errors:
        raise ValidationFailed(_("Some fields are not valid."), errors=errors)
    target, _created = SlaTarget.objects.update_or_create(
        team=team,
        source=source,
        fit_grade=fit_grade,
        defaults={"business_minutes": business_minutes, "updated_at": timezone.now()},
    )
    record_audit(
        actor=by,
        action=AuditAction.SETTING_CHANGED,
        target_type="sla_target",
        target_id=target.pk,
        data={
            "team": team.name if team else None,
            "source": source.name if source else None,
            "fit_grade": fit_grade,
            "business_minutes": business_minutes,
        },
    )
    transaction.on_commit(forget)
    return target


@transaction.atomic
def delete_target(target_id: int, *, by: Actor) -> None:
    """Remove a target (its team's manager or an admin); leads then fall back to the next
    most specific one."""
    require(by, Permission.MANAGE_FOLLOW_UP)
    target = get_target_for(by, target_id)
    _require_manager_of(by, target.team)
    deleted, _rows = SlaTarget.objects.filter(pk=target.pk).delete()
    if not deleted:
        raise NotFound(_("No such target."))
    record_audit(
        actor=by,
        action=AuditAction.SETTING_CHANGED,
        target_type="sla_target",
        target_id=target_id,
        data={"deleted": True},
    )
    transaction.on_commit(forget)


def due_if_received(
    team_id: int | None, *, at: dt.datetime, minutes: int | None = None
) -> dt.datetime | None:
    """When a lead reaching the team at `at` would be due for its first contact: after the
    team's own target (or `minutes` of business time), in its working time. None for a
    calendar without working time."""
    rules = rules_of(team_id)
    calendar = calendar_of(rules)
    if minutes is None:
        minutes = rules.target_minutes or int(calendar.business_day.total_seconds() // 60)
    try:
        return calendar.add(at, dt.timedelta(minutes=minutes))
    except NoWorkingTime:
        return None
