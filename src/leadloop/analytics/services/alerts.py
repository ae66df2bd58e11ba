"""Alerts: rules marketing and sales set ("a source's CPO above €400 over 30 days", "ROI below
1", "a team's overdue share above 10%", "a source stopped sending"), checked every quarter of
an hour. Each subject a rule watches (a source, a team) has a state; its owner is told in the
app (and by e-mail, as they chose) once when it starts to breach, and once when it recovers.

The values come from the same reports the pages show (docs/analytics.md), over the last
`window_days` days in the deployment's time zone, as the system sees them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from leadloop.accounts.actors import SYSTEM, Actor
from leadloop.accounts.models import Team, User
from leadloop.accounts.permissions import Permission, can, require
from leadloop.accounts.selectors import get_defaults
from leadloop.analytics.models import AlertKind, AlertRule, AlertState
from leadloop.analytics.selectors import kpis, periods, sources
from leadloop.errors import NotAllowed, ValidationFailed
from leadloop.leads.models import Source
from leadloop.leads.selectors import history as lead_history
from leadloop.notifications import services as notifications

BREACHED_TITLE = gettext_noop("Alert: %(rule)s — %(subject)s")
BREACHED_BODY = gettext_noop("%(subject)s breaches “%(rule)s”: %(value)s (limit %(limit)s).")
RECOVERED_TITLE = gettext_noop("Recovered: %(rule)s — %(subject)s")
RECOVERED_BODY = gettext_noop("%(subject)s no longer breaches “%(rule)s”: %(value)s.")
SOURCE_KINDS = (AlertKind.CPO_ABOVE, AlertKind.ROI_BELOW, AlertKind.SOURCE_SILENT)
# A source counts as usually sending in a window when it had at least this many leads, on
# average, in the same hours of the four weeks before.
USUAL_LEADS = Decimal("2")


@dataclass(frozen=True)
class Reading:
    subject: str  # "source" or "team"
    subject_id: int
    name: str
    value: Decimal | None
    breached: bool


def _may_manage(actor: Actor, kind: str) -> None:
    require(actor, Permission.SET_KPI_NORMS)
    if kind in SOURCE_KINDS and not can(actor, Permission.SEE_SOURCE_ROI):
        raise NotAllowed(_("Only marketing and admins watch sources."))


@transaction.atomic
def create_rule(
    *,
    by: Actor,
    name: str,
    kind: str,
    owner: User,
    threshold: Any = None,
    window_days: int = 30,
    silent_hours: int = 24,
    source: Source | None = None,
    team: Team | None = None,
) -> AlertRule:
    """A new rule; its owner is told about it from the next check on."""
    errors: dict[str, list[str]] = {}
    if kind not in AlertKind.values:
        errors["kind"] = [_("Choose one of: %(kinds)s.") % {"kinds": ", ".join(AlertKind.values)}]
    else:
        _may_manage(by, kind)
    if not (name or "").strip():
        errors["name"] = [_("Required.")]
    if kind != AlertKind.SOURCE_SILENT:
        if threshold in (None, ""):
            errors["threshold"] = [_("Required.")]
        elif Decimal(str(threshold)) < 0:
            errors["threshold"] = [_("Cannot be negative.")]
    if not 1 <= int(window_days) <= 366:
        errors["window_days"] = [_("From 1 to 366 days.")]
    if not 1 <= int(silent_hours) <= 24 * 14:
        errors["silent_hours"] = [_("From 1 hour to two weeks.")]
    if team is not None and kind != AlertKind.OVERDUE_ABOVE:
        errors["team"] = [_("Only the overdue alert watches a team.")]
    if source is not None and kind == AlertKind.OVERDUE_ABOVE:
        errors["source"] = [_("The overdue alert watches teams, not sources.")]
    if not owner.is_active:
        errors["owner"] = [_("This user is not active.")]
    if errors:
        raise ValidationFailed(_("The alert is not valid."), errors=errors)
    return AlertRule.objects.create(
        name=name.strip()[:120],
        kind=kind,
        threshold=None if threshold in (None, "") else Decimal(str(threshold)),
        window_days=int(window_days),
        silent_hours=int(silent_hours),
        source=source,
        team=team,
        owner=owner,
        created_at=timezone.now(),
    )


def set_active(rule: AlertRule, *, active: bool, by: Actor) -> AlertRule:
    _may_manage(by, rule.kind)
    rule.is_active = active
    rule.save(update_fields=["is_active"])
    if not active:
        AlertState.objects.filter(rule=rule).delete()
    return rule


def delete_rule(rule: AlertRule, *, by: Actor) -> None:
    _may_manage(by, rule.kind)
    rule.delete()


def _window(rule: AlertRule, now: dt.datetime) -> periods.Period:
    zone = ZoneInfo(get_defaults().time_zone or "Europe/Amsterdam")
    today = now.astimezone(zone).date()
    return periods.parse_period(f"last-{rule.window_days}-days", today=today, zone=zone)


def read(rule: AlertRule, *, now: dt.datetime) -> list[Reading]:
    """Where each subject of `rule` stands now."""
    if rule.kind == AlertKind.SOURCE_SILENT:
        return _silence(rule, now)
    limit = rule.threshold or Decimal("0")
    if rule.kind == AlertKind.OVERDUE_ABOVE:
        report = kpis.kpi_report(SYSTEM, _window(rule, now), grouping="team", now=now)
        readings = []
        for row in report.rows:
            if row["key"] is None or (rule.team_id and row["key"] != rule.team_id):
                continue
            share = row["kpis"]["overdue"]["value"]
            value = None if share is None else (share * 100).quantize(Decimal("0.1"))
            readings.append(
                Reading("team", row["key"], row["name"], value, value is not None and value > limit)
            )
        return readings
    found = sources.source_report(SYSTEM, _window(rule, now), source_id=rule.source_id)
    readings = []
    for row in found.rows:
        if row["source_id"] is None:
            continue
        if rule.kind == AlertKind.CPO_ABOVE:
            cost = row["cost"] or Decimal("0")
            # No order at all while the cost passed the limit is the worst CPO there is.
            value = row["cost_per_order"] if row["won"] else cost
            breached = value is not None and value > limit and cost > 0
        else:
            value = row["roi"]
            breached = value is not None and value < limit
        readings.append(Reading("source", row["source_id"], row["source"], value, breached))
    return readings


def _silence(rule: AlertRule, now: dt.datetime) -> list[Reading]:
    """A source is silent when it sent nothing in the last `silent_hours`, while in the same
    hours of each of the four weeks before it sent at least USUAL_LEADS on average (so nights
    and weekends of a source that never sends then raise nothing)."""
    watched = Source.objects.filter(is_active=True).order_by("name")
    if rule.source_id:
        watched = watched.filter(pk=rule.source_id)
    hours = dt.timedelta(hours=rule.silent_hours)
    readings = []
    for source in watched:
        now_count = lead_history.count_received(source.pk, now - hours, now)
        before = [
            lead_history.count_received(source.pk, now - hours - week, now - week)
            for week in (dt.timedelta(days=7 * n) for n in range(1, 5))
        ]
        usual = Decimal(sum(before)) / 4
        readings.append(
            Reading(
                "source", source.pk, source.name, usual, now_count == 0 and usual >= USUAL_LEADS
            )
        )
    return readings


def _shown(rule: AlertRule, value: Decimal | None) -> str:
    if value is None:
        return "—"
    if rule.kind == AlertKind.OVERDUE_ABOVE:
        return f"{value}%"
    if rule.kind == AlertKind.SOURCE_SILENT:
        return _("no leads, usually %(n)s") % {"n": value.normalize()}
    return str(value.quantize(Decimal("0.01")))


def evaluate(*, now: dt.datetime | None = None) -> dict[str, int]:
    """Check every active rule; tell owners of what started or stopped breaching."""
    now = now or timezone.now()
    counts = {"rules": 0, "breached": 0, "recovered": 0}
    for rule in AlertRule.objects.filter(is_active=True).select_related("owner"):
        counts["rules"] += 1
        found = _evaluate_rule(rule, now)
        counts["breached"] += found["breached"]
        counts["recovered"] += found["recovered"]
    return counts


@transaction.atomic
def _evaluate_rule(rule: AlertRule, now: dt.datetime) -> dict[str, int]:
    readings = {(r.subject, r.subject_id): r for r in read(rule, now=now)}
    states = {
        (s.subject, s.subject_id): s
        for s in AlertState.objects.select_for_update().filter(rule=rule)
    }
    tells: list[notifications.Tell] = []
    counts = {"breached": 0, "recovered": 0}
    url = reverse("analytics:alerts")
    for key, state in states.items():
        if key not in readings and state.breached_at is not None:
            readings[key] = Reading(key[0], key[1], state.subject_name, None, False)
    for key, reading in readings.items():
        state = states.get(key) or AlertState(
            rule=rule, subject=key[0], subject_id=key[1], checked_at=now
        )
        params = {
            "rule": rule.name,
            "subject": reading.name,
            "value": _shown(rule, reading.value),
            "limit": _shown(rule, rule.threshold) if rule.threshold is not None else "—",
        }
        if reading.breached and state.breached_at is None:
            state.breached_at = now
            counts["breached"] += 1
            tells.append(
                notifications.Tell(
                    [rule.owner], "analytics_alert", BREACHED_TITLE, BREACHED_BODY, params, url
                )
            )
        elif not reading.breached and state.breached_at is not None:
            state.breached_at = None
            counts["recovered"] += 1
            tells.append(
                notifications.Tell(
                    [rule.owner], "analytics_alert", RECOVERED_TITLE, RECOVERED_BODY, params, url
                )
            )
        state.value, state.subject_name, state.checked_at = reading.value, reading.name, now
        state.save()
    if tells:
        notifications.notify_each(tells)
    return counts
