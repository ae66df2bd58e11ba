"""The pipeline board and the forecast: the viewer's open leads per stage with their weighted
value, and the current quotes' amounts by expected close month and rep.

Money is summed per currency and never across currencies (nothing is converted). Sums are made
by the database (GROUP BY stage and currency, or month, rep and currency), exactly: an amount is
read as whole cents times the probability, so SQLite's floating point never rounds a sum, and the
result is rounded to the cent once, after summing. For those who see every lead, the whole
floor's sums come from running totals the database keeps (models.PipelineTally, selectors.tally)
in the same whole units.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db import connection
from django.db.models import (
    BigIntegerField,
    CharField,
    Count,
    Exists,
    Expression,
    F,
    Func,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
)
from django.db.models.functions import Cast, Round
from django.utils.translation import gettext as _

from leadloop.accounts.actors import Actor
from leadloop.accounts.models import Team, User
from leadloop.accounts.permissions import Permission, can, require
from leadloop.accounts.selectors import (
    can_see_all_leads,
    lead_visibility_within,
    list_assignable_teams,
    list_assignable_users,
)
from leadloop.core.expressions import indexed
from leadloop.errors import ValidationFailed
from leadloop.leads import selectors as lead_selectors
from leadloop.leads.models import OWNED_STATUSES, Lead, LeadStatus, Source
from leadloop.sales.models import Quote
from leadloop.sales.selectors import tally

# The board's columns, in the order a deal moves through them: the statuses of the leads in the
# board's indexes (lead_board, lead_board_team), in the same order.
STAGES: tuple[str, ...] = tuple(str(status) for status in OWNED_STATUSES)
# Cards drawn per column; the column says how many more there are (its count is exact).
CARD_CAP = 50
MAX_CARD_CAP = 200
CENT = Decimal("0.01")
_MONTH = re.compile(r"^\s*(\d{4})-(\d{1,2})\s*$")


@dataclass(frozen=True)
class PipelineFilters:
    """What the board and the forecast may be narrowed to; `close_month` is the first day of
    the month the current quote is expected to close in."""

    team: int | None = None
    owner: int | None = None
    source: int | None = None
    close_month: dt.date | None = None


@dataclass(frozen=True)
class Amount:
    """A sum of money in one currency."""

    currency: str
    value: Decimal


@dataclass(frozen=True)
class Stage:
    """One column of the board: every visible open lead in the stage is counted and weighted,
    the first `len(cards)` by priority are drawn."""

    status: str
    label: str
    count: int
    weighted: tuple[Amount, ...]
    cards: tuple[Lead, ...]

    @property
    def more(self) -> int:
        return self.count - len(self.cards)


@dataclass(frozen=True)
class Board:
    stages: tuple[Stage, ...]
    weighted: tuple[Amount, ...] = field(default=())

    @property
    def count(self) -> int:
        return sum(stage.count for stage in self.stages)


@dataclass(frozen=True)
class ForecastRow:
    """The current quotes of one rep's open leads expected to close in one month, in one
    currency: `weighted` is Σ amount × probability, `best_case` Σ amount."""

    month: dt.date | None
    rep_id: int | None
    rep: str
    currency: str
    weighted: Decimal
    best_case: Decimal
    quotes: int


@dataclass(frozen=True)
class ForecastMonth:
    """One month of the forecast table: its rows (one per rep and currency) and its totals."""

    month: dt.date | None
    rows: tuple[ForecastRow, ...]
    weighted: tuple[Amount, ...]
    best_case: tuple[Amount, ...]


class YearMonth(Func):
    """`YYYY-MM` of a date, with each database's own function: Django's TruncMonth calls a
    Python function per row on SQLite, which at a few hundred thousand quotes is the whole cost
    of the forecast."""

    output_field = CharField()

    # The template is %-formatted once here and the SQL once more by the database layer,
    # so a literal % is written four times.
    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        template = "strftime('%%%%Y-%%%%m', %(expressions)s)"
        return self.as_sql(compiler, connection, template=template)

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sql(compiler, connection, template="to_char(%(expressions)s, 'YYYY-MM')")


def can_see_pipeline(actor: Actor) -> bool:
    """The board is for the sales team (reps, managers, admins) and for marketing, who see
    every lead; partner users and source keys have none."""
    return can(actor, Permission.FOLLOW_UP_LEADS) or can_see_all_leads(actor)


def require_pipeline(actor: Actor) -> None:
    """NotAllowed unless `actor` may see the board and the forecast."""
    if not can_see_pipeline(actor):
        require(actor, Permission.FOLLOW_UP_LEADS)


def parse_month(raw: str) -> dt.date | None:
    """`2026-05` as the first day of that month; None for an empty value. ValidationFailed
    for anything else."""
    if not raw or not raw.strip():
        return None
    match = _MONTH.match(raw)
    month = int(match.group(2)) if match else 0
    if match is None or not 1 <= month <= 12 or not 1900 <= int(match.group(1)) <= 9999:
        raise ValidationFailed(
            _("Give the month as year and month, like 2026-05."),
            errors={"close_month": [_("Not a month.")]},
        )
    return dt.date(int(match.group(1)), month, 1)


def _next_month(day: dt.date) -> dt.date:
    return dt.date(day.year + day.month // 12, day.month % 12 + 1, 1)


def _open_leads(actor: Actor, filters: PipelineFilters) -> QuerySet[Lead]:
    """The visible, unmerged leads in the board's stages, filtered by team, rep and source
    (not by close month: see `_closing`)."""
    # The board's indexes' own condition, word for word (core.expressions).
    subset = indexed(Lead, "lead_board")
    if filters.team is not None:
        subset &= Q(team_id=filters.team)
    if filters.owner is not None:
        subset &= Q(assigned_to_id=filters.owner)
    if filters.source is not None:
        subset &= Q(source_id=filters.source)
    # Each of the visibility's alternatives carries the whole subset, so SQLite plans each with
    # an index of its own (lead_visibility_within).
    return Lead.objects.filter(lead_visibility_within(actor, subset))


def _closing(leads: QuerySet[Lead], month: dt.date | None, *, from_quotes: bool) -> QuerySet[Lead]:
    """The leads whose current quote should close in `month` (all of them without one); a lead
    without a quote, or whose quote has no date, closes in no month.

    `from_quotes` starts from that month's quotes (index quote_current_close), for sums over
    the whole floor; otherwise each lead looks its quote up (quote_one_current), for a rep's or
    a team's leads and for cards read in priority order until the column is full. At a million
    leads (bench/pipeline.py, on a loaded machine) the other way round cost a rep's board 540 ms
    instead of 36, and the floor's sums 460 ms instead of 140.
    """
    if month is None:
        return leads
    closing = Quote.objects.filter(
        is_current=True, expected_close_on__gte=month, expected_close_on__lt=_next_month(month)
    )
    if from_quotes:
        return leads.filter(pk__in=closing.values("lead_id"))
    return leads.filter(Exists(closing.filter(lead_id=OuterRef("pk"))))


def cents_times(amount: str, probability: str | None = None) -> Expression:
    """Whole cents of `amount` (times `probability`), an exact integer on both databases."""
    cents: Expression = Cast(Round(F(amount) * 100), BigIntegerField())
    if probability is None:
        return cents
    return cents * F(probability)  # type: ignore[no-any-return]


def _money(units: Any, *, scale: int) -> Decimal:
    """A database sum of `scale`ths of a unit as a Decimal rounded to the cent."""
    return (Decimal(int(units)) / scale).quantize(CENT, rounding=ROUND_HALF_UP)


def _by_currency(pairs: Iterable[tuple[str, Decimal]]) -> tuple[Amount, ...]:
    """Amounts added up per currency, the largest first (then by code)."""
    totals: dict[str, Decimal] = {}
    for currency, value in pairs:
        totals[currency] = totals.get(currency, Decimal(0)) + value
    return tuple(
        Amount(currency, value)
        for currency, value in sorted(totals.items(), key=lambda item: (-item[1], item[0]))
    )


# What the board's sums group by. On SQLite priority too, which adds nothing to the sums (added
# up in get_board): the board's indexes are ordered status, priority, currency, so SQLite groups
# as it reads them instead of sorting every entry (the whole floor's 300,000 took get_board from
# 340 ms to 145 at a million leads, before the whole floor read the running totals). PostgreSQL
# groups by hashing, where 6,500 groups instead of 9 only cost the transfer.
_BOARD_GROUPS = {False: ("status", "currency"), True: ("status", "priority", "currency")}


def get_board(
    actor: Actor,
    filters: PipelineFilters,
    *,
    cap: int = CARD_CAP,
    caps: Mapping[str, int] | None = None,
) -> Board:
    """The pipeline board `actor` sees: per stage the count of their visible open leads, the
    weighted value (potential revenue × probability) per currency, and the first `cap` cards
    by priority (`caps` gives some stages another number). NotAllowed for partner users and
    source keys."""
    require_pipeline(actor)
    limits = {status: max(0, min((caps or {}).get(status, cap), MAX_CARD_CAP)) for status in STAGES}
    leads = _open_leads(actor, filters)
    whole_floor = can_see_all_leads(actor) and filters.team is None and filters.owner is None
    sums: Iterable[Any]
    if whole_floor and filters.close_month is None:
        # The whole floor's running totals, kept by the database (models.PipelineTally).
        sums = tally.board_rows(filters.source)
    else:
        sums = (
            _closing(leads, filters.close_month, from_quotes=whole_floor)
            .order_by()
            .values(*_BOARD_GROUPS[connection.vendor == "sqlite"])
            .annotate(
                leads=Count("*"),
                weighted=Sum(cents_times("potential_revenue", "probability")),
            )
        )
    counts: dict[str, int] = {}
    units: dict[tuple[str, str], int] = {}
    for row in sums:
        counts[row["status"]] = counts.get(row["status"], 0) + row["leads"]
        if row["weighted"] is not None:
            key = (row["status"], row["currency"])
            units[key] = units.get(key, 0) + int(row["weighted"])
    # Exact integers summed first, rounded to the cent once.
    weighted: dict[str, list[tuple[str, Decimal]]] = {stage: [] for stage in STAGES}
    for (status, currency), total in units.items():
        weighted[status].append((currency, _money(total, scale=10_000)))
    cards = _closing(leads, filters.close_month, from_quotes=False)
    stages = tuple(
        Stage(
            status=status,
            label=str(LeadStatus(status).label),
            count=counts.get(status, 0),
            weighted=_by_currency(weighted[status]),
            cards=tuple(_cards(cards, status, limits[status])) if counts.get(status) else (),
        )
        for status in STAGES
    )
    return Board(
        stages=stages,
        weighted=_by_currency(pair for status in STAGES for pair in weighted[status]),
    )


def _cards(leads: QuerySet[Lead], status: str, cap: int) -> list[Lead]:
    """The stage's first `cap` leads by priority, with their owner and expected close date."""
    if cap == 0:
        return []
    # The first ids come from the board's index alone; only those rows are read whole.
    first = leads.filter(status=status).order_by("-priority", "id").values("pk")[:cap]
    close = (
        Quote.objects.filter(lead_id=OuterRef("pk"), is_current=True)
        .order_by()
        .values("expected_close_on")[:1]
    )
    return list(
        Lead.objects.filter(pk__in=first)
        .select_related("assigned_to", "team")
        .annotate(close_on=Subquery(close))
        .order_by("-priority", "id")
    )


