"""/api/v1/distribution/pool, /offers, /partners/scorecard: taking leads from a team's pool,
partners answering the leads offered to them, and the partner scorecard."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import Schema, Status
from pydantic import Field

from leadloop.accounts.models import User
from leadloop.distribution import selectors, services
from leadloop.distribution.api.base import Strict, _actor, router
from leadloop.errors import NotFound


class PoolLeadOut(Schema):
    id: int
    name: str
    priority: int
    fit_grade: str
    source: str
    pooled_at: dt.datetime | None


class PoolOut(Schema):
    team_id: int | None
    total: int
    leads: list[PoolLeadOut]


class ClaimIn(Strict):
    team_id: int | None = Field(None, description="The pool; your own team's by default.")
    lead_id: int | None = Field(None, description="A chosen lead; else the next by priority.")


class ClaimOut(Schema):
    lead_id: int
    team_id: int | None
    assigned_to_id: int | None


@router.get("/pool", response=PoolOut, url_name="distribution-pool")
def get_pool(request: HttpRequest, team_id: int | None = None) -> PoolOut:
    """A team's pool by priority (the first 200): your own team's by default."""
    actor = _actor(request)
    teams = selectors.list_claim_teams(actor) or list(selectors.list_routing_teams(actor))
    if not teams and team_id is None:
        return PoolOut(team_id=None, total=0, leads=[])
    team = next((t for t in teams if team_id is None or t.pk == team_id), None)
    if team is None:
        raise NotFound("No such pool.")
    pool = selectors.list_pool(actor, team)
    return PoolOut(
        team_id=team.pk,
        total=pool.count(),
        leads=[
            PoolLeadOut(
                id=lead.pk,
                name=str(lead),
                priority=lead.priority,
                fit_grade=lead.fit_grade,
                source=lead.source.name,
                pooled_at=lead.pooled_at,
            )
            for lead in pool.annotate(pooled_at=services.pooled_since())[:200]
        ],
    )


@router.post("/pool/claim", response={201: ClaimOut}, url_name="distribution-claim")
def claim(request: HttpRequest, payload: ClaimIn) -> Status:
    """Take the next lead of a pool (or the chosen one): 409 when the pool is empty or someone
    else took the lead first, 422 when a limit of yours is reached."""
    actor = _actor(request)
    if not isinstance(actor, User):
        raise NotFound("No such pool.")
    if payload.lead_id is not None:
        lead = services.claim_lead(actor, payload.lead_id)
    else:
        team = None
        if payload.team_id is not None:
            team = next(
                (t for t in selectors.list_claim_teams(actor) if t.pk == payload.team_id), None
            )
            if team is None:
                raise NotFound("No such pool.")
        lead = services.claim_next(actor, team=team)
    return Status(
        201, ClaimOut(lead_id=lead.pk, team_id=lead.team_id, assigned_to_id=lead.assigned_to_id)
    )


class OfferOut(Schema):
    id: int
    lead_id: int
    lead: str
    partner_id: int
    state: str
    offered_at: dt.datetime
    respond_by: dt.datetime
    responded_at: dt.datetime | None
    reason: str


class RejectIn(Strict):
    reason: str = Field(..., min_length=1, max_length=500)


class ScoreOut(Schema):
    partner_id: int
    partner: str
    received: int
    accepted: int
    rejected: int
    expired: int
    waiting: int
    acceptance_rate: float | None
    median_response_hours: float | None
    won: int
    revenue: str


def _offer(found: Any) -> OfferOut:
    return OfferOut(
        id=found.pk,
        lead_id=found.lead_id,
        # A lead the partner turned down is no longer theirs to see: its number only.
        lead=str(found.lead) if found.state in ("offered", "accepted") else f"#{found.lead_id}",
        partner_id=found.partner_id,
        state=found.state,
        offered_at=found.offered_at,
        respond_by=found.respond_by,
        responded_at=found.responded_at,
        reason=found.reason,
    )


def _partner_user(request: HttpRequest) -> User:
    actor = _actor(request)
    if not selectors.is_partner_user(actor):
        raise NotFound("Only partner users have offered leads.")
    return actor  # type: ignore[return-value]


@router.get("/offers", response=list[OfferOut], url_name="distribution-offers")
def list_offers(request: HttpRequest) -> list[OfferOut]:
    """Leads routed to your partner organisation: open offers first, then the last answered
    (empty for anyone but a partner user)."""
    return [_offer(found) for found in services.list_offers_for(_actor(request))]


@router.post("/offers/{offer_id}/accept", response=OfferOut, url_name="distribution-offer-accept")
def accept_offer(request: HttpRequest, offer_id: int) -> OfferOut:
    """Take the lead (it stays your organisation's to work); 409 when already answered."""
    found = services.accept_offer(_partner_user(request), offer_id)
    found.refresh_from_db()
    return _offer(found)


@router.post("/offers/{offer_id}/reject", response=OfferOut, url_name="distribution-offer-reject")
def reject_offer(request: HttpRequest, offer_id: int, payload: RejectIn) -> OfferOut:
    """Turn the lead down with a reason: it is routed again, past your organisation."""
    found = services.reject_offer(_partner_user(request), offer_id, reason=payload.reason)
    return _offer(found)


@router.get("/partners/scorecard", response=list[ScoreOut], url_name="distribution-scorecard")
def partner_scorecard(request: HttpRequest) -> list[ScoreOut]:
    """Per partner: leads offered, accepted, rejected, unanswered, the median time to answer,
    leads won and their revenue (marketing, admins, sales managers)."""
    return [
        ScoreOut(
            partner_id=row.partner.pk,
            partner=row.partner.name,
            received=row.received,
            accepted=row.accepted,
            rejected=row.rejected,
            expired=row.expired,
            waiting=row.open,
            acceptance_rate=row.acceptance_rate,
            median_response_hours=row.median_response_hours,
            won=row.won,
            revenue=str(row.revenue),
        )
        for row in services.scorecard(_actor(request))
    ]
