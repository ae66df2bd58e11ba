"""Routing a sales-ready lead: the rules in force decide, the action is carried out, and the
decision is written with the move in one transaction.

`route_lead` is what the task runs after `lead_became_sales_ready`, what `leadloop route` and
the API's "route now" call, and what the periodic sweep calls for a lead whose task was lost. It
places a lead at most once: it takes the lead only while it is still routable (sales-ready, no
owner, no pool, not held), under the row's lock, and the move makes it unroutable.

When an action cannot be carried out (its team, person or partner is gone, or a pushed team has
nobody available) the lead falls back: a push goes to the team's pool, anything else to the
default rule, and when even that fails the lead stays waiting with the reason on its timeline
and on the routing page. A lead is never dropped.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Exists, OuterRef
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from leadloop.accounts.actors import Actor
from leadloop.accounts.models import PartnerOrganization, Role, Team, User
from leadloop.core.retry import enqueue, is_queued
from leadloop.distribution import actions, engine, selectors
from leadloop.distribution.models import Outcome, RouteDecision, RuleSet, TeamRouting
from leadloop.distribution.services import partners, push, sell_step, tell
from leadloop.distribution.services.actor import ROUTING, VIA_ROUTING
from leadloop.leads import services as lead_services
from leadloop.leads.events import EventName, LeadEvent
from leadloop.leads.models import ActivityKind, Lead, LeadStatus

logger = logging.getLogger(__name__)

# A rule set can send a lead to nurturing, and nurturing can make it sales-ready again: after
# this many trips the next one routes it by the default rule instead, so the two cannot loop.
MAX_NURTURE_TRIPS = 2
MAX_EXPLANATION = 500
# A lead whose routing task was lost (a crash before it was queued) is picked up by the
# periodic sweep once it has waited this long.
SWEEP_AFTER = dt.timedelta(minutes=2)


@dataclass
class Placement:
    """What carrying out an action came to."""

    outcome: str
    target: str
    user: User | None = None
    team: Team | None = None
    partner: PartnerOrganization | None = None
    notes: list[str] = field(default_factory=list)
    # A push found no rep who could take the lead (its team's manager is told).
    nobody_available: bool = False


class CannotPlace(Exception):
    """The action's target cannot take the lead; the message says why."""


def route_lead(
    lead_id: int, *, by: Actor = ROUTING, rng: random.Random | None = None
) -> RouteDecision | None:
    """Place one sales-ready lead by the rules in force. None when routing is off (no rules
    published) or the lead is no longer routable (already placed, held, closed). `rng` breaks
    ties between reps (a seeded one makes the demo repeatable); by default a system source."""
    rule_set = selectors.active_rule_set()
    if rule_set is None:
        return None
    sale_note = ""
    if sell_step.names_a_sale(rule_set):
        sold = sell_step.try_selling(lead_id, rule_set, by=by)
        if isinstance(sold, RouteDecision) or sold is None:
            return sold
        sale_note = sold
    with transaction.atomic():
        lead = (
            Lead.objects.select_for_update(of=("self",))
            .select_related("source", "campaign")
            .filter(selectors.routable(), pk=lead_id)
            .first()
        )
        if lead is None:
            return None
        return _route(lead, rule_set, by=by, at=timezone.now(), rng=rng, sale_note=sale_note)


def _route(
    lead: Lead,
    rule_set: RuleSet,
    *,
    by: Actor,
    at: dt.datetime,
    rng: random.Random | None,
    sale_note: str = "",
) -> RouteDecision:
    declined = partners.declined_partners(lead.pk) if sell_step.names_a_partner(rule_set) else set()

    def passed_over(action: dict[str, Any]) -> bool:
        if action.get("kind") == actions.SELL:
            return bool(sale_note)
        return action.get("kind") == actions.PARTNER and action.get("partner_id") in declined

    match = engine.decide(
        rule_set.rules,
        rule_set.default,
        lead,
        pass_over=passed_over if declined or sale_note else None,
    )
    header = _("Rule “%(rule)s” (routing v%(version)d)") % {
        "rule": match.name,
        "version": rule_set.version,
    }
    tried: list[str] = [sale_note] if sale_note else []
    tried += [
        _("“%(rule)s” passed over: its partner turned the lead down") % {"rule": name}
        for name in match.passed
        if not sale_note
    ]
    steps: list[tuple[str, dict[str, Any]]] = [(header, match.action)]
    if not match.is_default:
        steps.append(
            (_("default rule (routing v%(v)d)") % {"v": rule_set.version}, rule_set.default)
        )
    for step_header, action in steps:
        try:
            placement = _place(
                lead,
                action,
                by=by,
                at=at,
                header=step_header,
                tried=tried,
                rng=rng,
                declined=declined,
            )
        except CannotPlace as exc:
            tried.append(f"{step_header}: {exc}")
            continue
        return _decide(lead, rule_set, match, placement, at=at, tried=tried)
    # Nothing could take it: it stays sales-ready and visible on the routing page.
    text = _clip("; ".join([_("Could not be routed"), *tried]))
    lead_services.record_activity(lead, kind=ActivityKind.NOTE, by=by, message=text, at=at)
    placement = Placement(outcome=Outcome.UNROUTED, target="")
    return _decide(lead, rule_set, match, placement, at=at, tried=tried, text=text)