def get_forecast(actor: Actor, filters: PipelineFilters) -> list[ForecastRow]:
    """The current quotes of `actor`'s visible open leads by expected close month, rep and
    currency: weighted (amount × probability) and best case (amount). Quotes without a close
    date come last (month None). NotAllowed for partner users and source keys."""
    require_pipeline(actor)
    # From the visible leads to their current quote (one each, index quote_one_current): a
    # rep's forecast reads their leads' quotes, not every quote to find theirs.
    sums: Iterable[Any]
    whole_floor = filters.team is None and filters.owner is None and filters.source is None
    if whole_floor and can_see_all_leads(actor):
        # The whole floor's running totals, kept by the database (models.PipelineTally).
        sums = tally.forecast_rows()
    else:
        sums = (
            _open_leads(actor, PipelineFilters(filters.team, filters.owner, filters.source))
            .filter(quotes__is_current=True)
            .order_by()
            .values(
                rep_id=F("assigned_to_id"),
                quote_currency=F("quotes__currency"),
                month=YearMonth("quotes__expected_close_on"),
            )
            .annotate(
                weighted_units=Sum(cents_times("quotes__amount", "quotes__probability")),
                best_units=Sum(cents_times("quotes__amount")),
                quotes_count=Count("quotes__id"),
            )
        )
    rows = list(sums)
    names = {
        user.pk: user.display_name
        for user in User.objects.filter(pk__in={row["rep_id"] for row in rows} - {None})
    }
    forecast = [
        ForecastRow(
            month=dt.date(int(row["month"][:4]), int(row["month"][5:7]), 1)
            if row["month"]
            else None,
            rep_id=row["rep_id"],
            rep=names.get(row["rep_id"], "") if row["rep_id"] else "",
            currency=row["quote_currency"],
            weighted=_money(row["weighted_units"], scale=10_000),
            best_case=_money(row["best_units"], scale=100),
            quotes=row["quotes_count"],
        )
        for row in rows
    ]
    return sorted(
        forecast,
        key=lambda r: (r.month is None, r.month or dt.date.min, r.rep.lower(), r.currency),
    )


def group_forecast(rows: Iterable[ForecastRow]) -> list[ForecastMonth]:
    """The forecast's rows grouped by month (in order), each month with its totals per
    currency."""
    months: dict[dt.date | None, list[ForecastRow]] = {}
    for row in rows:
        months.setdefault(row.month, []).append(row)
    return [
        ForecastMonth(
            month=month,
            rows=tuple(members),
            weighted=_by_currency((r.currency, r.weighted) for r in members),
            best_case=_by_currency((r.currency, r.best_case) for r in members),
        )
        for month, members in months.items()
    ]


def list_filter_teams(actor: Actor) -> list[Team]:
    """Teams the board's team filter offers: a rep their own, a manager the teams they run,
    marketing and admins every team."""
    return list(list_assignable_teams(actor).order_by("name"))


def list_filter_reps(actor: Actor) -> list[User]:
    """People the board's rep filter offers: a rep themselves, a manager their teams' people,
    marketing and admins every active rep and manager."""
    return list(list_assignable_users(actor).order_by("first_name", "last_name", "pk"))


def list_filter_sources(actor: Actor) -> list[Source]:
    """Sources the board's source filter offers (staff see every source)."""
    return list(lead_selectors.list_sources(actor))
