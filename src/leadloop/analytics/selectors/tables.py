"""The reports as flat tables (a header row, then rows of plain values): what the CSV and XLSX
exports, the CLI's --csv and the pages' tables share, so a figure reads the same everywhere."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _

from leadloop.analytics.selectors.attribution import MODELS, AttributionReport
from leadloop.analytics.selectors.kpis import ImpactRow, KpiReport
from leadloop.analytics.selectors.outcomes import OutcomeReport
from leadloop.analytics.selectors.sources import SourceReport

SOURCE_COLUMNS = (
    "received",
    "rejected",
    "duplicates",
    "valid",
    "sales_ready",
    "contacted",
    "quoted",
    "won",
    "valid_rate",
    "sales_ready_rate",
    "contacted_rate",
    "quoted_rate",
    "won_rate",
    "lead_to_order",
    "median_hours_to_contact",
    "revenue",
    "cost",
    "cost_per_lead",
    "cost_per_sales_ready",
    "cost_per_order",
    "roi",
)
KPI_NAMES = ("followed_up", "overdue", "quoted", "won", "order_value", "hours_to_contact")


def _other(amounts: dict[str, str]) -> str:
    return " ".join(f"{currency} {amount}" for currency, amount in amounts.items())


def source_table(report: SourceReport) -> tuple[list[str], list[list[Any]]]:
    headers = ["source", "campaign", *SOURCE_COLUMNS, "revenue_other", "cost_other"]
    rows = [
        [
            r["source"],
            r["campaign"],
            *(r[c] for c in SOURCE_COLUMNS),
            _other(r["revenue_other"]),
            _other(r["cost_other"]),
        ]
        for r in [*report.rows, {**report.total, "source": _("Total")}]
    ]
    if report.grouping == "source":
        headers.pop(1)
        for row in rows:
            row.pop(1)
    return headers, rows


def kpi_table(report: KpiReport) -> tuple[list[str], list[list[Any]]]:
    headers = [
        report.grouping,
        "handed",
        "followed_up_count",
        "overdue_count",
        "quoted_count",
        "won_count",
        "revenue",
    ]
    for name in KPI_NAMES:
        headers += [name, f"{name}_norm", f"{name}_meets"]
    rows = []
    for r in [*report.rows, report.total]:
        row: list[Any] = [
            r["name"],
            r["handed"],
            r["followed_up"],
            r["overdue"],
            r["quoted"],
            r["won"],
            r["revenue"],
        ]
        for name in KPI_NAMES:
            kpi = r["kpis"][name]
            row += [kpi["value"], kpi["norm"], kpi["meets"]]
        rows.append(row)
    return headers, rows


def impact_table(rows: list[ImpactRow]) -> tuple[list[str], list[list[Any]]]:
    headers = [
        "first_contact",
        "leads",
        "quoted",
        "won",
        "conversion",
        "revenue",
        "revenue_per_lead",
    ]
    return headers, [
        [r.bucket, r.leads, r.quoted, r.won, r.conversion, r.revenue, r.revenue_per_lead]
        for r in rows
    ]


def attribution_table(report: AttributionReport) -> tuple[list[str], list[list[Any]]]:
    headers = ["source", "campaign", "cost"]
    for model in MODELS:
        headers += [f"{model}_revenue", f"{model}_roi"]
    rows = []
    for r in [*report.rows, report.total]:
        row: list[Any] = [r["source"], r["campaign"], r["cost"]]
        for model in MODELS:
            row += [r["models"][model]["revenue"], r["models"][model]["roi"]]
        rows.append(row)
    if report.grouping == "source":
        headers.pop(1)
        for row in rows:
            row.pop(1)
    return headers, rows


def outcome_table(report: OutcomeReport) -> tuple[list[str], list[list[Any]]]:
    headers = ["month", "won", "lost", "win_rate", "revenue", "revenue_other"]
    rows = [
        [str(m["month"])[:7], m["won"], m["lost"], m["win_rate"], m["revenue"],
         _other(m["revenue_other"])]
        for m in report.months
    ]  # fmt: skip
    rows.append(
        [_("Total"), report.won, report.lost, report.win_rate, report.revenue,
         _other(report.revenue_other)]
    )  # fmt: skip
    return headers, rows


def plain(value: Any) -> Any:
    """A cell for CSV: None as empty, decimals as text, booleans as yes/no."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Decimal):
        return str(value)
    return value
