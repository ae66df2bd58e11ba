"""The reports: sources and campaigns (marketing), sales KPIs against the norms with the
follow-up impact table (everyone in sales, each their own figures), the leads behind a number,
and the norms. Every table downloads as CSV or XLSX (`?export=csv|xlsx`)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from leadloop.accounts.actors import Actor
from leadloop.accounts.permissions import Permission, can
from leadloop.analytics.forms import QUICK_PERIODS, NormsForm, ReportForm
from leadloop.analytics.selectors import (
    attribution,
    drill,
    kpis,
    outcomes,
    periods,
    sources,
    tables,
)
from leadloop.analytics.selectors.alerts import can_manage_alerts
from leadloop.analytics.selectors.norms import get_norms
from leadloop.analytics.selectors.scope import can_see_source_roi, fact_scope
from leadloop.analytics.services import facts, weekly
from leadloop.analytics.services.norms import FIELDS, update_norms
from leadloop.analytics.views.charts import (
    attribution_chart,
    kpi_charts,
    outcome_chart,
    source_charts,
)
from leadloop.analytics.views.export import download
from leadloop.errors import LeadloopError, NotAllowed, ValidationFailed

SOURCE_GROUPINGS = [("source", _("Source")), ("campaign", _("Campaign"))]


def _actor(request: HttpRequest) -> Actor:
    actor: Actor = request.user  # type: ignore[assignment]
    return actor


def _period(request: HttpRequest, form: ReportForm) -> tuple[periods.Period, str | None]:
    """The period the form names, or the default with the error to show beside the field."""
    today = timezone.localdate()
    zone = timezone.get_current_timezone()
    try:
        return periods.parse_period(form.spec(), today=today, zone=zone), None  # type: ignore[arg-type]
    except ValidationFailed as exc:
        return periods.parse_period(None, today=today, zone=zone), exc.errors["period"][0]  # type: ignore[arg-type]


def _context(
    request: HttpRequest, form: ReportForm, period: periods.Period, **more: Any
) -> dict[str, Any]:
    lag = facts.lag()
    return {
        "form": form,
        "period": period,
        "quick_periods": QUICK_PERIODS,
        "query": urlencode({"period": period.spec}),
        "lag_minutes": None if lag is None else int(lag.total_seconds() // 60),
        "can_see_sources": can_see_source_roi(_actor(request)),
        "can_manage_alerts": can_manage_alerts(_actor(request)),
        "weekly_report": weekly.wants_weekly_report(request.user),  # type: ignore[arg-type]
        **more,
    }


@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """Marketing lands on the source report, sales on the KPIs."""
    actor = _actor(request)
    if can_see_source_roi(actor):
        return redirect("analytics:sources")
    if can(actor, Permission.SEE_SALES_KPIS):
        return redirect("analytics:kpis")
    raise PermissionDenied


@login_required
@require_GET
def sources_page(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    if not can_see_source_roi(actor):
        raise PermissionDenied
    form = ReportForm(request.GET, groupings=SOURCE_GROUPINGS)
    period, error = _period(request, form)
    grouping = form.grouping("source")
    report = sources.source_report(actor, period, grouping=grouping)  # type: ignore[arg-type]
    export = request.GET.get("export")
    if export in ("csv", "xlsx"):
        return download(export, *tables.source_table(report), name=f"sources-{period.first}")
    previous = sources.source_report(actor, period.previous(), grouping=grouping)  # type: ignore[arg-type]
    context = _context(
        request,
        form,
        period,
        report=report,
        previous=previous.total,
        period_error=error,
        grouping=grouping,
        charts=source_charts(report, previous.total),
    )
    return render(request, "analytics/sources.html", context)


MODEL_LABELS = {
    "first_touch": _("First touch"),
    "last_touch": _("Last touch"),
    "linear": _("Linear"),
    "position_based": _("Position (40/20/40)"),
    "time_decay": _("Time decay"),
}


@login_required
@require_GET
def attribution_page(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    if not can_see_source_roi(actor):
        raise PermissionDenied
    form = ReportForm(request.GET, groupings=SOURCE_GROUPINGS)
    period, error = _period(request, form)
    grouping = form.grouping("source")
    report = attribution.attribution_report(actor, period, grouping=grouping)  # type: ignore[arg-type]
    export = request.GET.get("export")
    if export in ("csv", "xlsx"):
        return download(
            export, *tables.attribution_table(report), name=f"attribution-{period.first}"
        )
    context = _context(
        request,
        form,
        period,
        report=report,
        models=MODEL_LABELS,
        period_error=error,
        grouping=grouping,
        charts={"roi": attribution_chart(report, MODEL_LABELS)},
    )
    return render(request, "analytics/attribution.html", context)


KPI_GROUPINGS = [
    ("rep", _("Rep")),
    ("team", _("Team")),
    ("source", _("Source")),
    ("partner", _("Partner")),
]
KPI_LABELS = kpis.LABELS


@login_required
@require_GET
def kpis_page(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    try:
        fact_scope(actor)
    except NotAllowed as exc:
        raise PermissionDenied from exc
    form = ReportForm(request.GET, groupings=KPI_GROUPINGS)
    period, error = _period(request, form)
    grouping = form.grouping("rep")
    now = timezone.now()
    report = kpis.kpi_report(actor, period, grouping=grouping, now=now)  # type: ignore[arg-type]
    export = request.GET.get("export")
    if export in ("csv", "xlsx"):
        return download(export, *tables.kpi_table(report), name=f"kpis-{period.first}")
    previous = kpis.kpi_report(actor, period.previous(), grouping=grouping, now=now)  # type: ignore[arg-type]
    currency, impact = kpis.follow_up_impact(actor, period)
    closed = outcomes.outcome_report(actor, period)
    context = _context(
        request,
        form,
        period,
        report=report,
        previous=previous.total,
        impact=impact,
        impact_currency=currency,
        kpi_labels=KPI_LABELS,
        period_error=error,
        grouping=grouping,
        filter_name={"rep": "rep", "team": "team", "source": "source", "partner": "partner"}[
            grouping
        ],
        charts={
            **kpi_charts(report, previous.total, impact, KPI_LABELS),
            "outcomes": outcome_chart(closed),
        },
        outcomes=closed,
    )
    return render(request, "analytics/kpis.html", context)


def _int(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() and len(value) < 19 else None


@login_required
@require_GET
def drill_page(request: HttpRequest) -> HttpResponse:
    """The leads behind a number: `?step=won&period=…&source=3` (`basis=sales_ready` for the
    KPIs' numbers)."""
    actor = _actor(request)
    form = ReportForm(request.GET, groupings=[])
    period, error = _period(request, form)
    basis = request.GET.get("basis", "received")
    filters = {name: _int(request.GET.get(name)) for name in drill.FILTERS}
    try:
        found = drill.leads_behind(
            actor,
            period,
            step=request.GET.get("step", "received"),
            basis=basis,
            now=timezone.now(),
            page=_int(request.GET.get("page")) or 1,
            **filters,
        )
    except NotAllowed as exc:
        raise PermissionDenied from exc
    except ValidationFailed as exc:
        return render(request, "analytics/drill.html", {"error": exc.detail}, status=422)
    rows = [(lead, *drill.shown(actor, lead)) for lead in found.leads]
    keep = {k: v for k, v in request.GET.items() if k != "page"}
    context = {
        "found": found,
        "rows": rows,
        "period": period,
        "period_error": error,
        "step": request.GET.get("step", "received"),
        "query": urlencode(keep),
    }
    return render(request, "analytics/drill.html", context)


@login_required
def norms_page(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    try:
        fact_scope(actor)
    except NotAllowed as exc:
        raise PermissionDenied from exc
    norms = get_norms()
    may_change = can(actor, Permission.SET_KPI_NORMS)
    initial = {name: getattr(norms, name) for name in FIELDS}
    form = NormsForm(request.POST if request.method == "POST" else None, initial=initial)
    status = 200
    if request.method == "POST":
        if not may_change:
            raise PermissionDenied
        if form.is_valid():
            try:
                update_norms(by=actor, **form.cleaned_data)
            except LeadloopError as exc:
                form.apply_service_error(exc)
            else:
                messages.success(request, _("The norms are saved."))
                return redirect("analytics:norms")
        status = 422
    if not may_change:
        for field in form.fields.values():
            field.disabled = True
    return render(
        request,
        "analytics/norms.html",
        {"form": form, "norms": norms, "may_change": may_change},
        status=status,
    )


@login_required
@require_POST
def weekly_report_choice(request: HttpRequest) -> HttpResponse:
    """Turn the weekly report e-mail on or off for oneself; back to where it was asked."""
    actor = _actor(request)
    try:
        fact_scope(actor)
    except NotAllowed as exc:
        raise PermissionDenied from exc
    on = request.POST.get("weekly_report") == "on"
    weekly.set_weekly_report(request.user, subscribed=on, by=actor)  # type: ignore[arg-type]
    messages.success(
        request,
        _("You get the weekly report every Monday.")
        if on
        else _("You no longer get the weekly report."),
    )
    return redirect("analytics:kpis")
