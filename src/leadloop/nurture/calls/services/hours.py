"""Calling hours: a call list's weekly window, public holidays and days off, as a business
calendar (`core.business_time`, the same calendar the first-contact clock uses).

A retry delay is calling time, not wall-clock time: "again in 4 hours" from a no-answer on
Friday at 17:30 with hours 9-18 on weekdays is Monday at 12:30 (half an hour on Friday, three
and a half on Monday), so the second try lands at another time of the working day than the
first. A moment outside the hours moves to the next opening.
"""

from __future__ import annotations

import datetime as dt

from leadloop.core.business_time import BusinessCalendar, NoWorkingTime, public_holidays
from leadloop.nurture.calls.models import CallList


def calendar_for(call_list: CallList) -> BusinessCalendar:
    """The list's calling hours as a business calendar."""
    days_off = set()
    for text in call_list.days_off or []:
        try:
            days_off.add(dt.date.fromisoformat(str(text)))
        except ValueError:
            continue
    holiday = public_holidays(call_list.holiday_country) if call_list.holiday_country else None
    return BusinessCalendar(
        time_zone=call_list.time_zone,
        work_days=frozenset(int(day) for day in call_list.call_days or []),
        opens=call_list.opens_at,
        closes=call_list.closes_at,
        extra_days_off=frozenset(days_off),
        **({"is_holiday": holiday} if holiday is not None else {}),
    )


def is_calling_time(call_list: CallList, at: dt.datetime) -> bool:
    """Whether the list may be called at `at`."""
    return calendar_for(call_list).is_open(at)


def next_calling_time(call_list: CallList, at: dt.datetime) -> dt.datetime | None:
    """`at` itself within the hours, else the next opening; None when the list has no hours."""
    try:
        return calendar_for(call_list).add(at, dt.timedelta(0))
    except NoWorkingTime:
        return None


def retry_at(call_list: CallList, at: dt.datetime) -> dt.datetime | None:
    """When a lead that did not answer at `at` is due again: the retry delay in calling time."""
    delay = dt.timedelta(minutes=call_list.retry_delay_minutes)
    try:
        return calendar_for(call_list).add(at, delay)
    except NoWorkingTime:
        return None
