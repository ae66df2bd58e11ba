"""The lead status machine: which moves are allowed. `services.transition` is its only user."""

from __future__ import annotations

from leadloop.leads.models import LeadStatus as S

ALLOWED_MOVES: dict[str, frozenset[str]] = {
    S.NEW: frozenset({S.NURTURING, S.SALES_READY, S.ASSIGNED, S.DISQUALIFIED}),
    S.NURTURING: frozenset({S.SALES_READY, S.ASSIGNED, S.LOST, S.DISQUALIFIED}),
    S.SALES_READY: frozenset({S.ASSIGNED, S.NURTURING, S.DISQUALIFIED}),
    S.ASSIGNED: frozenset({S.CONTACTED, S.SALES_READY, S.NURTURING, S.LOST, S.DISQUALIFIED}),
    S.CONTACTED: frozenset({S.QUOTED, S.WON, S.LOST, S.NURTURING, S.DISQUALIFIED}),
    S.QUOTED: frozenset({S.WON, S.LOST, S.CONTACTED}),
    S.WON: frozenset(),
    # A lost lead can be recycled into nurturing; a disqualified one re-examined from the start.
    S.LOST: frozenset({S.NURTURING}),
    S.DISQUALIFIED: frozenset({S.NEW}),
}

CLOSED = frozenset({S.WON, S.LOST, S.DISQUALIFIED})
# A partner user records what happened with a lead routed to them; the rest is the company's call.
PARTNER_MOVES = frozenset({S.CONTACTED, S.QUOTED, S.WON, S.LOST})
OWNED = frozenset({S.ASSIGNED, S.CONTACTED, S.QUOTED})


def allowed_moves(status: str) -> list[str]:
    """The statuses a lead in `status` may move to, in lifecycle order."""
    targets = ALLOWED_MOVES.get(status, frozenset())
    return [value for value in S.values if value in targets]
