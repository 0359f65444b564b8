"""Working time for every SLA in the platform.

Working days come from chinese-calendar (statutory holidays and make-up working days, 调休) with
administrator overrides (``CalendarOverride``) on top; overrides win, so a year the State Council
has not announced yet can be entered by hand. Without data for a year, Monday–Friday are working
days. Working hours are the periods in ``settings.WORKING_PERIODS`` (08:30–12:00, 13:30–17:30 by
default). All datetimes are aware and interpreted in ``settings.TIME_ZONE``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import chinese_calendar
from django.conf import settings

from .models import CalendarOverride

_MAX_SCAN_DAYS = 366 * 5


def _parse_hhmm(value: str) -> dt.time:
    hour, minute = value.split(":")
    return dt.time(int(hour), int(minute))


@dataclass(frozen=True)
class WorkingCalendar:
    """A calendar with a fixed set of overrides (load it once for a batch of computations)."""

    overrides: dict[dt.date, bool]
    periods: tuple[tuple[dt.time, dt.time], ...]
    tz: dt.tzinfo

    # --- days -------------------------------------------------------------------
    def is_workday(self, day: dt.date) -> bool:
        if day in self.overrides:
            return self.overrides[day]
        try:
            return bool(chinese_calendar.is_workday(day))
        except NotImplementedError:
            return day.weekday() < 5

    def add_working_days(self, start: dt.date, days: int) -> dt.date:
        """The ``days``-th working day after ``start`` (``start`` itself is not counted).

        ``days == 0`` gives ``start`` if it is a working day, else the next working day.
        """
        if days < 0:
            raise ValueError("days must be >= 0")
        day = start
        if days == 0:
            for _ in range(_MAX_SCAN_DAYS):
                if self.is_workday(day):
                    return day
                day += dt.timedelta(days=1)
            raise ValueError("no working day found")
        counted = 0
        for _ in range(_MAX_SCAN_DAYS):
            day += dt.timedelta(days=1)
            if self.is_workday(day):
                counted += 1
                if counted == days:
                    return day
        raise ValueError("no working day found within five years")

    def working_days_between(self, start: dt.date, end: dt.date) -> int:
        """Working days in (start, end]."""
        if end <= start:
            return 0
        return sum(
            1 for i in range(1, (end - start).days + 1) if self.is_workday(start + dt.timedelta(days=i))
        )

    # --- hours ------------------------------------------------------------------
    def _periods_on(self, day: dt.date) -> Iterable[tuple[dt.datetime, dt.datetime]]:
        if not self.is_workday(day):
            return ()
        return [
            (dt.datetime.combine(day, a, self.tz), dt.datetime.combine(day, b, self.tz)) for a, b in self.periods
        ]

    def end_of_working_day(self, day: dt.date) -> dt.datetime:
        return dt.datetime.combine(day, self.periods[-1][1], self.tz)

    def deadline_after_days(self, start: dt.datetime, days: int) -> dt.datetime:
        """Deadline for "within N working days from ``start``": close of the N-th working day after it."""
        local = start.astimezone(self.tz)
        return self.end_of_working_day(self.add_working_days(local.date(), days))

    def add_working_hours(self, start: dt.datetime, hours: float) -> dt.datetime:
        """The moment when ``hours`` of working time have passed after ``start``."""
        if hours < 0:
            raise ValueError("hours must be >= 0")
        remaining = dt.timedelta(hours=hours)
        current = start.astimezone(self.tz)
        day = current.date()
        for _ in range(_MAX_SCAN_DAYS):
            for period_start, period_end in self._periods_on(day):
                if period_end <= current:
                    continue
                begin = max(period_start, current)
                available = period_end - begin
                if remaining <= available:
                    if remaining == dt.timedelta(0):
                        return begin
                    return begin + remaining
                remaining -= available
            day += dt.timedelta(days=1)
        raise ValueError("working time exceeds five years")

    def working_hours_between(self, start: dt.datetime, end: dt.datetime) -> float:
        """Working hours elapsed from ``start`` to ``end`` (0 if ``end`` is not later)."""
        if end <= start:
            return 0.0
        start_local, end_local = start.astimezone(self.tz), end.astimezone(self.tz)
        total = dt.timedelta(0)
        day = start_local.date()
        while day <= end_local.date():
            for period_start, period_end in self._periods_on(day):
                begin, finish = max(period_start, start_local), min(period_end, end_local)
                if finish > begin:
                    total += finish - begin
            day += dt.timedelta(days=1)
        return total.total_seconds() / 3600


def known_years() -> set[int]:
    """Years for which chinese-calendar has the State Council's holiday arrangement."""
    years: set[int] = set()
    for year in range(2004, 2100):
        try:
            chinese_calendar.is_workday(dt.date(year, 6, 1))
        except NotImplementedError:
            continue
        years.add(year)
    return years


def get_calendar() -> WorkingCalendar:
    """The platform calendar with the current overrides (one query)."""
    overrides = dict(CalendarOverride.objects.values_list("date", "is_workday"))
    periods = tuple((_parse_hhmm(a), _parse_hhmm(b)) for a, b in settings.WORKING_PERIODS)
    return WorkingCalendar(overrides=overrides, periods=periods, tz=ZoneInfo(settings.TIME_ZONE))


def is_workday(day: dt.date) -> bool:
    return get_calendar().is_workday(day)


def add_working_days(start: dt.date, days: int) -> dt.date:
    return get_calendar().add_working_days(start, days)


def add_working_hours(start: dt.datetime, hours: float) -> dt.datetime:
    return get_calendar().add_working_hours(start, hours)


def working_hours_between(start: dt.datetime, end: dt.datetime) -> float:
    return get_calendar().working_hours_between(start, end)
