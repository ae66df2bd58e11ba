"""Small shared pieces of the reports: ratios that may be undefined, money in the reporting
currency with what is in other currencies kept apart, a median from counted values, and the
first-contact bins that the median hours to first contact is read from."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import Count, Q, Sum

from leadloop.analytics.models import CONTACT_BINS, CONTACT_EDGES

CENT = Decimal("0.01")


def ratio(part: int | Decimal | None, whole: int | Decimal | None) -> Decimal | None:
    """`part / whole`, rounded to 4 places; None when `whole` is zero or unknown (never an
    error, never infinity: a report shows it as "—")."""
    if part is None or not whole:
        return None
    return (Decimal(part) / Decimal(whole)).quantize(Decimal("0.0001"), ROUND_HALF_UP)


def money(amount: Decimal | None) -> Decimal | None:
    return None if amount is None else Decimal(amount).quantize(CENT, ROUND_HALF_UP)


def per(amount: Decimal | None, count: int) -> Decimal | None:
    """`amount / count` in cents; None without a count or an amount."""
    if amount is None or not count:
        return None
    return money(Decimal(amount) / count)


@dataclass
class Money:
    """An amount in the reporting currency, and amounts in other currencies that were not
    added to it (Leadloop keeps no exchange rates: currencies are never added together)."""

    amount: Decimal = Decimal("0")
    other: dict[str, Decimal] = field(default_factory=dict)

    def add(self, amount: Decimal | None, currency: str, reporting: str) -> None:
        if amount is None:
            return
        if currency == reporting:
            self.amount += amount
        else:
            self.other[currency] = self.other.get(currency, Decimal("0")) + amount

    def merge(self, other: Money) -> None:
        self.amount += other.amount
        for currency, amount in other.other.items():
            self.other[currency] = self.other.get(currency, Decimal("0")) + amount

    def as_dict(self) -> dict[str, str]:
        """The other currencies' amounts as text, in cents (for JSON and templates)."""
        return {c: str(money(a)) for c, a in sorted(self.other.items())}


def median(counted: Iterable[tuple[int, int]]) -> Decimal | None:
    """The median of values given as (value, how often): the middle value, or the mean of the
    two middle values for an even count. None for no values."""
    pairs = sorted((v, n) for v, n in counted if n)
    total = sum(n for _v, n in pairs)
    if not total:
        return None
    low_rank, high_rank = (total - 1) // 2, total // 2
    low = high = None
    seen = 0
    for value, n in pairs:
        if low is None and low_rank < seen + n:
            low = value
        if high_rank < seen + n:
            high = value
            break
        seen += n
    if low is None or high is None:  # cannot happen: the ranks lie within the total
        return None
    return Decimal(low + high) / 2


def _bin_filter(index: int) -> Q:
    low = CONTACT_EDGES[index - 1] if index else 0
    inside = Q(first_contact_minutes__gte=low)
    if index < len(CONTACT_EDGES):
        inside &= Q(first_contact_minutes__lt=CONTACT_EDGES[index])
    return inside


def bin_aggregates(among: Q | None = None) -> dict[str, Any]:
    """Aggregates over `LeadFact` rows (those matching `among`): per first-contact bin, the leads
    in it (`cN`) and the sum of their minutes (`sN`)."""
    found: dict[str, Any] = {}
    for i in range(CONTACT_BINS):
        inside = _bin_filter(i) if among is None else among & _bin_filter(i)
        found[f"c{i}"] = Count("pk", filter=inside)
        found[f"s{i}"] = Sum("first_contact_minutes", filter=inside, default=0)
    return found


@dataclass
class ContactBinned:
    """First-contact minutes counted in bins (`models.CONTACT_EDGES`), with each bin's sum."""

    counts: list[int] = field(default_factory=lambda: [0] * CONTACT_BINS)
    sums: list[int] = field(default_factory=lambda: [0] * CONTACT_BINS)

    def add(self, row: Mapping[str, Any] | Any) -> None:
        """Add a row of `bin_aggregates` (a dict) or a day total (an object with cN, sN)."""
        get = row.get if isinstance(row, Mapping) else lambda name: getattr(row, name)
        for i in range(CONTACT_BINS):
            self.counts[i] += get(f"c{i}") or 0
            self.sums[i] += get(f"s{i}") or 0

    def merge(self, other: ContactBinned) -> None:
        for i in range(CONTACT_BINS):
            self.counts[i] += other.counts[i]
            self.sums[i] += other.sums[i]

    def median(self) -> Decimal | None:
        """The median minutes: the mean of the two middle values for an even count, where a
        value is taken as the mean of its bin. Exact when each middle value is alone in its
        bin or its bin holds equal values; otherwise within the bin, so whether the median
        meets a norm at a bin edge (1, 2, 4, 8, 12, 24, 48, 72 hours) is always exact."""
        total = sum(self.counts)
        if not total:
            return None
        ranks = ((total - 1) // 2, total // 2)
        values: list[Decimal] = []
        for rank in ranks:
            seen = 0
            for count, summed in zip(self.counts, self.sums, strict=True):
                if rank < seen + count:
                    values.append(Decimal(summed) / count)
                    break
                seen += count
        return (values[0] + values[1]) / 2
