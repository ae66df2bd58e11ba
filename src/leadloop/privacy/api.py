"""/api/v1/privacy: a person's copy of their data, erasure, objections, retention rules.

Exports are for admins and marketing, erasure and retention changes for admins; an objection
may be noted by staff who see the lead. Anyone else gets 403 and nothing changes.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Schema
from pydantic import ConfigDict, Field

from leadloop.accounts.actors import Actor
from leadloop.leads.models import Lead
from leadloop.leads.selectors import can_receive_marketing
from leadloop.privacy import selectors, services
from leadloop.privacy.models import RetentionRule

router = Router(tags=["privacy"])


def _actor(request: HttpRequest) -> Actor:
    from leadloop.accounts.actors import actor_from_request

    return actor_from_request(request)


class Strict(Schema):
    model_config = ConfigDict(extra="forbid")


class PersonIn(Schema):
    lead_id: int | None = None
    email: str = Field("", max_length=254)
    phone: str = Field("", max_length=64)


class ErasureIn(Strict):
    lead_id: int | None = None
    email: str = Field("", max_length=254)
    phone: str = Field("", max_length=64)
    confirm: str = Field(
        ..., max_length=254, description="The person's e-mail address, or the word ERASE."
    )


class ErasureOut(Schema):
    lead_ids: list[int]
    counts: dict[str, int]


class ObjectionIn(Strict):
    marketing: bool | None = Field(None, description="True: no marketing; false: withdrawn.")
    processing: bool | None = Field(None, description="True: objects to processing (stops mail).")
    source: str = Field("", max_length=200, description="How the request reached you.")


class ObjectionOut(Schema):
    lead_id: int
    marketing_opt_out_at: dt.datetime | None
    processing_objected_at: dt.datetime | None
    received_through: str
    can_receive_marketing: bool


class RuleIn(Strict):
    target: str
    state: str
    keep_days: int
    is_active: bool = True


class RuleOut(Schema):
    target: str
    state: str
    keep_days: int
    is_active: bool
    updated_at: dt.datetime


class ApplyIn(Strict):
    dry_run: bool = True


class OutcomeOut(Schema):
    target: str
    state: str
    keep_days: int
    cutoff: dt.datetime
    count: int


class ReportOut(Schema):
    dry_run: bool
    total: int
    rules: list[OutcomeOut]


def _query(data: PersonIn | ErasureIn) -> selectors.PersonQuery:
    return selectors.parse_query(lead_id=data.lead_id, email=data.email, phone=data.phone)


def _objection_out(lead: Lead) -> ObjectionOut:
    return ObjectionOut(
        lead_id=lead.pk,
        marketing_opt_out_at=lead.marketing_opt_out_at,
        processing_objected_at=lead.processing_objected_at,
        received_through=lead.objection_source or "",
        can_receive_marketing=can_receive_marketing(lead),
    )


@router.get("/export", response=dict[str, Any], url_name="privacy-export")
def export_person(request: HttpRequest, person: Query[PersonIn]) -> dict[str, Any]:
    """Everything stored about one person (by lead id, e-mail or phone) as one JSON document."""
    return services.export_person(_query(person), by=_actor(request))


@router.post("/erasures", response={200: ErasureOut}, url_name="privacy-erase")
def erase_person(request: HttpRequest, payload: ErasureIn) -> dict[str, Any]:
    """Erase one person's personal data everywhere; irreversible. Admins only."""
    result = services.erase_person(_query(payload), by=_actor(request), confirm=payload.confirm)
    return result.as_dict()


@router.post("/leads/{lead_id}/objection", response=ObjectionOut, url_name="privacy-objection")
def record_objection(request: HttpRequest, lead_id: int, payload: ObjectionIn) -> ObjectionOut:
    """Record or withdraw an opt-out of marketing or an objection to processing on a lead."""
    lead = services.record_objection(
        lead_id,
        by=_actor(request),
        marketing=payload.marketing,
        processing=payload.processing,
        source=payload.source,
    )
    return _objection_out(lead)


@router.get("/retention-rules", response=list[RuleOut], url_name="privacy-retention-rules")
def list_rules(request: HttpRequest) -> list[RetentionRule]:
    """The retention rules (admins and marketing)."""
    return list(selectors.list_retention_rules(_actor(request)))


@router.put("/retention-rules", response=RuleOut, url_name="privacy-retention-rule-set")
def set_rule(request: HttpRequest, payload: RuleIn) -> RetentionRule:
    """Create or change the rule for one submission state or lead status (admins)."""
    return services.set_retention_rule(by=_actor(request), **payload.dict())


@router.post("/retention/apply", response=ReportOut, url_name="privacy-retention-apply")
def apply_retention(request: HttpRequest, payload: ApplyIn) -> dict[str, Any]:
    """Apply the retention rules now, or with dry_run (the default) count what they would erase."""
    return services.apply_retention(by=_actor(request), dry_run=payload.dry_run).as_dict()
