"""Report periods: whole days in the viewer's time zone, from a first day up to (not including)
an end day, written the same way in the UI, the API and the CLI.

    2026-11            a month            2026-Q4     a quarter        2026     a year
    2026-11-03..2026-11-09   days, both included
    this-month  last-month  this-quarter  this-year  last-30-days  last-12-months (the default)

A month in Amsterdam starts at 23:00 or 22:00 UTC the evening before: every bound is midnight
in the zone, turned into UTC only for the query.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.utils.translation import gettext as _

from leadloop.errors import ValidationFailed

DEFAULT = "last-12-months"
MAX_DAYS = 3 * 366 + 1
_MONTH = re.compile(r"(\d{4})-(\d{2})")
_QUARTER = re.compile(r"(\d{4})-[Qq]([1-4])")
_YEAR = re.compile(r"(\d{4})")
_RANGE = re.compile(r"(\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2})")
_LAST_DAYS = re.compile(r"last-(\d{1,4})-days")
_LAST_MONTHS = re.compile(r"last-(\d{1,2})-months")


@dataclass(frozen=True)
class Period:
    first: dt.date
    end: dt.date  # the day after the last
    zone: ZoneInfo
    spec: str

    @property
    def last(self) -> dt.date:
        return self.end - dt.timedelta(days=1)

    @property
    def days(self) -> int:
        return (self.end - self.first).days

    @property
    def start_at(self) -> dt.datetime:
        return dt.datetime.combine(self.first, dt.time.min, tzinfo=self.zone)

    @property
    def end_at(self) -> dt.datetime:
        return dt.datetime.combine(self.end, dt.time.min, tzinfo=self.zone)

    def previous(self) -> Period:
        """The period of the same length just before (a month: the month before)."""
        if self.first.day == 1 and self.end.day == 1:
            months = (self.end.year - self.first.year) * 12 + self.end.month - self.first.month
            first = _add_months(self.first, -months)
            return Period(first, self.first, self.zone, f"{first}..{self.last_before}")
        first = self.first - dt.timedelta(days=self.days)
        return Period(first, self.first, self.zone, f"{first}..{self.last_before}")

    @property
    def last_before(self) -> dt.date:
        return self.first - dt.timedelta(days=1)


def _add_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def _invalid(text: str) -> ValidationFailed:
    return ValidationFailed(
        _("Unknown period %(period)r.") % {"period": text[:40]},
        errors={
            "period": [
                _(
                    "Write a month (2026-11), a quarter (2026-Q4), a year (2026), days "
                    "(2026-11-01..2026-11-30), this-month, last-month, this-quarter, this-year, "
                    "last-N-days or last-N-months."
                )
            ]
        },
    )


def parse_period(text: str | None, *, today: dt.date, zone: ZoneInfo) -> Period:
    """The period `text` names, `today` being the viewer's today; ValidationFailed otherwise."""
    spec = (text or DEFAULT).strip()
    first, end = _bounds(spec, today)
    if first is None or end is None or end <= first:
        raise _invalid(spec)
    if (end - first).days > MAX_DAYS:
        raise ValidationFailed(
            _("A period can be at most three years long."),
            errors={"period": [_("At most three years.")]},
        )
    return Period(first, end, zone, spec)


def _bounds(spec: str, today: dt.date) -> tuple[dt.date | None, dt.date | None]:
    month_start = today.replace(day=1)
    try:
        if spec == "this-month":
            return month_start, _add_months(month_start, 1)
        if spec == "last-month":
            return _add_months(month_start, -1), month_start
        if spec == "this-quarter":
            first = dt.date(today.year, (today.month - 1) // 3 * 3 + 1, 1)
            return first, _add_months(first, 3)
        if spec == "this-year":
            return dt.date(today.year, 1, 1), dt.date(today.year + 1, 1, 1)
        if match := _LAST_DAYS.fullmatch(spec):
            return today - dt.timedelta(days=int(match[1]) - 1), today + dt.timedelta(days=1)
        if match := _LAST_MONTHS.fullmatch(spec):
            months = int(match[1])
            return _add_months(month_start, 1 - months) if months else None, _add_months(
                month_start, 1
            )
        if match := _MONTH.fullmatch(spec):
            first = dt.date(int(match[1]), int(match[2]), 1)
            return first, _add_months(first, 1)
        if match := _QUARTER.fullmatch(spec):
            first = dt.date(int(match[1]), (int(match[2]) - 1) * 3 + 1, 1)
            return first, _add_months(first, 3)
        if match := _YEAR.fullmatch(spec):
            return dt.date(int(match[1]), 1, 1), dt.date(int(match[1]) + 1, 1, 1)
        if match := _RANGE.fullmatch(spec):
            first = dt.date.fromisoformat(match[1])
            return first, dt.date.fromisoformat(match[2]) + dt.timedelta(days=1)
    except (ValueError, OverflowError):
        return None, None
    return None, None
