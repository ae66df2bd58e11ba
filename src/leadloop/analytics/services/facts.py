"""Each lead's way through the funnel, worked out from the lead, its timeline, its quotes and its
first-contact clock, and kept in `LeadFact` for the reports.

`compute` is the one definition of a lead's milestones (docs/analytics.md). `refresh` keeps the
rows in step with the leads: every minute the worker reads the leads changed since the last run
(the `lead_updated` index, as a keyset) and computes them again. It never moves its mark past
`now - OVERLAP`, so a change whose transaction commits late (its `updated_at` is written before
the commit) is read on the next run; computing a lead twice gives the same row. `verify`
compares every row with `compute`; `rebuild` writes them all again. A row that changes marks
its days for the day totals (`services.totals`), which each run settles at its end.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from leadloop.analytics.models import Credit, FactMark, LeadFact
from leadloop.analytics.services import attribution, totals
from leadloop.leads.models import LeadStatus as S
from leadloop.leads.selectors import history as lead_history
from leadloop.sales.selectors import history as sales_history

MARK = "leads"
# How far behind `now` the mark stays: a change is read again until it is this old.
OVERLAP = dt.timedelta(minutes=2)
CHUNK = 1000
# A refresh stops taking new chunks after this long; the next run goes on from its mark.
RUN_BUDGET_SECONDS = 40.0

# The statuses that mean a lead reached a step (a later step implies the earlier ones).
READY = frozenset({S.SALES_READY, S.ASSIGNED, S.CONTACTED, S.QUOTED, S.WON})
CONTACTED = frozenset({S.CONTACTED, S.QUOTED, S.WON})
QUOTED = frozenset({S.QUOTED, S.WON})
COMPARED = (
    "source_id",
    "campaign_id",
    "team_id",
    "assigned_to_id",
    "owner_partner_id",
    "received_at",
    "is_duplicate",
    "sales_ready_at",
    "contacted_at",
    "quoted_at",
    "won_at",
    "lost_at",
    "contact_due_at",
    "first_contact_minutes",
    "order_value",
    "currency",
)


def _earliest(*values: dt.datetime | None) -> dt.datetime | None:
    present = [v for v in values if v is not None]
    return min(present) if present else None


def compute(lead_ids: Sequence[int], *, at: dt.datetime | None = None) -> list[LeadFact]:
    """The fact rows of these leads, from what the database holds now (unsaved)."""
    at = at or timezone.now()
    rows = lead_history.lead_rows(lead_ids)
    ids = [row["pk"] for row in rows]
    entered: dict[int, dict[str, dt.datetime]] = {}
    last_entered: dict[int, dict[str, dt.datetime]] = {}
    for lead_id, status, when in lead_history.status_entries(ids):
        entered.setdefault(lead_id, {}).setdefault(status, when)
        last_entered.setdefault(lead_id, {})[status] = when
    quotes = sales_history.first_quotes_sent(ids)
    clocks = sales_history.contact_clocks(ids)
    return [
        _fact(row, entered.get(row["pk"], {}), last_entered.get(row["pk"], {}), quotes, clocks, at)
        for row in rows
    ]


def _fact(
    row: dict[str, Any],
    first: dict[str, dt.datetime],
    last: dict[str, dt.datetime],
    quotes: dict[int, dt.datetime],
    clocks: dict[int, sales_history.ClockView],
    at: dt.datetime,
) -> LeadFact:
    status = row["status"]
    # The lead's current status counts as entered when it changed to it, for leads whose
    # timeline does not say (loaded in bulk, or from before the timeline recorded moves).
    since = row["status_changed_at"] or row["created_at"]
    first.setdefault(status, since)
    last.setdefault(status, since)
    won_at = last[S.WON] if status == S.WON else None
    lost_at = last[S.LOST] if status == S.LOST else None
    clock = clocks.get(row["pk"])
    quoted_at = _earliest(quotes.get(row["pk"]), *(first.get(s) for s in QUOTED), won_at)
    contacted_at = _earliest(
        clock.contacted_at if clock else None,
        *(first.get(s) for s in CONTACTED),
        quoted_at,
    )
    ready_at = _earliest(*(first.get(s) for s in READY), contacted_at)
    minutes = None
    if contacted_at is not None and ready_at is not None:
        minutes = int((contacted_at - ready_at).total_seconds() // 60)
    return LeadFact(
        lead_id=row["pk"],
        source_id=row["source_id"],
        campaign_id=row["campaign_id"],
        team_id=row["team_id"],
        assigned_to_id=row["assigned_to_id"],
        owner_partner_id=row["owner_partner_id"],
        received_at=row["created_at"],
        is_duplicate=row["merged_into_id"] is not None,
        sales_ready_at=ready_at,
        contacted_at=contacted_at,
        quoted_at=quoted_at,
        won_at=won_at,
        lost_at=lost_at,
        contact_due_at=clock.due_at if clock else None,
        first_contact_minutes=minutes,
        order_value=row["order_value"] if won_at is not None else None,
        currency=row["currency"] or "EUR",
        refreshed_at=at,
    )


@transaction.atomic
def write(facts: Iterable[LeadFact]) -> int:
    """Insert or replace these rows, and their leads' attribution credits; returns how many.
    The days of every row that changed (as it was and as it is) are marked for the totals."""
    rows = list(facts)
    if rows:
        ids = [row.lead_id for row in rows]
        before = {f.lead_id: f for f in LeadFact.objects.filter(lead_id__in=ids)}
        dirty: set[tuple[str, dt.date]] = set()
        for row in rows:
            old = before.get(row.lead_id)
            if old is None or _compare(old, row):
                dirty |= totals.days_of(row) | (totals.days_of(old) if old else set())
        totals.mark_dirty(dirty)
        LeadFact.objects.bulk_create(
            rows,
            update_conflicts=True,
            unique_fields=["lead"],
            update_fields=[*COMPARED, "refreshed_at"],
            batch_size=500,
        )
        credited = attribution.write([row.lead_id for row in rows], rows)
        totals.mark_dirty(("credited", totals.local_day(at)) for at in credited)
    return len(rows)


def refresh_leads(lead_ids: Sequence[int]) -> int:
    """Compute these leads' rows again now, and their days' totals (after a change a caller
    wants seen at once)."""
    done = write(compute(lead_ids))
    totals.settle()
    return done


@dataclass(frozen=True)
class RefreshResult:
    leads: int
    upto: dt.datetime | None
    caught_up: bool


def refresh(*, now: dt.datetime | None = None, budget: float = RUN_BUDGET_SECONDS) -> RefreshResult:
    """Compute the rows of the leads changed since the mark, a chunk at a time, and move the
    mark (at most to `now - OVERLAP`). The first run computes every lead."""
    now = now or timezone.now()
    mark = FactMark.objects.filter(name=MARK).first()
    after: tuple[dt.datetime, int] | None = (mark.upto, mark.upto_id) if mark else None
    started = time.monotonic()
    done = 0
    caught_up = False
    while True:
        keys = lead_history.changed_since(after, limit=CHUNK)
        if keys:
            done += write(compute([pk for _at, pk in keys], at=now))
            after = keys[-1]
        if len(keys) < CHUNK:
            caught_up = True
            break
        if time.monotonic() - started > budget:
            break
    upto = None
    if after is not None:
        settled = now - OVERLAP
        # Up to the last lead computed (a run stopped inside a bulk change goes on after it),
        # but never past now - OVERLAP, so a change whose commit came late is read again.
        mark_key = after if after[0] <= settled else (settled, 0)
        if mark is None or mark_key > (mark.upto, mark.upto_id):
            FactMark.objects.update_or_create(
                name=MARK,
                defaults={"upto": mark_key[0], "upto_id": mark_key[1], "refreshed_at": now},
            )
            upto = mark_key[0]
        else:
            FactMark.objects.filter(name=MARK).update(refreshed_at=now)
            upto = mark.upto
    totals.settle()
    return RefreshResult(leads=done, upto=upto, caught_up=caught_up)


def lag(*, now: dt.datetime | None = None) -> dt.timedelta | None:
    """How far the facts are behind the leads: from the last run to now (None: never run)."""
    mark = FactMark.objects.filter(name=MARK).first()
    return None if mark is None else (now or timezone.now()) - mark.refreshed_at


@transaction.atomic
def rebuild(*, now: dt.datetime | None = None) -> int:
    """Every lead's row computed again, rows of leads that are gone removed, the mark reset to
    now (minus the overlap). Returns the rows written."""
    now = now or timezone.now()
    LeadFact.objects.all().delete()
    Credit.objects.all().delete()
    done = 0
    after = 0
    while ids := lead_history.all_lead_ids(after=after, limit=CHUNK):
        done += write(compute(ids, at=now))
        after = ids[-1]
    FactMark.objects.update_or_create(
        name=MARK, defaults={"upto": now - OVERLAP, "upto_id": 0, "refreshed_at": now}
    )
    totals.rebuild_totals()
    with connection.cursor() as cursor:
        # Every row is new: the planner's statistics of the facts' indexes, for the reports.
        cursor.execute("ANALYZE analytics_leadfact")
    return done


@dataclass(frozen=True)
class Difference:
    lead_id: int
    field: str
    stored: Any
    computed: Any

    def __str__(self) -> str:
        return f"lead {self.lead_id}: {self.field} is {self.stored!r}, should be {self.computed!r}"


def verify(*, limit: int = 1000) -> list[Difference]:
    """Every lead's stored row against `compute`, up to `limit` differences. Leads changed since
    the mark are left out: the worker has not read them yet. (A row cannot outlive its lead:
    it is deleted with it.)"""
    now = timezone.now()
    mark = FactMark.objects.filter(name=MARK).first()
    differences: list[Difference] = []
    after = 0
    while ids := lead_history.all_lead_ids(after=after, limit=CHUNK):
        after = ids[-1]
        pending = lead_history.changed_among(ids, since=mark.upto) if mark else set(ids)
        stored = {fact.lead_id: fact for fact in LeadFact.objects.filter(lead_id__in=ids)}
        computed = [fact for fact in compute(ids, at=now) if fact.lead_id not in pending]
        for fact in computed:
            differences.extend(_compare(stored.get(fact.lead_id), fact))
        differences.extend(_compare_credits(computed))
        if len(differences) >= limit:
            break
    return differences[:limit]


def _compare_credits(computed: list[LeadFact]) -> list[Difference]:
    """The attribution credits of these leads against their computation."""
    ids = [fact.lead_id for fact in computed]
    should = {attribution.key(c) for c in attribution.compute(computed)}
    stored = {attribution.key(c) for c in Credit.objects.filter(lead_id__in=ids)}
    return [
        Difference(int(str(row[0])), "credit", "absent" if row in should else "present", str(row))
        for row in sorted(should ^ stored, key=str)
    ]


def _compare(stored: LeadFact | None, fact: LeadFact) -> list[Difference]:
    if stored is None:
        return [Difference(fact.lead_id, "row", "absent", "present")]
    return [
        Difference(fact.lead_id, name, getattr(stored, name), getattr(fact, name))
        for name in COMPARED
        if getattr(stored, name) != getattr(fact, name)
    ]
