"""The first-contact SLA's clock in business time: the seed's "24 hours" as one business day,
weekends, Dutch public holidays, extra days off, daylight-saving changes and an A-grade's one
business hour (issue 14, item 1 and its bad-input list). Pure arithmetic: no database."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from leadloop.sales.business_time import BusinessCalendar, NoWorkingTime

AMS = ZoneInfo("Europe/Amsterdam")
NL = BusinessCalendar.for_country("NL")


def at(*parts: int) -> dt.datetime:
    """A wall-clock moment in Amsterdam."""
    return dt.datetime(*parts, tzinfo=AMS)


def due(received: dt.datetime, amount: dt.timedelta | None = None) -> dt.datetime:
    return NL.add(received, NL.business_day if amount is None else amount).astimezone(AMS)


def test_one_business_day_from_tuesday_ten_is_wednesday_ten():
    assert due(at(2026, 12, 8, 10, 0)) == at(2026, 12, 9, 10, 0)


def test_friday_five_to_six_is_due_monday_at_the_same_business_moment():
    assert due(at(2026, 12, 11, 17, 55)) == at(2026, 12, 14, 17, 55)


def test_a_lead_in_the_weekend_starts_its_clock_on_monday_morning():
    assert due(at(2026, 12, 12, 14, 0)) == at(2026, 12, 14, 18, 0)
    assert due(at(2026, 12, 12, 14, 0), dt.timedelta(0)) == at(2026, 12, 14, 9, 0)


def test_friday_before_a_public_holiday_skips_it():
    # Friday 24 April 2026; Monday 27 April is King's Day.
    assert due(at(2026, 4, 24, 17, 55)) == at(2026, 4, 28, 17, 55)
    # Thursday 24 December; Christmas Day and the Second Day of Christmas, then the weekend.
    assert due(at(2026, 12, 24, 17, 55)) == at(2026, 12, 28, 17, 55)


def test_extra_days_off_and_other_countries():
    closed = BusinessCalendar.for_country("NL", days_off=[dt.date(2026, 12, 9)])
    received = at(2026, 12, 8, 10, 0)
    assert closed.add(received, closed.business_day).astimezone(AMS) == at(2026, 12, 10, 10, 0)
    # Belgium: 21 July is the national day (a Tuesday in 2026); the Netherlands work.
    belgium = BusinessCalendar.for_country("BE", time_zone="Europe/Brussels")
    monday = at(2026, 7, 20, 10, 0)
    assert belgium.add(monday, belgium.business_day).astimezone(AMS) == at(2026, 7, 22, 10, 0)
    assert NL.add(monday, NL.business_day).astimezone(AMS) == at(2026, 7, 21, 10, 0)


@pytest.mark.parametrize(
    ("received", "expected"),
    [
        # Summer time starts on Sunday 29 March 2026, ends on Sunday 25 October 2026.
        (at(2026, 3, 27, 10, 0), at(2026, 3, 30, 10, 0)),
        (at(2026, 10, 23, 10, 0), at(2026, 10, 26, 10, 0)),
    ],
)
def test_a_daylight_saving_change_does_not_move_the_deadline(received, expected):
    deadline = due(received)
    assert deadline == expected
    assert deadline.hour == 10
    # The real time between the two differs from three days by the hour the clocks moved.
    real = deadline.astimezone(dt.UTC) - received.astimezone(dt.UTC)
    assert abs(real - dt.timedelta(days=3)) == dt.timedelta(hours=1)


def test_an_a_grade_lead_gets_one_business_hour():
    assert due(at(2026, 12, 8, 17, 30), dt.timedelta(hours=1)) == at(2026, 12, 9, 9, 30)


def test_business_time_between_two_moments_counts_only_working_time():
    received = at(2026, 12, 11, 17, 0)  # Friday
    assert NL.between(received, at(2026, 12, 14, 10, 0)) == dt.timedelta(hours=2)
    assert NL.between(received, at(2026, 12, 11, 20, 0)) == dt.timedelta(hours=1)
    assert NL.between(at(2026, 12, 14, 10, 0), received) == -dt.timedelta(hours=2)
    # add() and between() agree: what was added is what has passed at the deadline.
    deadline = NL.add(received, dt.timedelta(hours=7, minutes=13))
    assert NL.between(received, deadline) == dt.timedelta(hours=7, minutes=13)


def _walked(start: dt.datetime, end: dt.datetime) -> dt.timedelta:
    """Business time from `start` to `end`, walked one working window at a time."""
    total, last = dt.timedelta(0), end.astimezone(AMS)
    for day, begin, close in NL._windows(start):
        if day == last.date():
            close = min(close, last.time().replace(tzinfo=None))
        if day > last.date() or close <= begin:
            break
        total += dt.datetime.combine(day, close) - dt.datetime.combine(day, begin)
    return total


def test_business_time_between_far_apart_moments_is_the_working_windows_walked():
    # Months apart, across Christmas, Easter, King's Day and both daylight-saving changes, from
    # and to moments inside and outside working hours and on days off.
    starts = [at(2026, 12, 11, 17, 0), at(2026, 12, 24, 7, 30), at(2027, 3, 27, 12, 0)]
    ends = [at(2027, 1, 4, 9, 30), at(2027, 4, 27, 15, 45), at(2027, 11, 1, 23, 0)]
    for start, end in ((s, e) for s in starts for e in ends if s < e):
        assert NL.between(start, end) == _walked(start, end) > dt.timedelta(0)
        assert NL.between(end, start) == -_walked(start, end)
    # Christmas (Friday) and Boxing Day: 24 December 2026 to Monday 28 December is one day.
    assert NL.between(at(2026, 12, 24, 9, 0), at(2026, 12, 28, 9, 0)) == NL.business_day


def test_the_calendar_says_when_the_team_is_open():
    assert NL.is_open(at(2026, 12, 8, 9, 0))
    assert not NL.is_open(at(2026, 12, 8, 18, 0))
    assert not NL.is_open(at(2026, 12, 25, 11, 0))
    assert not NL.is_open(at(2026, 12, 12, 11, 0))


def test_a_calendar_without_working_time_says_so_instead_of_looping():
    nobody = BusinessCalendar(work_days=frozenset())
    with pytest.raises(NoWorkingTime):
        nobody.add(at(2026, 12, 8, 10, 0), dt.timedelta(hours=1))
    with pytest.raises(ValueError, match="negative"):
        NL.add(at(2026, 12, 8, 10, 0), -dt.timedelta(hours=1))
