"""/api/v1/campaigns: list, create, read, and add costs."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.http import HttpRequest
from ninja import File, Schema, Status
from ninja.files import UploadedFile
from pydantic import Field

from leadloop.leads import selectors, services
from leadloop.leads.api.base import Strict, _actor, campaigns
from leadloop.leads.api.lead_endpoints import Ref
from leadloop.leads.models import Campaign

# --- Campaigns -----------------------------------------------------------------------------------


class CampaignIn(Strict):
    source_id: int
    name: str
    starts_on: dt.date | None = None
    ends_on: dt.date | None = None
    budget_amount: Decimal = Decimal("0")
    currency: str = "EUR"


class CampaignOut(Schema):
    id: int
    source: Ref
    name: str
    starts_on: dt.date | None
    ends_on: dt.date | None
    budget_amount: Decimal
    currency: str


class CostIn(Strict):
    incurred_on: dt.date
    until_on: dt.date | None = Field(
        None, description="The last day of a cost that covers a period (spread evenly over it)"
    )
    amount: Decimal = Field(ge=0)
    currency: str = Field("", description="Empty: the campaign's currency")
    note: str = Field("", max_length=255)


class CostOut(Schema):
    id: int
    incurred_on: dt.date
    until_on: dt.date | None
    amount: Decimal
    currency: str
    note: str


def campaign_out(campaign: Campaign) -> CampaignOut:
    return CampaignOut(
        id=campaign.pk,
        source=Ref(id=campaign.source.pk, name=campaign.source.name),
        name=campaign.name,
        starts_on=campaign.starts_on,
        ends_on=campaign.ends_on,
        budget_amount=campaign.budget_amount,
        currency=campaign.currency,
    )


@campaigns.get("", response=list[CampaignOut], summary="Campaigns, optionally of one source")
def list_campaigns(request: HttpRequest, source: int | None = None) -> list[CampaignOut]:
    return [campaign_out(c) for c in selectors.list_campaigns(_actor(request), source_id=source)]


@campaigns.post("", response={201: CampaignOut}, summary="Create a campaign")
def create_campaign(request: HttpRequest, payload: CampaignIn) -> Status[CampaignOut]:
    actor = _actor(request)
    data = payload.model_dump()
    source = selectors.get_linkable_source(actor, data.pop("source_id"), field="source_id")
    return Status(201, campaign_out(services.create_campaign(source=source, by=actor, **data)))


@campaigns.get("/{campaign_id}", response=CampaignOut, summary="One campaign")
def get_campaign(request: HttpRequest, campaign_id: int) -> CampaignOut:
    return campaign_out(selectors.get_campaign_for(_actor(request), campaign_id))


@campaigns.post("/{campaign_id}/costs", response={201: CostOut}, summary="Record a campaign cost")
def add_cost(request: HttpRequest, campaign_id: int, payload: CostIn) -> Status[CostOut]:
    actor = _actor(request)
    campaign = selectors.get_campaign_for(actor, campaign_id)
    cost = services.add_campaign_cost(campaign, by=actor, **payload.model_dump())
    out = CostOut(
        id=cost.pk,
        incurred_on=cost.incurred_on,
        until_on=cost.until_on,
        amount=cost.amount,
        currency=cost.currency,
        note=cost.note,
    )
    return Status(201, out)


class CostImportOut(Schema):
    created: int
    amount_by_currency: dict[str, Decimal]


@campaigns.post(
    "/costs/import",
    response={201: CostImportOut},
    summary="Import campaign costs from CSV (campaign, date, until, amount, currency, note)",
)
def import_costs(request: HttpRequest, file: File[UploadedFile]) -> Status[CostImportOut]:
    actor = _actor(request)
    data = file.read(services.MAX_COST_IMPORT_BYTES + 1)
    result = services.import_campaign_costs(data, by=actor)
    return Status(
        201, CostImportOut(created=result.created, amount_by_currency=result.amount_by_currency)
    )
