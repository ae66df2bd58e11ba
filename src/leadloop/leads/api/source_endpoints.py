"""/api/v1/sources: list, create with a key, read, rotate or revoke the key, limits, lead rules."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.http import HttpRequest
from ninja import Schema, Status
from pydantic import Field

from leadloop.core import secrets
from leadloop.leads import selectors, services
from leadloop.leads.api.base import Strict, _actor, sources
from leadloop.leads.models import Source

# --- Sources -------------------------------------------------------------------------------------


class SourceIn(Strict):
    name: str
    kind: str
    default_country: str = ""
    default_language: str = ""
    field_mapping: dict[str, Any] = Field(default_factory=dict)
    minimum_contact: str = Field(
        "email_phone_or_address",
        description="email_phone_or_address (default), email_or_phone, email or phone",
    )
    on_invalid: str = Field(
        "", description="reject, review, or empty: reject on web forms, review elsewhere"
    )


class SourceOut(Schema):
    id: int
    name: str
    kind: str
    key_prefix: str
    key_active: bool
    default_country: str
    default_language: str
    field_mapping: dict[str, Any]
    is_active: bool
    intake_limit: int | None = Field(
        description="Posts per intake window for the whole source; null: the deployment default"
    )
    intake_limit_per_address: int | None = Field(
        description="Posts per intake window from one address; null: the deployment default"
    )
    minimum_contact: str = Field(
        description="What a lead must carry: email_phone_or_address, email_or_phone, email, phone"
    )
    on_invalid: str = Field(
        description="A refused lead: reject, review, or empty for the channel's default"
    )
    invalid_lead_policy: str = Field(description="on_invalid, or the channel's default")
    cost_per_lead: Decimal | None = Field(
        description="What a purchased source charges per lead; null: not paid per lead"
    )
    cost_currency: str
    created_at: dt.datetime


class LimitsIn(Strict):
    intake_limit: int | None = Field(None, ge=0, description="null: default, 0: no limit")
    intake_limit_per_address: int | None = Field(None, ge=0, description="null: default, 0: none")


class LeadRulesIn(Strict):
    minimum_contact: str = Field(
        description="email_phone_or_address (default), email_or_phone, email or phone"
    )
    on_invalid: str = Field(
        "", description="reject, review, or empty: reject on web forms, review elsewhere"
    )


class SourceKeyOut(Schema):
    source: SourceOut
    key: str = Field(description="Shown once; only its hash is stored")


def source_out(source: Source) -> SourceOut:
    return SourceOut(
        id=source.pk,
        name=source.name,
        kind=source.kind,
        key_prefix=source.key_prefix,
        key_active=source.has_active_key,
        default_country=source.default_country,
        default_language=source.default_language,
        # Channel passwords are never here (they are encrypted ChannelSecrets); a row written by
        # an older version is filtered all the same.
        field_mapping=secrets.without_secrets(source.field_mapping or {}),
        is_active=source.is_active,
        intake_limit=source.intake_limit,
        intake_limit_per_address=source.intake_limit_per_address,
        minimum_contact=source.minimum_contact,
        on_invalid=source.on_invalid,
        invalid_lead_policy=source.invalid_lead_policy,
        cost_per_lead=source.cost_per_lead,
        cost_currency=source.cost_currency,
        created_at=source.created_at,
    )


@sources.get("", response=list[SourceOut], summary="Lead sources")
def list_sources(request: HttpRequest) -> list[SourceOut]:
    return [source_out(s) for s in selectors.list_sources(_actor(request))]


@sources.post("", response={201: SourceKeyOut}, summary="Create a source and its key")
def create_source(request: HttpRequest, payload: SourceIn) -> Status[SourceKeyOut]:
    created = services.create_source(by=_actor(request), **payload.model_dump())
    return Status(201, SourceKeyOut(source=source_out(created.source), key=created.raw_key))


@sources.get("/{source_id}", response=SourceOut, summary="One source")
def get_source(request: HttpRequest, source_id: int) -> SourceOut:
    return source_out(selectors.get_source_for(_actor(request), source_id))


@sources.post("/{source_id}/rotate-key", response=SourceKeyOut, summary="Replace the source key")
def rotate_key(request: HttpRequest, source_id: int) -> SourceKeyOut:
    actor = _actor(request)
    source = selectors.get_source_for(actor, source_id)
    raw = services.rotate_source_key(source, by=actor)
    return SourceKeyOut(source=source_out(source), key=raw)


@sources.post("/{source_id}/revoke-key", response=SourceOut, summary="Revoke the source key")
def revoke_key(request: HttpRequest, source_id: int) -> SourceOut:
    actor = _actor(request)
    return source_out(
        services.revoke_source_key(selectors.get_source_for(actor, source_id), by=actor)
    )


@sources.put("/{source_id}/limits", response=SourceOut, summary="Set the source's post limits")
def set_limits(request: HttpRequest, source_id: int, payload: LimitsIn) -> SourceOut:
    actor = _actor(request)
    source = selectors.get_source_for(actor, source_id)
    return source_out(
        services.set_intake_limits(
            source,
            per_source=payload.intake_limit,
            per_address=payload.intake_limit_per_address,
            by=actor,
        )
    )


@sources.put(
    "/{source_id}/lead-rules",
    response=SourceOut,
    summary="Set the source's minimum contact and what happens to a refused lead",
)
def set_lead_rules(request: HttpRequest, source_id: int, payload: LeadRulesIn) -> SourceOut:
    actor = _actor(request)
    source = selectors.get_source_for(actor, source_id)
    return source_out(
        services.set_lead_rules(
            source,
            minimum_contact=payload.minimum_contact,
            on_invalid=payload.on_invalid,
            by=actor,
        )
    )


class CostPerLeadIn(Strict):
    cost_per_lead: Decimal | None = Field(description="null: the source is not paid per lead")
    currency: str = "EUR"


@sources.put(
    "/{source_id}/cost-per-lead",
    response=SourceOut,
    summary="Set what a purchased source charges per lead (analytics counts it as cost)",
)
def set_cost_per_lead(request: HttpRequest, source_id: int, payload: CostPerLeadIn) -> SourceOut:
    actor = _actor(request)
    source = selectors.get_source_for(actor, source_id)
    return source_out(
        services.set_source_cost(
            source, cost_per_lead=payload.cost_per_lead, currency=payload.currency, by=actor
        )
    )
