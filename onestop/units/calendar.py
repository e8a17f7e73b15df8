"""Working-day calendar of a unit: weekends, Vietnamese public holidays, local exceptions.

A day is a working day when the unit says so (``UnitDay`` kind ``working``: a make-up
Saturday), else not when the unit says ``off``, else by the national calendar of the
``holidays`` package (country ``VN``: Tết Dương lịch, Tết Nguyên Đán, Giỗ Tổ Hùng Vương,
30/4, 1/5, Quốc khánh, the Government's swapped days off and the Saturdays worked in
exchange for them), with Saturday and Sunday off.

Appointment rule (``add_working_days``): a dossier received on a working day before the
unit's closing time (setting ``office_closing``, default 17:00) is received *that* day; one
received after closing, or on a day off, is received on the next working day. The legal
time of N working days is counted from the day after receipt, and the result is due at
closing time of the N-th working day. So, received Friday 15:00 with 1 working day: due
Monday 17:00; received Friday 17:30 with 1 day: due Tuesday 17:00; 0 days: due the day of
receipt at closing (or the next working day's closing after hours).
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass, field

import holidays
from sqlalchemy import select
from sqlalchemy.orm import Session

from onestop.units.models import Unit, UnitDay

# a calendar with no working day in this many days is misconfigured, not a long wait
MAX_SCAN_DAYS = 3660


#: The Government's swaps for public servants (day off, Saturday worked in exchange), as
#: announced each year. The ``holidays`` package lists them too, but only from the release
#: after each announcement: an older installed release would silently count a make-up
#: Saturday as a day off and move every appointment. Known swaps are therefore kept here
#: and merged with the package's (add a line when the Government announces a new one).
NATIONAL_SWAPS: dict[int, tuple[tuple[dt.date, dt.date], ...]] = {
    2024: ((dt.date(2024, 4, 29), dt.date(2024, 5, 4)),),
    2025: ((dt.date(2025, 5, 2), dt.date(2025, 4, 26)),),
    2026: ((dt.date(2026, 8, 31), dt.date(2026, 8, 22)),),
}


@functools.lru_cache(maxsize=64)
def national_days(year: int) -> tuple[frozenset[dt.date], frozenset[dt.date]]:
    """``(public holidays and days off, weekend days worked)`` of Vietnam in ``year``: the
    ``holidays`` package's calendar plus :data:`NATIONAL_SWAPS`."""
    calendar = holidays.country_holidays("VN", years=year)
    swaps = NATIONAL_SWAPS.get(year, ())
    days_off = frozenset(d for d in calendar if d.year == year) | {off for off, _ in swaps}
    worked = frozenset(d for d in getattr(calendar, "weekend_workdays", ()) if d.year == year)
    return days_off, worked | {saturday for _, saturday in swaps}


def national_holiday_names(year: int, language: str = "vi") -> dict[dt.date, str]:
    """The national days off of ``year`` with their names (for admin pages and receipts)."""
    calendar = holidays.country_holidays("VN", years=year, language=language)
    return {d: str(name) for d, name in sorted(calendar.items()) if d.year == year}


def parse_clock(text: str) -> dt.time:
    """``"17:00"`` -> ``time(17, 0)``."""
    hours, minutes = text.split(":")
    return dt.time(int(hours), int(minutes))


@dataclass(frozen=True)
class UnitCalendar:
    """What decides a unit's working days; build it with ``load_calendar`` (or directly in
    tests). ``off`` and ``working`` are the unit's own exceptions."""

    off: frozenset[dt.date] = field(default_factory=frozenset)
    working: frozenset[dt.date] = field(default_factory=frozenset)
    closing: dt.time = dt.time(17, 0)

    def is_working_day(self, day: dt.date) -> bool:
        if day in self.working:
            return True
        if day in self.off:
            return False
        holidays_off, weekend_worked = national_days(day.year)
        if day.weekday() >= 5:
            return day in weekend_worked
        return day not in holidays_off

    def next_working_day(self, day: dt.date) -> dt.date:
        """The first working day strictly after ``day``."""
        for step in range(1, MAX_SCAN_DAYS):
            candidate = day + dt.timedelta(days=step)
            if self.is_working_day(candidate):
                return candidate
        raise ValueError("no working day in the calendar")

    def receipt_day(self, received: dt.datetime) -> dt.date:
        """The working day a receipt at local time ``received`` counts for."""
        day = received.date()
        if self.is_working_day(day) and received.time() <= self.closing:
            return day
        return self.next_working_day(day)

    def due(self, day: dt.date, tzinfo: dt.tzinfo | None) -> dt.datetime:
        """Closing time of ``day``: the moment a result due that day falls due."""
        return dt.datetime.combine(day, self.closing, tzinfo=tzinfo)


def load_calendar(session: Session, unit: Unit, since: dt.date | None = None) -> UnitCalendar:
    """The unit's calendar, with its own days from ``since`` on (all of them by default)."""
    query = select(UnitDay.date, UnitDay.kind).where(UnitDay.unit_id == unit.id)
    if since is not None:
        query = query.where(UnitDay.date >= since)
    rows = session.execute(query).all()
    return UnitCalendar(
        off=frozenset(d for d, kind in rows if kind == "off"),
        working=frozenset(d for d, kind in rows if kind == "working"),
        closing=parse_clock(str(unit.setting("office_closing"))),
    )


def add_working_days(unit_calendar: UnitCalendar, start_local_datetime: dt.datetime,
                     days: int) -> dt.datetime:
    """When a result received at ``start_local_datetime`` (the unit's local time) with a legal
    time of ``days`` working days falls due: closing time of the ``days``-th working day
    after the day of receipt (see the module docstring). The result keeps the tzinfo of
    the start (aware in, aware out)."""
    if days < 0:
        raise ValueError("days must be >= 0")
    day = unit_calendar.receipt_day(start_local_datetime)
    for _ in range(days):
        day = unit_calendar.next_working_day(day)
    return unit_calendar.due(day, start_local_datetime.tzinfo)


def working_days_between(unit_calendar: UnitCalendar, start: dt.date, end: dt.date) -> int:
    """Working days in ``(start, end]``: how many working days ``end`` lies after ``start``."""
    count, day = 0, start
    while day < end:
        day += dt.timedelta(days=1)
        count += unit_calendar.is_working_day(day)
    return count
