"""Small shared pieces of the reports: ratios that may be undefined, money in the reporting
currency with what is in other currencies kept apart, and a median from counted values."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

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