def _place(
    lead: Lead,
    action: dict[str, Any],
    *,
    by: Actor,
    at: dt.datetime,
    header: str,
    tried: list[str],
    rng: random.Random | None,
    declined: set[int],
) -> Placement:
    kind = action.get("kind")
    if kind == actions.NURTURE:
        trips = RouteDecision.objects.filter(lead=lead, outcome=Outcome.NURTURE).count()
        if trips >= MAX_NURTURE_TRIPS:
            raise CannotPlace(
                _("sent to nurturing %(n)d times already, so it is routed on") % {"n": trips}
            )
        placement = Placement(outcome=Outcome.NURTURE, target=_("nurturing"))
        lead_services.transition(
            lead,
            to=LeadStatus.NURTURING,
            by=by,
            note=_text(header, placement, tried),
            row_locked=True,
        )
        return placement
    if kind == actions.SELL:
        raise CannotPlace(_("no buyer bought the lead"))
    if kind == actions.TEAM:
        return _to_team(lead, action, by=by, at=at, header=header, tried=tried, rng=rng)
    if kind == actions.PERSON:
        user = (
            User.objects.filter(pk=int(action.get("user_id") or 0)).select_related("team").first()
        )
        if (
            user is None
            or not user.is_active
            or user.role
            not in (
                Role.SALES_REP,
                Role.SALES_MANAGER,
            )
        ):
            raise CannotPlace(
                _("%(name)s can no longer take leads") % {"name": action.get("user", "?")}
            )
        if selectors.absences_on([user.pk], timezone.localdate(at)):
            if user.team is None:
                raise CannotPlace(_("%(name)s is absent") % {"name": user.display_name})
            placement = Placement(
                outcome=Outcome.POOLED,
                target=_("the pool of team %(team)s") % {"team": user.team.name},
                team=user.team,
                notes=[_("%(name)s absent") % {"name": user.display_name}],
            )
        else:
            placement = Placement(
                outcome=Outcome.ASSIGNED, target=user.display_name, user=user, team=user.team
            )
        _assign(lead, placement, by=by, header=header, tried=tried)
        return placement
    if kind == actions.PARTNER:
        partner = PartnerOrganization.objects.filter(
            pk=int(action.get("partner_id") or 0), is_active=True
        ).first()
        if partner is None:
            raise CannotPlace(
                _("partner %(name)s no longer takes leads") % {"name": action.get("partner", "?")}
            )
        if partner.pk in declined:
            raise CannotPlace(
                _("partner %(name)s turned the lead down before") % {"name": partner.name}
            )
        placement = Placement(outcome=Outcome.PARTNER, target=partner.name, partner=partner)
        _assign(lead, placement, by=by, header=header, tried=tried)
        partners.offer(lead, partner, at=at)
        return placement
    raise CannotPlace(_("the rule has no action"))


