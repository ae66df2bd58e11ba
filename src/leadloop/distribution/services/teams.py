"""A team's push settings, reps' capacity and absences: set by marketing, admins and the
team's own manager. Every change goes to the audit log with its values before and after."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from leadloop.accounts.actors import Actor
from leadloop.accounts.models import AuditTarget, Team, User
from leadloop.distribution import selectors
from leadloop.distribution.models import Absence, RepCapacity, Strategy, TeamRouting
from leadloop.distribution.services.audit import record_setting_change
from leadloop.errors import NotAllowed, NotFound, ValidationFailed
from leadloop.leads.services import clean_text

MAX_ABSENCE_DAYS = 366
TEAM_ROUTING_FIELDS = ("strategy", "work_days", "work_start", "work_end", "pool_alert_hours")
CAPACITY_FIELDS = (
    "accepts_leads",
    "max_open",
    "daily_quota",
    "claim_limit",
    "weight",
    "languages",
)


def _values(row: Any, names: tuple[str, ...]) -> dict[str, Any]:
    return {name: getattr(row, name) for name in names}


def _absence_values(absence: Absence) -> dict[str, Any]:
    # The reason stays out: it may say why someone is away.
    return {"absence_id": absence.pk, "starts_on": absence.starts_on, "ends_on": absence.ends_on}


def _require_team(by: Actor, team: Team) -> None:
    if not selectors.can_manage_team_routing(by, team):
        raise NotAllowed(_("You cannot change this team's routing."))


def _member(by: Actor, user: User) -> Team:
    team = user.team
    if team is None or not selectors.team_sales_members(team).filter(pk=user.pk).exists():
        raise ValidationFailed(
            _("%(name)s is not a sales member of a team.") % {"name": user.display_name},
            errors={"user": [_("Not in a team.")]},
        )
    _require_team(by, team)
    return team


@transaction.atomic
def set_team_routing(
    team: Team,
    *,
    by: Actor,
    strategy: str,
    work_days: str = "1234567",
    work_start: dt.time | None = None,
    work_end: dt.time | None = None,
    pool_alert_hours: int = 4,
) -> TeamRouting:
    """How `team` hands out pushed leads, and when it works (no hours: any time)."""
    _require_team(by, team)
    errors: dict[str, list[str]] = {}
    if strategy not in Strategy.values:
        errors["strategy"] = [_("Choose round-robin, weighted or fewest open leads.")]
    days = "".join(sorted(set(work_days)))
    if not days or any(day not in "1234567" for day in days):
        errors["work_days"] = [_("Choose at least one working day.")]
    if (work_start is None) != (work_end is None):
        errors["work_end"] = [_("Give both the start and the end of the working hours, or none.")]
    elif work_start is not None and work_end is not None and work_end <= work_start:
        errors["work_end"] = [_("The working hours end after they start.")]
    if not 0 <= pool_alert_hours <= 720:
        errors["pool_alert_hours"] = [_("Between 0 (no alert) and 720 hours.")]
    if errors:
        raise ValidationFailed(_("Some fields are not valid."), errors=errors)
    current = TeamRouting.objects.select_for_update().filter(team=team).first()
    before = _values(current or TeamRouting(team=team), TEAM_ROUTING_FIELDS)
    routing, _created = TeamRouting.objects.update_or_create(
        team=team,
        defaults={
            "strategy": strategy,
            "work_days": days,
            "work_start": work_start,
            "work_end": work_end,
            "pool_alert_hours": pool_alert_hours,
        },
    )
    record_setting_change(
        by=by,
        setting="team_routing",
        target_type=AuditTarget.TEAM,
        target_id=team.pk,
        target_label=team.name,
        before=before,
        after=_values(routing, TEAM_ROUTING_FIELDS),
    )
    return routing


@transaction.atomic
def set_capacity(
    user: User,
    *,
    by: Actor,
    accepts_leads: bool = True,
    max_open: int | None = None,
    daily_quota: int | None = None,
    claim_limit: int | None = None,
    weight: int = 1,
    languages: str = "",
) -> RepCapacity:
    """What one rep takes. Empty limits mean no limit."""
    _member(by, user)
    errors: dict[str, list[str]] = {}
    limits = (("max_open", max_open), ("daily_quota", daily_quota), ("claim_limit", claim_limit))
    for name, value in limits:
        if value is not None and not 0 <= value <= 100_000:
            errors[name] = [_("Between 0 and 100,000, or empty for no limit.")]
    if not 1 <= weight <= 100:
        errors["weight"] = [_("Between 1 and 100.")]
    codes = [code.strip().lower() for code in languages.split(",") if code.strip()]
    if any(len(code) != 2 or not code.isalpha() for code in codes):
        errors["languages"] = [_("Two-letter language codes, separated by commas: nl, en.")]
    if errors:
        raise ValidationFailed(_("Some fields are not valid."), errors=errors)
    current = RepCapacity.objects.select_for_update().filter(user=user).first()
    before = _values(current or RepCapacity(user=user), CAPACITY_FIELDS)
    capacity, _created = RepCapacity.objects.update_or_create(
        user=user,
        defaults={
            "accepts_leads": accepts_leads,
            "max_open": max_open,
            "daily_quota": daily_quota,
            "claim_limit": claim_limit,
            "weight": weight,
            "languages": ", ".join(dict.fromkeys(codes)),
        },
    )
    record_setting_change(
        by=by,
        setting="rep_capacity",
        target_type=AuditTarget.USER,
        target_id=user.pk,
        target_label=user.username,
        before=before,
        after=_values(capacity, CAPACITY_FIELDS),
    )
    return capacity


@transaction.atomic
def add_absence(
    user: User, *, by: Actor, starts_on: dt.date, ends_on: dt.date, reason: str = ""
) -> Absence:
    """Record that `user` is away from `starts_on` to `ends_on` (both included): routing skips
    them on those days."""
    _member(by, user)
    if ends_on < starts_on:
        raise ValidationFailed(
            _("The absence ends before it starts."), errors={"ends_on": [_("Before the start.")]}
        )
    if (ends_on - starts_on).days >= MAX_ABSENCE_DAYS:
        raise ValidationFailed(
            _("An absence lasts at most a year."), errors={"ends_on": [_("Too long.")]}
        )
    absence = Absence.objects.create(
        user=user, starts_on=starts_on, ends_on=ends_on, reason=clean_text(reason)[:200]
    )
    record_setting_change(
        by=by,
        setting="absence",
        target_type=AuditTarget.USER,
        target_id=user.pk,
        target_label=user.username,
        before=None,
        after=_absence_values(absence),
    )
    return absence


@transaction.atomic
def remove_absence(absence_id: int, *, by: Actor) -> None:
    """Take back a recorded absence: routing reaches the rep on those days again."""
    absence = (
        Absence.objects.select_related("user__team").filter(pk=absence_id).first()
        if 0 < absence_id < 2**63
        else None
    )
    if (
        absence is None
        or absence.user.team is None
        or not selectors.can_manage_team_routing(by, absence.user.team)
    ):
        raise NotFound(_("No such absence."))
    record_setting_change(
        by=by,
        setting="absence",
        target_type=AuditTarget.USER,
        target_id=absence.user.pk,
        target_label=absence.user.username,
        before=_absence_values(absence),
        after=None,
    )
    absence.delete()
