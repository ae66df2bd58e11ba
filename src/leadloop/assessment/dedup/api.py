"""/api/v1/assessment/duplicates and /merges: candidate pairs, merge with field picking, dismiss,
undo. Staff only, and only pairs of leads the caller may see (404 otherwise, no hint)."""

from __future__ import annotations

import datetime as dt

from django.http import HttpRequest
from ninja import Query, Router, Schema
from pydantic import ConfigDict, Field

from leadloop.accounts.actors import Actor
from leadloop.assessment.dedup import services as merging
from leadloop.assessment.models import DuplicatePair, Merge
from leadloop.leads.models import Lead

router = Router(tags=["duplicates"])


def _actor(request: HttpRequest) -> Actor:
    from leadloop.accounts.actors import actor_from_request

    return actor_from_request(request)


class LeadBrief(Schema):
    id: int
    first_name: str
    last_name: str
    email: str
    phone_e164: str
    postal_code: str
    company_name: str


class PairOut(Schema):
    id: int
    score: float
    reasons: list[str]
    state: str
    found_at: dt.datetime
    lead: LeadBrief
    other: LeadBrief


class PairList(Schema):
    items: list[PairOut]
    next_cursor: str | None


class PairQuery(Schema):
    cursor: str | None = None
    limit: int = Field(50, ge=1, le=200)


class MergeIn(Schema):
    model_config = ConfigDict(extra="forbid")

    survivor_id: int
    fields: dict[str, int] = Field(
        default_factory=dict,
        description=(
            "Field group → id of the lead whose value to keep: first_name, last_name, email, "
            "phone, address, company, job_title, language. Unnamed groups keep the survivor's "
            "value, or the other lead's when the survivor's is empty."
        ),
    )


class MergeOut(Schema):
    id: int
    survivor_id: int
    merged_id: int
    pair_id: int | None
    field_choices: dict[str, int]
    survivor_before: dict[str, object]
    merged_at: dt.datetime
    undone_at: dt.datetime | None


def _brief(lead: Lead) -> LeadBrief:
    return LeadBrief(
        id=lead.pk,
        first_name=lead.first_name,
        last_name=lead.last_name,
        email=lead.email,
        phone_e164=lead.phone_e164,
        postal_code=lead.postal_code,
        company_name=lead.company_name,
    )


def pair_out(pair: DuplicatePair) -> PairOut:
    return PairOut(
        id=pair.pk,
        score=pair.score,
        reasons=[str(r) for r in pair.reasons],
        state=pair.state,
        found_at=pair.found_at,
        lead=_brief(pair.lead),
        other=_brief(pair.other),
    )


def merge_out(merge: Merge) -> MergeOut:
    return MergeOut(
        id=merge.pk,
        survivor_id=merge.survivor_id,
        merged_id=merge.merged_id,
        pair_id=merge.pair_id,
        field_choices=merge.field_choices,
        survivor_before=merge.survivor_before,
        merged_at=merge.merged_at,
        undone_at=merge.undone_at,
    )


@router.get("/duplicates", response=PairList, summary="Open duplicate pairs, most likely first")
def list_pairs(request: HttpRequest, query: Query[PairQuery]) -> PairList:
    page = merging.list_open_pairs(_actor(request), cursor=query.cursor, limit=query.limit)
    return PairList(items=[pair_out(p) for p in page.items], next_cursor=page.next_cursor)


@router.get("/duplicates/{pair_id}", response=PairOut, summary="One duplicate pair")
def get_pair(request: HttpRequest, pair_id: int) -> PairOut:
    return pair_out(merging.get_pair_for(_actor(request), pair_id))


@router.post(
    "/duplicates/{pair_id}/merge", response=MergeOut, summary="Merge a pair, picking fields"
)
def merge_pair(request: HttpRequest, pair_id: int, payload: MergeIn) -> MergeOut:
    actor = _actor(request)
    pair = merging.get_pair_for(actor, pair_id)
    merge = merging.merge_pair(
        pair, survivor_id=payload.survivor_id, field_choices=payload.fields, by=actor
    )
    return merge_out(merge)


@router.post("/duplicates/{pair_id}/dismiss", response=PairOut, summary="Not the same person")
def dismiss_pair(request: HttpRequest, pair_id: int) -> PairOut:
    actor = _actor(request)
    pair = merging.dismiss_pair(merging.get_pair_for(actor, pair_id), by=actor)
    return pair_out(merging.get_pair_for(actor, pair.pk))


@router.post("/merges/{merge_id}/undo", response=MergeOut, summary="Undo a merge")
def undo_merge(request: HttpRequest, merge_id: int) -> MergeOut:
    actor = _actor(request)
    return merge_out(merging.undo_merge(merging.get_merge_for(actor, merge_id), by=actor))
