"""Business time: working days and hours in a time zone, with public holidays. The clock of the
first-contact SLA (`sales`, which runs only while the team works) and the calling hours of the
telemarketing desk (`nurture.calls`) both read it, so it lives below both.

A target is a length of business time ("one business day" is the length of the working day),
counted from when the lead arrived on the team's working days and hours, in the team's time
zone, skipping public holidays (the maintained `holidays` package; the Netherlands by default).
Sums are made on the wall clock of that zone, so a daylight-saving change never moves a
deadline: a lead due at 10:00 is due at 10:00 local time on either side of the change.

    calendar = BusinessCalendar.for_country("NL")
    calendar.add(received_at, calendar.business_day)    # due: Tuesday 10:00 → Wednesday 10:00
    calendar.between(received_at, now)                   # business time used so far
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

# A deadline further than this many days ahead means a calendar with no working time at all.
HORIZON_DAYS = 3660
MONDAY_TO_FRIDAY = frozenset({0, 1, 2, 3, 4})


class NoWorkingTime(ValueError):
    """The calendar has no working time within the horizon (no work days, or no hours)."""


@lru_cache(maxsize=64)
def _public_holidays(country: str, subdivision: str) -> holidays.HolidayBase:
    return holidays.country_holidays(country, subdiv=subdivision or None)


def public_holidays(country: str, subdivision: str = "") -> Callable[[dt.date], bool]:
    """Whether a date is a public holiday in `country` (ISO 3166 code), per the holidays package,
    which refuses a country it does not know."""
    found = _public_holidays(country.upper(), subdivision)
    return lambda day: day in found


@dataclass(frozen=True)
class BusinessCalendar:
    """When a team works: days (0 = Monday), hours, time zone, and days off."""

    time_zone: str = "Europe/Amsterdam"
    work_days: frozenset[int] = MONDAY_TO_FRIDAY
    opens: dt.time = dt.time(9, 0)
    closes: dt.time = dt.time(18, 0)
    is_holiday: Callable[[dt.date], bool] = field(default=lambda day: False, compare=False)
    extra_days_off: frozenset[dt.date] = frozenset()
    # Whether a date is a work day, as found: a list of leads asks the same weeks again and
    # again (My day's overdue leads walked 66 days each, 60 ms a page).
    _known: dict[dt.date, bool] = field(default_factory=dict, init=False, repr=False, compare=False)

    @classmethod
    def for_country(
        cls,
        country: str = "NL",
        *,
        subdivision: str = "",
        days_off: Iterable[dt.date] = (),
        **hours: object,
    ) -> BusinessCalendar:
        """A calendar skipping `country`'s public holidays and the extra `days_off`."""
        return cls(
            is_holiday=public_holidays(country, subdivision),
            extra_days_off=frozenset(days_off),
            **hours,  # type: ignore[arg-type]
        )

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    @property
    def business_day(self) -> dt.timedelta:
        """The length of one working day: what "24 hours" means as a business target."""
        return _span(self.opens, self.closes)

    def is_work_day(self, day: dt.date) -> bool:
        known = self._known.get(day)
        if known is None:
            known = (
                day.weekday() in self.work_days
                and day not in self.extra_days_off
                and not self.is_holiday(day)
            )
            self._known[day] = known
        return known

    def is_open(self, moment: dt.datetime) -> bool:
        local = moment.astimezone(self.zone)
        return self.is_work_day(local.date()) and self.opens <= local.time() < self.closes

    def _windows(self, start: dt.datetime) -> Iterable[tuple[dt.date, dt.time, dt.time]]:
        """The working windows (day, from, to) from `start` on, in wall-clock time."""
        local = start.astimezone(self.zone)
        day, after = local.date(), local.time().replace(tzinfo=None)
        for _step in range(HORIZON_DAYS):
            if self.is_work_day(day):
                begin = max(after, self.opens)
                if begin < self.closes:
                    yield day, begin, self.closes
            day, after = day + dt.timedelta(days=1), dt.time.min
        raise NoWorkingTime(f"no working time within {HORIZON_DAYS} days")

    def add(self, start: dt.datetime, amount: dt.timedelta) -> dt.datetime:
        """The moment `amount` of business time after `start` (an aware datetime), in UTC.

        Zero business time from a moment outside working hours is the next opening."""
        if amount < dt.timedelta(0):
            raise ValueError("a business time to add must not be negative")
        remaining = amount
        for day, begin, end in self._windows(start):
            available = _span(begin, end)
            if remaining <= available:
                wall = dt.datetime.combine(day, begin) + remaining
                return wall.replace(tzinfo=self.zone).astimezone(dt.UTC)
            remaining -= available
        raise NoWorkingTime  # pragma: no cover - _windows raises first

    def between(self, start: dt.datetime, end: dt.datetime) -> dt.timedelta:
        """Business time from `start` to `end` (negative when `end` comes first): what is left
        of the first day, every whole work day between, and the last day up to `end`."""
        if end < start:
            return -self.between(end, start)
        zero = dt.timedelta(0)
        local_start, local_end = start.astimezone(self.zone), end.astimezone(self.zone)
        first, last = local_start.date(), local_end.date()
        begin = max(local_start.time().replace(tzinfo=None), self.opens)
        stop = min(local_end.time().replace(tzinfo=None), self.closes)
        if first == last:
            return max(_span(begin, stop), zero) if self.is_work_day(first) else zero
        total = max(_span(begin, self.closes), zero) if self.is_work_day(first) else zero
        whole = sum(
            1 for n in range(1, (last - first).days) if self.is_work_day(first + dt.timedelta(n))
        )
        total += whole * max(self.business_day, zero)
        if self.is_work_day(last):
            total += max(_span(self.opens, stop), zero)
        return total


def _span(begin: dt.time, end: dt.time) -> dt.timedelta:
    """Wall-clock time from `begin` to `end` on one day."""
    day = dt.date(2000, 1, 3)
    return dt.datetime.combine(day, end) - dt.datetime.combine(day, begin)
