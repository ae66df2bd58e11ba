"""The data of the charts on the report pages, from the same figures as their tables (drawn by
Chart.js from npm, served by the app: static/analytics/charts.js)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _

STEPS = ("received", "valid", "sales_ready", "contacted", "quoted", "won")
PERCENT_KPIS = ("followed_up", "overdue", "quoted", "won")


def _number(value: Decimal | int | None) -> float | None:
    return None if value is None else float(value)


def source_charts(report: Any, previous: dict[str, Any]) -> dict[str, Any]:
    """Revenue and cost per row; the funnel of this period beside the period before."""
    names = {
        "received": _("Received"),
        "valid": _("Valid"),
        "sales_ready": _("Sales-ready"),
        "contacted": _("Contacted"),
        "quoted": _("Quoted"),
        "won": _("Won"),
    }
    labels = [
        f"{row['source']} · {row['campaign']}" if row["campaign"] else row["source"]
        for row in report.rows
    ]
    return {
        "money": {
            "labels": labels,
            "horizontal": True,
            "datasets": [
                {
                    "label": f"{_('Revenue')} ({report.currency})",
                    "data": [_number(r["revenue"]) for r in report.rows],
                },
                {
                    "label": f"{_('Cost')} ({report.currency})",
                    "data": [_number(r["cost"]) for r in report.rows],
                },
            ],
        },
        "funnel": {
            "labels": [str(names[s]) for s in STEPS],
            "datasets": [
                {"label": _("This period"), "data": [report.total[s] for s in STEPS]},
                {"label": _("The period before"), "data": [previous[s] for s in STEPS]},
            ],
        },
    }


def kpi_charts(
    report: Any, previous: dict[str, Any], impact: list[Any], labels: dict[str, Any]
) -> dict[str, Any]:
    """The four shares against their norms (this period, the period before); conversion by how
    soon leads were first contacted."""
    total = report.total["kpis"]
    before = previous["kpis"]
    return {
        "norms": {
            "percent": True,
            "labels": [str(labels[name]) for name in PERCENT_KPIS],
            "datasets": [
                {
                    "label": _("This period"),
                    "data": [_number(total[name]["value"]) for name in PERCENT_KPIS],
                },
                {
                    "label": _("The period before"),
                    "data": [_number(before[name]["value"]) for name in PERCENT_KPIS],
                },
                {
                    "label": _("Norm"),
                    "data": [_number(total[name]["norm"]) for name in PERCENT_KPIS],
                },
            ],
        },
        "impact": {
            "percent": True,
            "labels": [row.label for row in impact],
            "datasets": [
                {"label": _("Conversion"), "data": [_number(row.conversion) for row in impact]}
            ],
        },
    }


def attribution_chart(report: Any, labels: dict[str, Any]) -> dict[str, Any]:
    """Each row's ROI under each model, side by side (rows without a cost have none)."""
    rows = [row for row in report.rows if row["cost"]]
    return {
        "labels": [
            f"{row['source']} · {row['campaign']}" if row["campaign"] else row["source"]
            for row in rows
        ],
        "horizontal": True,
        "datasets": [
            {
                "label": str(label),
                "data": [_number(row["models"][model]["roi"]) for row in rows],
            }
            for model, label in labels.items()
        ],
    }


def outcome_chart(report: Any) -> dict[str, Any]:
    """Leads won and lost per month."""
    return {
        "labels": [m["month"].strftime("%Y-%m") for m in report.months],
        "datasets": [
            {"label": _("Won"), "data": [m["won"] for m in report.months],
             "backgroundColor": "#12b76a"},
            {"label": _("Lost"), "data": [m["lost"] for m in report.months],
             "backgroundColor": "#f04438"},
        ],
    }  # fmt: skip
