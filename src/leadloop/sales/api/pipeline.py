"""/api/v1/sales/pipeline and /api/v1/sales/forecast: the board's stages (counts, weighted
value per currency, the first cards by priority) and the forecast by expected close month, rep
and currency. Amounts are decimal strings, each in its own currency; nothing is converted."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.http import HttpRequest
from ninja import Query, Schema
from pydantic import BaseModel, Field

from leadloop.accounts.actors import actor_from_request
from leadloop.leads.models import Lead
from leadloop.sales.api.base import sales_router
from leadloop.sales.selectors import pipeline as selectors


class ForecastQuery(Schema):
    team: int | None = Field(None, description="Only leads of this team.")
    owner: int | None = Field(None, description="Only leads assigned to this user (the rep).")
    source: int | None = Field(None, description="Only leads from this source.")

    def to_filters(self) -> selectors.PipelineFilters:
        return selectors.PipelineFilters(team=self.team, owner=self.owner, source=self.source)


class BoardQuery(ForecastQuery):
    close_month: str = Field(
        "", description="Only leads whose current quote should close in this month (YYYY-MM)."
    )
    cards: int = Field(
        selectors.CARD_CAP, ge=0, le=selectors.MAX_CARD_CAP, description="Cards per stage."
    )

    def to_filters(self) -> selectors.PipelineFilters:
        return selectors.PipelineFilters(
            team=self.team,
            owner=self.owner,
            source=self.source,
            close_month=selectors.parse_month(self.close_month),
        )


class AmountOut(BaseModel):
    currency: str
    amount: str = Field(description='A decimal string, like "12000.00".')


class CardOut(BaseModel):
    id: int
    name: str
    company_name: str
    priority: int
    fit_grade: str
    owner_id: int | None
    owner: str
    potential_revenue: str | None
    probability: int | None
    currency: str
    weighted: str | None = Field(description="Potential revenue × probability / 100.")
    expected_close_on: dt.date | None


class StageOut(BaseModel):
    status: str
    label: str
    count: int
    weighted: list[AmountOut] = Field(description="One sum per currency, never converted.")
    cards: list[CardOut] = Field(description="The first cards by priority.")
    more: int = Field(description="Leads in the stage beyond the cards.")


class PipelineOut(BaseModel):
    count: int
    weighted: list[AmountOut]
    stages: list[StageOut]


class ForecastRowOut(BaseModel):
    month: str | None = Field(description="YYYY-MM of the expected close; null: no date.")
    rep_id: int | None
    rep: str
    currency: str
    weighted: str = Field(description="Σ amount × probability / 100 of the current quotes.")
    best_case: str = Field(description="Σ amount of the current quotes.")
    quotes: int


class ForecastOut(BaseModel):
    rows: list[ForecastRowOut]


def _text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _amounts(totals: tuple[selectors.Amount, ...]) -> list[AmountOut]:
    return [AmountOut(currency=total.currency, amount=str(total.value)) for total in totals]


def _card(lead: Lead) -> CardOut:
    return CardOut(
        id=lead.pk,
        name=str(lead),
        company_name=lead.company_name,
        priority=lead.priority,
        fit_grade=lead.fit_grade,
        owner_id=lead.assigned_to_id,
        owner=lead.assigned_to.display_name if lead.assigned_to else "",
        potential_revenue=_text(lead.potential_revenue),
        probability=lead.probability,
        currency=lead.currency,
        weighted=_text(lead.weighted_revenue),
        expected_close_on=getattr(lead, "close_on", None),
    )


@sales_router.get("/pipeline", response=PipelineOut, url_name="sales-pipeline")
def get_pipeline(request: HttpRequest, filters: Query[BoardQuery]) -> PipelineOut:
    """The pipeline board: your visible open leads per stage (assigned, contacted, quoted) with
    their count, weighted value per currency and the first cards by priority."""
    board = selectors.get_board(
        actor_from_request(request), filters.to_filters(), cap=filters.cards
    )
    return PipelineOut(
        count=board.count,
        weighted=_amounts(board.weighted),
        stages=[
            StageOut(
                status=stage.status,
                label=stage.label,
                count=stage.count,
                weighted=_amounts(stage.weighted),
                cards=[_card(lead) for lead in stage.cards],
                more=stage.more,
            )
            for stage in board.stages
        ],
    )


@sales_router.get("/forecast", response=ForecastOut, url_name="sales-forecast")
def get_forecast(request: HttpRequest, filters: Query[ForecastQuery]) -> ForecastOut:
    """The forecast: current quotes of your visible open leads by expected close month, rep
    and currency, weighted (amount × probability) and best case (amount)."""
    rows = selectors.get_forecast(actor_from_request(request), filters.to_filters())
    return ForecastOut(
        rows=[
            ForecastRowOut(
                month=row.month.strftime("%Y-%m") if row.month else None,
                rep_id=row.rep_id,
                rep=row.rep,
                currency=row.currency,
                weighted=str(row.weighted),
                best_case=str(row.best_case),
                quotes=row.quotes,
            )
            for row in rows
        ]
    )