def _to_team(
    lead: Lead,
    action: dict[str, Any],
    *,
    by: Actor,
    at: dt.datetime,
    header: str,
    tried: list[str],
    rng: random.Random | None,
) -> Placement:
    team_id = int(action.get("team_id") or 0)
    pushed = action.get("mode") != actions.POOL
    # A push locks the team's routing row: leads pushed to one team at the same instant take
    # turns, so each sees the reps' counts with the others' leads in them. Read with its team
    # in one statement; a team routed for the first time gets its row first.
    routing = (
        TeamRouting.objects.select_for_update(of=("self",))
        .select_related("team")
        .filter(team_id=team_id)
        .first()
        if pushed
        else None
    )
    team = routing.team if routing is not None else Team.objects.filter(pk=team_id).first()
    if team is None:
        raise CannotPlace(_("team %(name)s no longer exists") % {"name": action.get("team", "?")})
    pool = Placement(
        outcome=Outcome.POOLED,
        target=_("the pool of team %(team)s") % {"team": team.name},
        team=team,
    )
    if not pushed:
        _assign(lead, pool, by=by, header=header, tried=tried)
        return pool
    if routing is None:
        TeamRouting.objects.get_or_create(team=team)
        routing = TeamRouting.objects.select_for_update().get(team=team)
    # A lead that had a first-contact deadline was with a rep before and came back (its time ran
    # out): it goes to another rep. A new lead has none yet, so this costs it no query.
    passed_over = (
        selectors.reps_who_had(lead.pk) if lead.first_contact_due_at is not None else frozenset()
    )
    choice = push.choose_rep(
        team, language=lead.language, at=at, routing=routing, rng=rng, passed_over=passed_over
    )
    if choice.user is None:
        pool.notes = [_("nobody available"), *choice.skipped]
        pool.nobody_available = True
        _assign(lead, pool, by=by, header=header, tried=tried)
        return pool
    placement = Placement(
        outcome=Outcome.ASSIGNED,
        target=_("team %(team)s → %(name)s")
        % {"team": team.name, "name": choice.user.display_name},
        user=choice.user,
        team=team,
        notes=[choice.detail, *choice.skipped],
    )
    _assign(lead, placement, by=by, header=header, tried=tried)
    return placement


def _assign(lead: Lead, placement: Placement, *, by: Actor, header: str, tried: list[str]) -> None:
    lead_services.assign_lead(
        lead,
        by=by,
        to=placement.user,
        team=placement.team,
        partner=placement.partner,
        reason=_text(header, placement, tried),
        # tell.routed() tells the receiver, with the rule's explanation.
        via=VIA_ROUTING,
        row_locked=True,
    )


def _text(header: str, placement: Placement, tried: list[str]) -> str:
    notes = [note for note in placement.notes if note]
    text = f"{header} → {placement.target}"
    if notes:
        text += ": " + "; ".join(notes)
    if tried:
        text += " (" + "; ".join(tried) + ")"
    return _clip(text)


def _clip(text: str) -> str:
    return text if len(text) <= MAX_EXPLANATION else text[: MAX_EXPLANATION - 1] + "…"


def _decide(
    lead: Lead,
    rule_set: RuleSet,
    match: engine.Match,
    placement: Placement,
    *,
    at: dt.datetime,
    tried: list[str],
    text: str = "",
) -> RouteDecision:
    decision = RouteDecision.objects.create(
        lead=lead,
        at=at,
        version=rule_set.version,
        rule_name=match.name[:200],
        outcome=placement.outcome,
        user=placement.user,
        team=placement.team,
        partner=placement.partner,
        explanation=text
        or _text(
            _("Rule “%(rule)s” (routing v%(version)d)")
            % {"rule": match.name, "version": rule_set.version},
            placement,
            tried,
        ),
        data={
            "rule_index": match.index,
            "checks": [[c.text, c.value, c.ok] for c in match.checks],
            "notes": placement.notes,
            "fallbacks": tried,
        },
    )
    tell.routed(lead, decision, nobody_available=placement.nobody_available)
    lead_services.publish_event(
        EventName.LEAD_ROUTED,
        lead.pk,
        by=ROUTING,
        at=at,
        outcome=decision.outcome,
        version=decision.version,
        rule=decision.rule_name,
        user_id=decision.user_id,
        team_id=decision.team_id,
        partner_id=decision.partner_id,
        explanation=decision.explanation,
    )
    return decision


