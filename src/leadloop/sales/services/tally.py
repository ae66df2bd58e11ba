"""The whole floor's pipeline totals (models.PipelineTally), which database triggers keep in
step with every change to a lead or quote: fold the rows the triggers add, compare the totals
with the leads, and fill them again from the leads.

A key's totals are (entries, priced, weighted, best): leads or current quotes, how many of them
have a weighted value, Σ whole cents × probability, and Σ whole cents (forecast only). The
board's and the forecast's own live queries (selectors.pipeline) are the definition the totals
are checked against.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import Count, F, Sum

from leadloop.leads.models import Lead
from leadloop.leads.models.lead import being_worked
from leadloop.sales.models import PipelineTally
from leadloop.sales.selectors.pipeline import YearMonth, cents_times

KEYS = ("kind", "status", "source_id", "owner_id", "month", "currency")
Key = tuple[str, str | None, int | None, int | None, str | None, str]
Sums = tuple[int, int, int | None, int | None]


def _sums(entries: int, priced: int, weighted: int | None, best: int | None) -> Sums:
    """One key's totals, written the same way whichever way they were added up: a weighted
    value only where something is priced."""
    return (
        int(entries),
        int(priced),
        int(weighted) if priced and weighted is not None else None,
        int(best) if best is not None else None,
    )


def totals() -> dict[Key, Sums]:
    """The tally's totals per key; keys with nothing left in them are not there."""
    rows = (
        PipelineTally.objects.order_by()
        .values_list(*KEYS)
        .annotate(
            n=Sum("entries"), priced=Sum("priced"), weighted=Sum("weighted"), best=Sum("best")
        )
    )
    return {row[:6]: _sums(*row[6:]) for row in rows if row[6]}  # type: ignore[misc]


def live() -> dict[Key, Sums]:
    """The same totals computed from the leads and quotes themselves."""
    board = (
        Lead.objects.filter(being_worked())
        .order_by()
        .values_list("status", "source_id", "currency")
        .annotate(
            n=Count("*"),
            priced=Count(cents_times("potential_revenue", "probability")),
            weighted=Sum(cents_times("potential_revenue", "probability")),
        )
    )
    forecast = (
        Lead.objects.filter(being_worked(), quotes__is_current=True)
        .order_by()
        .values_list(
            F("assigned_to_id"), YearMonth("quotes__expected_close_on"), F("quotes__currency")
        )
        .annotate(
            n=Count("*"),
            weighted=Sum(cents_times("quotes__amount", "quotes__probability")),
            best=Sum(cents_times("quotes__amount")),
        )
    )
    out: dict[Key, Sums] = {}
    for status, source, currency, entries, priced, weighted in board:
        out[("board", status, source, None, None, currency)] = _sums(
            entries, priced, weighted, None
        )
    for owner, month, currency, entries, weighted, best in forecast:
        out[("forecast", None, None, owner, month, currency)] = _sums(
            entries, entries, weighted, best
        )
    return out


@dataclass(frozen=True)
class Difference:
    key: Key
    tally: Sums | None
    leads: Sums | None

    def __str__(self) -> str:
        kind, status, source, owner, month, currency = self.key
        where = (
            f"board {status} source {source} {currency}"
            if kind == "board"
            else f"forecast {month or 'no month'} owner {owner} {currency}"
        )
        return f"{where}: totals {self.tally}, leads {self.leads}"


def verify() -> list[Difference]:
    """Where the totals differ from the leads (nothing, when the triggers did their work)."""
    with transaction.atomic():
        kept, actual = totals(), live()
    return [
        Difference(key, kept.get(key), actual.get(key))
        for key in sorted(set(kept) | set(actual), key=repr)
        if kept.get(key) != actual.get(key)
    ]


def rebuild() -> int:
    """The totals filled again from the leads (after a restore, or if `verify` finds a
    difference); writers wait meanwhile. Returns the number of keys."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("LOCK TABLE leads_lead, sales_quote IN SHARE MODE")
        PipelineTally.objects.all().delete()
        rows = [_row(key, sums) for key, sums in live().items()]
        PipelineTally.objects.bulk_create(rows, batch_size=1000)
    return len(rows)


def fold() -> int:
    """The rows the triggers added, summed into one row a key (keys whose entries add up to
    nothing are dropped). Deleting and returning the rows in one statement folds exactly the
    rows it removes, whatever writers commit meanwhile. Returns the rows folded."""
    # Names from the model and KEYS, nothing from outside.
    returning = ", ".join((*KEYS, "entries", "priced", "weighted", "best"))
    table = PipelineTally._meta.db_table
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {table} RETURNING {returning}")  # noqa: S608
            removed = cursor.fetchall()
        added: dict[Key, list[int]] = {}
        for row in removed:
            into = added.setdefault(row[:6], [0, 0, 0, 0])
            for index, value in enumerate(row[6:]):
                into[index] += int(value or 0)
        PipelineTally.objects.bulk_create(
            [
                _row(key, _sums(e, p, w, b if key[0] == "forecast" else None))
                for key, (e, p, w, b) in added.items()
                if e
            ],
            batch_size=1000,
        )
    return len(removed)


def _row(key: Key, sums: Sums) -> PipelineTally:
    kind, status, source, owner, month, currency = key
    entries, priced, weighted, best = sums
    return PipelineTally(
        kind=kind,
        status=status,
        source_id=source,
        owner_id=owner,
        month=month,
        currency=currency,
        entries=entries,
        priced=priced,
        weighted=weighted,
        best=best,
    )
