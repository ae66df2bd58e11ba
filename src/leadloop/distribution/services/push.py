"""Push within a team: which rep gets the next lead.

Reps who take no leads, are absent today, are full (most open leads) or have had their daily
quota are skipped, and each skip is said. Where the lead's language is known, reps who speak it
go first. The strategy then picks: round-robin (longest since their last pushed lead), weighted
(fewest pushed today for their weight) or fewest open leads. Ties break at random, so nobody is
favoured for having joined first. The caller holds the team's `TeamRouting` row locked, so two
leads routed at once see each other's choice.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from django.utils.translation import gettext as _

from leadloop.accounts.defaults import get_defaults
from leadloop.accounts.models import Team, User
from leadloop.distribution import selectors
from leadloop.distribution.models import RepCapacity, Strategy, TeamRouting

_random = random.SystemRandom()


@dataclass(frozen=True)
class Choice:
    """The rep picked (None: nobody could take it), how, and who was skipped and why."""

    user: User | None
    detail: str = ""
    skipped: list[str] = field(default_factory=list)


def within_working_hours(routing: TeamRouting, at: dt.datetime) -> bool:
    """Whether `at` falls in the team's working days and hours (always, without hours)."""
    local = at.astimezone(ZoneInfo(get_defaults().time_zone))
    if routing.work_days and str(local.isoweekday()) not in routing.work_days:
        return False
    if routing.work_start is None or routing.work_end is None:
        return True
    return routing.work_start <= local.time() < routing.work_end


def choose_rep(
    team: Team,
    *,
    language: str,
    at: dt.datetime,
    routing: TeamRouting | None = None,
    rng: random.Random | None = None,
    passed_over: frozenset[int] = frozenset(),
) -> Choice:
    """The rep of `team` who gets a pushed lead now (reads only; the caller writes). Reps in
    `passed_over` had this lead before and let it go (its first contact ran out): they are
    skipped, and said so."""
    routing = routing or TeamRouting.objects.filter(team=team).first() or TeamRouting(team=team)
    day = at.astimezone(ZoneInfo(get_defaults().time_zone)).date()
    members = selectors.push_members(team, since=selectors.start_of_day(at), day=day)
    if not members:
        return Choice(None, skipped=[_("the team has no active sales members")])
    if not within_working_hours(routing, at):
        return Choice(None, skipped=[_("outside the team's working hours")])
    skipped: list[str] = []
    paused: list[str] = []
    candidates: list[selectors.PushMember] = []
    for member in members:
        cap = member.capacity
        name = member.user.display_name
        if member.user.pk in passed_over:
            skipped.append(_("%(name)s had the lead before") % {"name": name})
        elif not cap.accepts_leads:
            # Said only when nobody can take the lead: a rep who takes no leads (a manager,
            # say) would otherwise be named on every lead the team gets.
            paused.append(_("%(name)s takes no new leads") % {"name": name})
        elif member.absent:
            skipped.append(_("%(name)s absent") % {"name": name})
        elif cap.max_open is not None and member.open_leads >= cap.max_open:
            skipped.append(
                _("%(name)s full (%(n)d of %(max)d open)")
                % {"name": name, "n": member.open_leads, "max": cap.max_open}
            )
        elif cap.daily_quota is not None and member.today >= cap.daily_quota:
            skipped.append(
                _("%(name)s had %(n)d of %(max)d today")
                % {"name": name, "n": member.today, "max": cap.daily_quota}
            )
        else:
            candidates.append(member)
    if not candidates:
        return Choice(None, skipped=skipped + paused)
    wanted = language.strip().lower()[:2]
    if wanted:
        speakers = [
            m
            for m in candidates
            if not m.capacity.language_list or wanted in m.capacity.language_list
        ]
        if speakers:
            candidates = speakers
        else:
            skipped.append(_("nobody available speaks %(language)s") % {"language": wanted})
    strategy = routing.strategy
    keys: dict[int, tuple[Any, ...]]
    if strategy == Strategy.LOAD_BALANCED:
        keys = {m.user.pk: (m.open_leads,) for m in candidates}
    elif strategy == Strategy.WEIGHTED:
        keys = {m.user.pk: (m.today / m.capacity.weight,) for m in candidates}
    else:
        floor = dt.datetime.min.replace(tzinfo=dt.UTC)
        keys = {m.user.pk: (m.last_pushed or floor,) for m in candidates}
    best = min(keys.values())
    chosen = (rng or _random).choice([m for m in candidates if keys[m.user.pk] == best])
    return Choice(
        chosen.user,
        detail=_describe(strategy, chosen.capacity, chosen.open_leads, chosen.today),
        skipped=skipped,
    )


def _describe(strategy: str, cap: RepCapacity, opened: int, today: int) -> str:
    parts = [str(Strategy(strategy).label).lower()]
    if cap.daily_quota is not None:
        parts.append(_("%(n)d of %(max)d today") % {"n": today + 1, "max": cap.daily_quota})
    else:
        parts.append(_("%(n)d today") % {"n": today + 1})
    if cap.max_open is not None:
        parts.append(_("%(n)d of %(max)d open") % {"n": opened + 1, "max": cap.max_open})
    if strategy == Strategy.WEIGHTED:
        parts.append(_("weight %(w)d") % {"w": cap.weight})
    return ", ".join(parts)
