"""/api/v1/assessment/enrichment: the HTTP enrichment providers, and running them for a lead."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router, Schema, Status
from pydantic import ConfigDict, Field

from leadloop.accounts.actors import Actor
from leadloop.accounts.selectors import is_staff_role
from leadloop.assessment import enrichment
from leadloop.assessment.models import EnrichmentProvider
from leadloop.errors import NotAllowed
from leadloop.leads import selectors as leads_selectors

router = Router()


def _actor(request: HttpRequest) -> Actor:
    from leadloop.accounts.actors import actor_from_request

    return actor_from_request(request)


class ProviderIn(Schema):
    model_config = ConfigDict(extra="forbid")
    name: str
    url: str
    method: str = "GET"
    headers: dict[str, str] = Field(default_factory=dict)
    request_fields: dict[str, str] = Field(description="query parameter → lead field")
    response_fields: dict[str, str] = Field(
        description="dotted path in the answer → lead field or extra.<name>"
    )
    timeout_seconds: float = 3.0
    cache_hours: int = 168
    only_fill_empty: bool = True
    is_active: bool = True


class ProviderOut(Schema):
    id: int
    name: str
    url: str
    method: str
    header_names: list[str] = Field(description="Header values are not shown: they hold keys")
    request_fields: dict[str, Any]
    response_fields: dict[str, Any]
    timeout_seconds: float
    cache_hours: int
    only_fill_empty: bool
    is_active: bool
    created_at: dt.datetime


class RunIn(Schema):
    model_config = ConfigDict(extra="forbid")
    lead_id: int


class OutcomeOut(Schema):
    provider: str
    filled: dict[str, dict[str, Any]]
    values: dict[str, Any]
    problems: list[str]
    from_cache: bool
    skipped: str
    error: str
    retryable: bool


class RunOut(Schema):
    lead_id: int
    outcomes: list[OutcomeOut]


def _out(provider: EnrichmentProvider) -> ProviderOut:
    return ProviderOut(
        id=provider.pk,
        name=provider.name,
        url=provider.url,
        method=provider.method,
        header_names=list(provider.header_names or []),
        request_fields=provider.request_fields or {},
        response_fields=provider.response_fields or {},
        timeout_seconds=provider.timeout_seconds,
        cache_hours=provider.cache_hours,
        only_fill_empty=provider.only_fill_empty,
        is_active=provider.is_active,
        created_at=provider.created_at,
    )


@router.get("/providers", response=list[ProviderOut], summary="The HTTP enrichment providers")
def list_providers(request: HttpRequest) -> list[ProviderOut]:
    return [_out(p) for p in enrichment.list_providers(_actor(request))]


@router.post("/providers", response={201: ProviderOut}, summary="Add an HTTP provider")
def create_provider(request: HttpRequest, payload: ProviderIn) -> Status:
    provider = enrichment.create_provider(values=payload.model_dump(), by=_actor(request))
    return Status(201, _out(provider))


@router.get("/providers/{provider_id}", response=ProviderOut, summary="One HTTP provider")
def get_provider(request: HttpRequest, provider_id: int) -> ProviderOut:
    return _out(enrichment.get_provider_for(_actor(request), provider_id))


@router.put("/providers/{provider_id}", response=ProviderOut, summary="Replace a provider")
def put_provider(request: HttpRequest, provider_id: int, payload: ProviderIn) -> ProviderOut:
    actor = _actor(request)
    provider = enrichment.get_provider_for(actor, provider_id)
    return _out(enrichment.update_provider(provider, values=payload.model_dump(), by=actor))


@router.delete("/providers/{provider_id}", response={204: None}, summary="Delete a provider")
def delete_provider(request: HttpRequest, provider_id: int) -> Status:
    actor = _actor(request)
    enrichment.delete_provider(enrichment.get_provider_for(actor, provider_id), by=actor)
    return Status(204, None)


@router.post(
    "/run",
    response=RunOut,
    summary="Run the active HTTP providers for one lead now and append what they answer",
)
def run(request: HttpRequest, payload: RunIn) -> RunOut:
    actor = _actor(request)
    lead = leads_selectors.get_linkable_lead(actor, payload.lead_id, field="lead_id")
    if not is_staff_role(actor):
        raise NotAllowed(_("Only company staff can run enrichment."))
    result = enrichment.enrich_stored_lead(lead.pk, by=actor)
    return RunOut(
        lead_id=result.lead_id,
        outcomes=[OutcomeOut(**vars(o)) for o in result.outcomes],
    )
