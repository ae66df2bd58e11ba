"""Routing in the background: after a lead becomes sales-ready, and a sweep for lost tasks."""

from __future__ import annotations

from typing import Any

from leadloop.core.retry import retrying_task
from leadloop.distribution import services


@retrying_task(max_attempts=6, base_seconds=5.0)
def route_leads_task(lead_ids: list[int]) -> int:
    """Route the leads, and every other lead waiting; a lead that fails raises after the others
    were placed, and the retry routes only what is still waiting (a placed lead is no longer
    routable)."""
    placed, failed = services.route_queued(lead_ids)
    if failed:
        raise RuntimeError(f"routing failed for lead ids {failed}")
    return placed


@retrying_task(max_attempts=3)
def route_waiting_task() -> int:
    """Route sales-ready leads whose routing task was lost."""
    return services.sweep_waiting()


@retrying_task(max_attempts=3)
def alert_unclaimed_task() -> int:
    """Note pooled leads nobody took within their team's alert hours."""
    return services.alert_unclaimed()


@retrying_task(max_attempts=3)
def expire_offers_task() -> int:
    """Partner offers past their response time go back to routing."""
    return services.expire_offers()


@retrying_task(max_attempts=6)
def tell_assigned_task(moves: list[dict[str, Any]]) -> int:
    """Tell the receivers of leads moved by hand (one message per receiver)."""
    return services.tell_assigned(moves)
