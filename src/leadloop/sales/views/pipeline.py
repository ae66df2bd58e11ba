"""The pipeline board (/sales/pipeline/): columns per stage with counts and weighted values,
filters that reload the board, and moving a card to another stage; the forecast tab
(/sales/pipeline/forecast/) by expected close month and rep."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from leadloop.accounts.actors import Actor
from leadloop.errors import Conflict, LeadloopError, ValidationFailed
from leadloop.leads import selectors as lead_selectors
from leadloop.leads import services as lead_services
from leadloop.leads.models import LeadStatus
from leadloop.sales.forms.pipeline import MoveForm, PipelineFilterForm
from leadloop.sales.selectors import pipeline as selectors


def _actor(request: HttpRequest) -> Actor:
    actor: Actor = request.user  # type: ignore[assignment]
    selectors.require_pipeline(actor)
    return actor


def _is_htmx(request: HttpRequest) -> bool:
    return (
        request.headers.get("HX-Request") == "true"
        and request.headers.get("HX-History-Restore-Request") != "true"
    )


def _render(
    request: HttpRequest, template: str, context: dict[str, Any], *, status: int = 200
) -> HttpResponse:
    response = render(request, template, context, status=status)
    # The same URL answers a whole page or the board alone, so caches must keep them apart.
    patch_vary_headers(response, ["HX-Request"])
    return response


# Cards a column draws at first; "Show more" fetches the rest of its CARD_CAP. Template work
# was most of the page: 150 cards took 100 ms of a manager's 150 (bench/sales.py).
FIRST_CARDS = 15


def _board(
    request: HttpRequest,
    actor: Actor,
    form: PipelineFilterForm,
    *,
    status: int = 200,
    stage: str = "",
) -> HttpResponse:
    """The page, or to HTMX the board alone; `stage` (one of the board's) draws that column's
    CARD_CAP cards, and to HTMX answers with that column alone ("Show more")."""
    query = form.query()
    wide = stage if stage in selectors.STAGES else ""
    board = selectors.get_board(
        actor,
        form.to_filters(),
        cap=min(FIRST_CARDS, selectors.CARD_CAP),
        caps={wide: selectors.CARD_CAP} if wide else None,
    )
    columns = [
        (column, max(0, min(column.count, selectors.CARD_CAP) - len(column.cards)))
        for column in board.stages
    ]
    context = {
        "form": form,
        "board": board,
        "columns": columns,
        "filter_query": query,
        "query": urlencode(query),
        "stages": [(value, LeadStatus(value).label) for value in selectors.STAGES],
    }
    if wide and _is_htmx(request):
        column, hidden = next(pair for pair in columns if pair[0].status == wide)
        context.update(stage=column, hidden=hidden)
        return _render(request, "sales/_pipeline_column.html", context, status=status)
    template = "sales/_pipeline_board.html" if _is_htmx(request) else "sales/pipeline.html"
    return _render(request, template, context, status=status)


@login_required
@require_GET
def pipeline_page(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    form = PipelineFilterForm(request.GET, actor=actor)
    return _board(request, actor, form, stage=request.GET.get("stage", ""))


@login_required
@require_POST
def pipeline_move(request: HttpRequest, lead_id: int) -> HttpResponse:
    """Move a card: the lead goes through the lifecycle (`transition`); a move it refuses leaves
    the lead where it was and says why. Answers the board again (HTMX) or goes back to it."""
    actor = _actor(request)
    lead = lead_selectors.get_lead_for(actor, lead_id)
    filters = PipelineFilterForm(request.POST, actor=actor)
    form = MoveForm(request.POST)
    status = 200
    try:
        if not form.is_valid():
            raise ValidationFailed(_("Choose a stage of the board."))
        if lead.status not in selectors.STAGES:
            raise Conflict(_("%(lead)s is no longer on the board.") % {"lead": lead})
        moved = lead_services.transition(lead, to=form.cleaned_data["to"], by=actor)
    except LeadloopError as exc:
        messages.error(request, exc.detail)
        status = exc.status
    else:
        messages.success(
            request,
            _("%(lead)s moved to %(stage)s.")
            % {"lead": moved, "stage": LeadStatus(moved.status).label},
        )
    if _is_htmx(request):
        return _board(request, actor, filters, status=status)
    query = filters.query()
    url = reverse("sales:pipeline")
    return redirect(f"{url}?{urlencode(query)}" if query else url)


# Reps a month of the forecast draws at first; "Show all" fetches the month's other rows. The
# whole floor's forecast is 200 reps a month: 2,400 rows took 600 ms of template work.
FIRST_REPS = 15


def _month_key(month: selectors.ForecastMonth) -> str:
    return month.month.strftime("%Y-%m") if month.month else "none"


@login_required
@require_GET
def forecast_page(request: HttpRequest) -> HttpResponse:
    """The forecast; `?month=YYYY-MM` (or `none`) draws that month's every rep, and to HTMX
    answers with that month alone ("Show all")."""
    actor = _actor(request)
    form = PipelineFilterForm(request.GET, actor=actor)
    rows = selectors.get_forecast(actor, form.to_filters())
    expand = request.GET.get("month", "")
    months: list[dict[str, Any]] = []
    for month in selectors.group_forecast(rows):
        key = _month_key(month)
        drawn = month.rows if key == expand else month.rows[:FIRST_REPS]
        months.append(
            {
                "month": month,
                "key": key,
                "name": date_format(month.month, "F Y") if month.month else _("No close date"),
                "rows": drawn,
                "hidden": len(month.rows) - len(drawn),
            }
        )
    query = urlencode(form.query())
    context = {"form": form, "months": months, "query": query}
    shown = next((month for month in months if month["key"] == expand), None)
    if shown is not None and _is_htmx(request):
        return _render(request, "sales/_forecast_month.html", {**context, "m": shown})
    template = "sales/_forecast_table.html" if _is_htmx(request) else "sales/forecast.html"
    return _render(request, template, context)
