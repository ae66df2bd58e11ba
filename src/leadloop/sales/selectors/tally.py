"""The whole floor's pipeline totals as the board and the forecast read them (the rows of
models.PipelineTally added up per key; services.tally keeps and checks them)."""

from __future__ import annotations

from typing import Any

from django.db.models import Sum

from leadloop.sales.models import PipelineTally


def board_rows(source: int | None = None) -> list[dict[str, Any]]:
    """Per status and currency: `leads` on the board and `weighted` (Σ whole cents ×
    probability; None where no lead is priced), of every source or of one."""
    rows = PipelineTally.objects.filter(kind="board")
    if source is not None:
        rows = rows.filter(source_id=source)
    return [
        {
            "status": row["status"],
            "currency": row["currency"],
            "leads": row["leads"],
            "weighted": row["weighted"] if row["priced"] else None,
        }
        for row in rows.order_by()
        .values("status", "currency")
        .annotate(leads=Sum("entries"), priced=Sum("priced"), weighted=Sum("weighted"))
        if row["leads"]
    ]


def forecast_rows() -> list[dict[str, Any]]:
    """Per expected close month (`YYYY-MM` or None), owner and currency, as get_forecast's
    query names them: the board's leads' current quotes, Σ whole cents × probability and Σ
    whole cents."""
    rows = (
        PipelineTally.objects.filter(kind="forecast")
        .order_by()
        .values("month", "owner_id", "currency")
        .annotate(quotes=Sum("entries"), weighted=Sum("weighted"), best=Sum("best"))
    )
    return [
        {
            "month": row["month"],
            "rep_id": row["owner_id"],
            "quote_currency": row["currency"],
            "weighted_units": row["weighted"],
            "best_units": row["best"],
            "quotes_count": row["quotes"],
        }
        for row in rows
        if row["quotes"]
    ]
