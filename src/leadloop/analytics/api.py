"""/api/v1/analytics: the source and campaign report, sales KPIs against the norms, the
follow-up impact table, the leads behind any number, the norms and how fresh the figures are.

Made for BI tools as much as for scripts: every report takes `period` (2026-11, 2026-Q4, 2026,
2026-11-01..2026-11-30, this-month, last-month, last-30-days, last-12-months) in the caller's
time zone, and `format=csv` answers the same table as CSV. Ratios are fractions ("0.7500"),
money is text in the reporting currency; amounts in other currencies are listed apart, never
added. A figure that cannot be computed (no cost, no leads) is null.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal
from typing import Any, Literal

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from ninja import Field, Query, Router
from pydantic import BaseModel, ConfigDict

from leadloop.accounts.actors import Actor, actor_from_request
from leadloop.analytics.selectors import (
    attribution,
    drill,
    kpis,
    outcomes,
    periods,
    sources,
    tables,
)
from leadloop.analytics.selectors.norms import get_norms
from leadloop.analytics.selectors.scope import fact_scope
from leadloop.analytics.services import facts, weekly
from leadloop.analytics.services.norms import update_norms

router = Router()
PERIOD = Query(periods.DEFAULT, description="2026-11, 2026-Q4, 2026, a..b, last-30-days, …")


def _period(request: HttpRequest, text: str) -> periods.Period:
    zone = timezone.get_current_timezone()
    return periods.parse_period(text, today=timezone.localdate(), zone=zone)  # type: ignore[arg-type]


def _csv(headers: list[str], rows: list[list[Any]], name: str) -> HttpResponse:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(headers)
    writer.writerows([[tables.plain(v) for v in row] for row in rows])
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    return response


class PeriodOut(BaseModel):
    first: dt.date
    last: dt.date
    zone: str


def _period_out(period: periods.Period) -> PeriodOut:
    return PeriodOut(first=period.first, last=period.last, zone=str(period.zone))


class SourceRowOut(BaseModel):
    model_config = ConfigDict(extra="ignore")
    source_id: int | None
    source: str
    campaign_id: int | None
    campaign: str
    received: int = Field(description="Valid leads + duplicates + refused or held submissions")
    rejected: int
    duplicates: int
    valid: int
    sales_ready: int
    contacted: int
    quoted: int
    won: int
    valid_rate: Decimal | None
    sales_ready_rate: Decimal | None
    contacted_rate: Decimal | None
    quoted_rate: Decimal | None
    won_rate: Decimal | None
    lead_to_order: Decimal | None
    median_hours_to_contact: Decimal | None
    revenue: Decimal | None
    revenue_other: dict[str, str]
    cost: Decimal | None
    cost_other: dict[str, str]
    cost_per_lead: Decimal | None
    cost_per_sales_ready: Decimal | None
    cost_per_order: Decimal | None
    roi: Decimal | None = Field(description="Revenue ÷ cost; null without a cost")


class SourceReportOut(BaseModel):
    period: PeriodOut
    grouping: str
    currency: str
    rows: list[SourceRowOut]
    total: SourceRowOut


@router.get(
    "/sources",
    response=SourceReportOut,
    summary="Leads, funnel, revenue, cost, CPO and ROI per source or campaign",
)
def source_report(
    request: HttpRequest,
    period: str = PERIOD,
    by: Literal["source", "campaign"] = "source",
    source: int | None = None,
    format: Literal["json", "csv"] = "json",
) -> Any:
    report = sources.source_report(
        actor_from_request(request), _period(request, period), grouping=by, source_id=source
    )
    if format == "csv":
        return _csv(*tables.source_table(report), name=f"sources-{period}")
    return SourceReportOut(
        period=_period_out(report.period),
        grouping=report.grouping,
        currency=report.currency,
        rows=[SourceRowOut(**row) for row in report.rows],
        total=SourceRowOut(**report.total),
    )


class KpiOut(BaseModel):
    value: Decimal | None
    norm: Decimal
    meets: bool | None = Field(description="null: nothing to measure")


class KpiRowOut(BaseModel):
    key: int | None = Field(description="The rep's, team's, source's or partner's id")
    name: str
    handed: int = Field(description="Leads handed to sales in the period")
    followed_up: int
    overdue: int
    quoted: int
    won: int
    revenue: Decimal | None
    revenue_other: dict[str, str]
    kpis: dict[str, KpiOut] = Field(
        description="followed_up, overdue, quoted, won, order_value, hours_to_contact"
    )


class KpiReportOut(BaseModel):
    period: PeriodOut
    grouping: str
    currency: str
    rows: list[KpiRowOut]
    total: KpiRowOut


@router.get("/kpis", response=KpiReportOut, summary="Sales KPIs against the norms")
def kpi_report(
    request: HttpRequest,
    period: str = PERIOD,
    by: Literal["rep", "team", "source", "partner"] = "rep",
    format: Literal["json", "csv"] = "json",
) -> Any:
    report = kpis.kpi_report(
        actor_from_request(request), _period(request, period), grouping=by, now=timezone.now()
    )
    if format == "csv":
        return _csv(*tables.kpi_table(report), name=f"kpis-{period}")
    return KpiReportOut(
        period=_period_out(report.period),
        grouping=report.grouping,
        currency=report.currency,
        rows=[KpiRowOut(**row) for row in report.rows],
        total=KpiRowOut(**report.total),
    )


class ImpactRowOut(BaseModel):
    bucket: str = Field(description="within_24h, later, never")
    label: str
    leads: int
    quoted: int
    won: int
    conversion: Decimal | None
    revenue: Decimal | None
    revenue_per_lead: Decimal | None


class ImpactOut(BaseModel):
    period: PeriodOut
    currency: str
    rows: list[ImpactRowOut]


@router.get(
    "/follow-up-impact",
    response=ImpactOut,
    summary="Conversion and revenue by how soon leads were first contacted",
)
def follow_up_impact(request: HttpRequest, period: str = PERIOD) -> ImpactOut:
    found = _period(request, period)
    currency, rows = kpis.follow_up_impact(actor_from_request(request), found)
    return ImpactOut(
        period=_period_out(found),
        currency=currency,
        rows=[ImpactRowOut(**vars(row)) for row in rows],
    )


class ModelOut(BaseModel):
    revenue: Decimal | None
    revenue_other: dict[str, str]
    roi: Decimal | None


class AttributionRowOut(BaseModel):
    source_id: int | None = Field(description="null: survey answers (the nurture channel)")
    source: str
    campaign_id: int | None
    campaign: str
    cost: Decimal | None
    cost_other: dict[str, str]
    models: dict[str, ModelOut] = Field(
        description="first_touch, last_touch, linear, position_based, time_decay"
    )


class AttributionOut(BaseModel):
    period: PeriodOut
    grouping: str
    currency: str
    rows: list[AttributionRowOut]
    total: AttributionRowOut


@router.get(
    "/attribution",
    response=AttributionOut,
    summary="Revenue of the orders won in the period credited under five models, with ROI",
)
def attribution_report(
    request: HttpRequest,
    period: str = PERIOD,
    by: Literal["source", "campaign"] = "source",
    format: Literal["json", "csv"] = "json",
) -> Any:
    report = attribution.attribution_report(
        actor_from_request(request), _period(request, period), grouping=by
    )
    if format == "csv":
        return _csv(*tables.attribution_table(report), name=f"attribution-{period}")
    return AttributionOut(
        period=_period_out(report.period),
        grouping=report.grouping,
        currency=report.currency,
        rows=[AttributionRowOut(**row) for row in report.rows],
        total=AttributionRowOut(**report.total),
    )


class OutcomeMonthOut(BaseModel):
    month: dt.date
    won: int
    lost: int
    revenue: Decimal | None
    revenue_other: dict[str, str]
    win_rate: Decimal | None


class OutcomesOut(BaseModel):
    period: PeriodOut
    currency: str
    months: list[OutcomeMonthOut]
    won: int
    lost: int
    win_rate: Decimal | None = Field(description="won ÷ (won + lost)")
    revenue: Decimal | None
    revenue_other: dict[str, str]
    median_days_to_win: Decimal | None = Field(description="from receipt to the win")


@router.get(
    "/outcomes",
    response=OutcomesOut,
    summary="Won and lost per month, win rate and sales cycle of the leads closed in the period",
)
def outcome_report(request: HttpRequest, period: str = PERIOD) -> OutcomesOut:
    found = outcomes.outcome_report(actor_from_request(request), _period(request, period))
    return OutcomesOut(
        period=_period_out(found.period),
        currency=found.currency,
        months=[OutcomeMonthOut(**m) for m in found.months],
        won=found.won,
        lost=found.lost,
        win_rate=found.win_rate,
        revenue=found.revenue,
        revenue_other=found.revenue_other,
        median_days_to_win=found.median_days_to_win,
    )


class DrillLeadOut(BaseModel):
    id: int
    name: str
    source: str
    status: str
    created_at: dt.datetime


class DrillOut(BaseModel):
    total: int
    page: int
    pages: int
    leads: list[DrillLeadOut]


@router.get("/leads", response=DrillOut, summary="The leads behind a number of a report")
def leads_behind(
    request: HttpRequest,
    step: str = Query("received", description=", ".join([*drill.STEPS, "overdue"])),
    period: str = PERIOD,
    basis: Literal["received", "sales_ready"] = "received",
    source: int | None = None,
    campaign: int | None = None,
    rep: int | None = None,
    team: int | None = None,
    partner: int | None = None,
    page: int = Query(1, ge=1, le=100_000),
) -> DrillOut:
    actor = actor_from_request(request)
    found = drill.leads_behind(
        actor,
        _period(request, period),
        step=step,
        basis=basis,
        now=timezone.now(),
        page=page,
        source=source,
        campaign=campaign,
        rep=rep,
        team=team,
        partner=partner,
    )
    leads = []
    for lead in found.leads:
        name, source_name = drill.shown(actor, lead)
        leads.append(
            DrillLeadOut(
                id=lead.pk,
                name=name,
                source=source_name,
                status=lead.status,
                created_at=lead.created_at,
            )
        )
    return DrillOut(total=found.total, page=found.page, pages=found.pages, leads=leads)


class NormsOut(BaseModel):
    followed_up_min: int = Field(description="Leads followed up, at least (%)")
    overdue_max: int = Field(description="Overdue, at most (%)")
    quoted_min: int = Field(description="Quoted of followed up, at least (%)")
    won_min: int = Field(description="Won of quoted, at least (%)")
    order_value_min: Decimal
    first_contact_hours_max: int
    currency: str
    updated_at: dt.datetime | None
    updated_by: str


class NormsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    followed_up_min: int | None = Field(None, ge=0, le=100)
    overdue_max: int | None = Field(None, ge=0, le=100)
    quoted_min: int | None = Field(None, ge=0, le=100)
    won_min: int | None = Field(None, ge=0, le=100)
    order_value_min: Decimal | None = Field(None, ge=0, max_digits=14, decimal_places=2)
    first_contact_hours_max: int | None = Field(None, ge=1, le=1000)
    currency: str | None = Field(None, min_length=3, max_length=3)


def _norms_out() -> NormsOut:
    norms = get_norms()
    return NormsOut(
        **{name: getattr(norms, name) for name in NormsOut.model_fields}  # type: ignore[arg-type]
    )


@router.get("/norms", response=NormsOut, summary="The norms sales KPIs are measured against")
def read_norms(request: HttpRequest) -> NormsOut:
    fact_scope(actor_from_request(request))
    return _norms_out()


@router.patch("/norms", response=NormsOut, summary="Change some of the KPI norms")
def change_norms(request: HttpRequest, payload: NormsIn) -> NormsOut:
    update_norms(by=actor_from_request(request), **payload.model_dump(exclude_none=True))
    return _norms_out()


class FreshnessOut(BaseModel):
    seconds_behind: int | None = Field(description="Since the facts were last refreshed")


@router.get("/freshness", response=FreshnessOut, summary="How far the figures are behind")
def freshness(request: HttpRequest) -> FreshnessOut:
    actor: Actor = actor_from_request(request)
    fact_scope(actor)
    lag = facts.lag()
    return FreshnessOut(seconds_behind=None if lag is None else int(lag.total_seconds()))


class WeeklyReportIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    weekly_report: bool


class WeeklyReportOut(BaseModel):
    weekly_report: bool = Field(description="The caller gets the weekly report e-mail")


@router.get("/weekly-report", response=WeeklyReportOut, summary="Whether I get the weekly report")
def read_weekly_report(request: HttpRequest) -> WeeklyReportOut:
    actor = actor_from_request(request)
    fact_scope(actor)
    return WeeklyReportOut(weekly_report=weekly.wants_weekly_report(actor))  # type: ignore[arg-type]


@router.put("/weekly-report", response=WeeklyReportOut, summary="Turn my weekly report on or off")
def set_weekly_report(request: HttpRequest, payload: WeeklyReportIn) -> WeeklyReportOut:
    actor = actor_from_request(request)
    fact_scope(actor)
    weekly.set_weekly_report(actor, subscribed=payload.weekly_report, by=actor)  # type: ignore[arg-type]
    return WeeklyReportOut(weekly_report=payload.weekly_report)