def route_many(lead_ids: list[int], *, by: Actor = ROUTING) -> tuple[int, list[int]]:
    """Route each lead in its own transaction; returns how many were placed and the ids that
    failed with an error (logged), so one broken lead does not hold up the rest.

    While a rule sells leads, routing waits for buyers (an auction lasts up to its deadline), so
    the leads are routed by LEADLOOP_SELLING_THREADS threads side by side, each with its own
    database connection. Not inside a transaction: the threads could not see its work."""
    rule_set = selectors.active_rule_set()
    threads = int(getattr(settings, "LEADLOOP_SELLING_THREADS", 1))
    if (
        threads > 1
        and len(lead_ids) > 1
        and rule_set is not None
        and sell_step.names_a_sale(rule_set)
        and not connection.in_atomic_block
    ):
        return sell_step.route_side_by_side(route_lead, lead_ids, by=by, threads=threads)
    placed, failed = 0, []
    for lead_id in lead_ids:
        try:
            if route_lead(lead_id, by=by) is not None:
                placed += 1
        except Exception:
            logger.exception("routing failed lead_id=%d", lead_id)
            failed.append(lead_id)
    return placed, failed


def waiting_ids(
    *,
    undecided_only: bool,
    older_than: dt.timedelta | None = None,
    since: dt.datetime | None = None,
    limit: int = 1000,
) -> list[int]:
    """Ids of leads still waiting to be routed, highest priority first. With `undecided_only`
    only those routing has not looked at since they became sales-ready (their task was lost);
    else also those it could not place."""
    waiting = Lead.objects.filter(selectors.routable()).annotate(
        ready_at=Coalesce("status_changed_at", "created_at")
    )
    if older_than is not None:
        waiting = waiting.filter(ready_at__lt=timezone.now() - older_than)
    if since is not None:
        waiting = waiting.filter(ready_at__gte=since)
    if undecided_only:
        waiting = waiting.exclude(
            Exists(
                RouteDecision.objects.filter(lead_id=OuterRef("pk"), at__gte=OuterRef("ready_at"))
            )
        )
    return list(waiting.order_by("-priority", "id").values_list("pk", flat=True)[:limit])


ROUTE_CHUNK = 100


ROUTE_TASK = "leadloop.distribution.tasks.route_leads_task"


def on_sales_ready(batch: Sequence[LeadEvent]) -> None:
    """`lead_became_sales_ready` (after commit): queue the routing. Nothing is queued while no
    rules are published (routing off), nor while a routing run waits in the queue: that run
    routes every waiting lead when it starts, this one included (it is committed already)."""
    if selectors.active_rule_set() is None or is_queued(ROUTE_TASK):
        return
    ids = list(dict.fromkeys(event.lead_id for event in batch))
    # One short transaction: on SQLite it queues behind the other writers (core.sqlite_backend)
    # instead of SQLite's busy handler, which oversleeps under load (measured: the intake fell
    # to 58% of its rate with autocommitted enqueues, bench/routing.py).
    with transaction.atomic():
        for start in range(0, len(ids), ROUTE_CHUNK):
            enqueue(ROUTE_TASK, lead_ids=ids[start : start + ROUTE_CHUNK])


def route_queued(
    lead_ids: list[int], *, chunk: int = 500, budget_seconds: float = 30.0
) -> tuple[int, list[int]]:
    """What a routing run does: the leads it was queued for, then every other lead waiting since
    it became sales-ready (queued behind a run that was already waiting, or whose task was lost),
    highest priority first, a chunk at a time until none is left. A run that has worked for
    `budget_seconds` queues the next run and stops, so one backlog never holds the worker."""
    placed, failed = route_many(lead_ids)
    first = RuleSet.objects.order_by("version").values_list("published_at", flat=True).first()
    if first is None:
        return placed, failed
    began = time.monotonic()
    while True:
        batch = [
            lead_id
            for lead_id in waiting_ids(undecided_only=True, since=first, limit=chunk)
            if lead_id not in failed
        ]
        if not batch:
            return placed, failed
        if time.monotonic() - began > budget_seconds:
            if not is_queued(ROUTE_TASK):
                enqueue(ROUTE_TASK, lead_ids=[])
            return placed, failed
        more, broken = route_many(batch)
        placed, failed = placed + more, failed + broken
        if not more and not broken:
            return placed, failed


def sweep_waiting() -> int:
    """Route the leads that became sales-ready since routing was first switched on and that no
    task routed (it was lost in a crash before it ran). Leads older than the first rules wait
    for a person to press "Route waiting leads"."""
    first = RuleSet.objects.order_by("version").values_list("published_at", flat=True).first()
    if first is None:
        return 0
    ids = waiting_ids(undecided_only=True, older_than=SWEEP_AFTER, since=first)
    placed, _failed = route_many(ids)
    return placed
