"""Routing's sale step: when the rule a lead matches sells it, the auction runs before routing
takes the lead's lock (it waits for buyers), and a run sells its leads side by side."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from leadloop.accounts.actors import Actor
from leadloop.distribution import actions, engine, selectors
from leadloop.distribution.models import Outcome, RouteDecision, RuleSet
from leadloop.distribution.services import partners
from leadloop.distribution.services.actor import ROUTING
from leadloop.leads import services as lead_services
from leadloop.leads.events import EventName
from leadloop.leads.models import Lead

logger = logging.getLogger(__name__)

DEADLINE_MS = 750
MAX_EXPLANATION = 500


def _clip(text: str) -> str:
    return text if len(text) <= MAX_EXPLANATION else text[: MAX_EXPLANATION - 1] + "…"


def names_a_partner(rule_set: RuleSet) -> bool:
    """Whether any rule (or the default) of `rule_set` sends leads to a partner: only then does
    routing need to know which partners turned a lead down."""
    named = [rule.get("action") or {} for rule in rule_set.rules] + [rule_set.default or {}]
    return any(action.get("kind") == actions.PARTNER for action in named)


def names_a_sale(rule_set: RuleSet) -> bool:
    named = [rule.get("action") or {} for rule in rule_set.rules] + [rule_set.default or {}]
    return any(action.get("kind") == actions.SELL for action in named)


def try_selling(lead_id: int, rule_set: RuleSet, *, by: Actor) -> RouteDecision | str | None:
    """When the rule a lead matches sells it: run the auction (outside any transaction: it
    waits for buyers), and on a sale write the decision. A string says why it was not sold (the
    lead is then routed by the next rule); None: the lead is not routable or is being sold."""
    from leadloop.distribution.selling.models import Auction, AuctionState
    from leadloop.distribution.selling.services.auction import sell_lead
    from leadloop.errors import Conflict

    lead = (
        Lead.objects.select_related("source", "campaign")
        .filter(selectors.routable(), pk=lead_id)
        .first()
    )
    if lead is None or Auction.objects.filter(lead=lead, state=AuctionState.OPEN).exists():
        return None
    declined = partners.declined_partners(lead.pk) if names_a_partner(rule_set) else set()
    match = engine.decide(
        rule_set.rules,
        rule_set.default,
        lead,
        pass_over=lambda a: a.get("kind") == actions.PARTNER and a.get("partner_id") in declined,
    )
    if match.action.get("kind") != actions.SELL:
        return ""
    try:
        floor = Decimal(str(match.action.get("floor") or "0"))
    except InvalidOperation:
        floor = Decimal("0")
    try:
        result = sell_lead(
            lead_id,
            by=by,
            floor=floor,
            deadline_ms=int(match.action.get("deadline_ms") or DEADLINE_MS),
        )
    except Conflict:
        return None
    header = _("Rule “%(rule)s” (routing v%(version)d)") % {
        "rule": match.name,
        "version": rule_set.version,
    }
    if not result.is_sold:
        return _("%(rule)s: not sold (%(why)s)") % {"rule": header, "why": result.explanation}
    at = timezone.now()
    with transaction.atomic():
        decision = RouteDecision.objects.create(
            lead=lead,
            at=at,
            version=rule_set.version,
            rule_name=match.name[:200],
            outcome=Outcome.SOLD,
            explanation=_clip(f"{header} → {result.explanation}"),
            data={
                "rule_index": match.index,
                "checks": [[c.text, c.value, c.ok] for c in match.checks],
                "auction_id": result.auction.pk if result.auction else None,
                "sales": [sale.pk for sale in result.sold],
            },
        )
        lead_services.publish_event(
            EventName.LEAD_ROUTED,
            lead.pk,
            by=ROUTING,
            at=at,
            outcome=decision.outcome,
            version=decision.version,
            rule=decision.rule_name,
            user_id=None,
            team_id=None,
            partner_id=None,
            explanation=decision.explanation,
        )
        return decision


def route_side_by_side(
    route: Callable[..., RouteDecision | None],
    lead_ids: list[int],
    *,
    by: Actor,
    threads: int,
) -> tuple[int, list[int]]:
    """Route the leads with `route` in `threads` threads. Each thread keeps its database
    connection from one lead to the next (a new one per lead cost a PostgreSQL backend process,
    or SQLite's pragmas, every time) and the connections are closed when the run ends."""
    from concurrent.futures import ThreadPoolExecutor

    used: set[Any] = set()
    guard = threading.Lock()

    def one(lead_id: int) -> bool | None:
        with guard:
            used.add(connections[DEFAULT_DB_ALIAS])
        try:
            return route(lead_id, by=by) is not None
        except Exception:
            logger.exception("routing failed lead_id=%d", lead_id)
            connection.close()  # it may be the connection that failed: the next lead opens one
            return None

    try:
        with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="route") as pool:
            outcomes = list(pool.map(one, lead_ids))
    finally:
        close_from_here(used)
    placed = sum(1 for done in outcomes if done)
    failed = [lead_id for lead_id, done in zip(lead_ids, outcomes, strict=True) if done is None]
    return placed, failed


def close_from_here(wrappers: set[Any]) -> None:
    """Close database connections that threads of a finished pool opened (Django lets only the
    thread that opened a connection close it, unless it is marked as shared)."""
    for wrapper in wrappers:
        wrapper.inc_thread_sharing()
        try:
            wrapper.close()
        finally:
            wrapper.dec_thread_sharing()
