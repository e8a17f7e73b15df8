"""Report periods: a date range, or a preset (month, quarter, 6 months, year) around a date.

Two bases for the presets:

* ``calendar`` (default): the calendar month, quarter (Q1 = Jan-Mar ...), half year
  (Jan-Jun, Jul-Dec) or year that contains the anchor date;
* ``nd09``: the data cut-off periods of Nghị định 09/2019/NĐ-CP, art. 12 (periodic
  reports of the State administration): a month runs from the 15th of the previous month
  to the 14th; a quarter from the 15th of the month before it to the 14th of its last
  month; the first six months from 15/12 of the previous year to 14/6; a year from 15/12
  to 14/12. (The second half year, 15/6 to 14/12, follows the same rule.) The period
  containing the anchor date is chosen.

Dates are business dates in the unit's timezone; ranges are inclusive.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

PRESETS = ("month", "quarter", "half", "year")
BASES = ("calendar", "nd09")
MAX_DAYS = 3 * 366 + 1  # the longest range a report accepts


@dataclass(frozen=True)
class Period:
    start: dt.date
    end: dt.date  # inclusive

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def dates(self) -> list[dt.date]:
        return [self.start + dt.timedelta(days=i) for i in range(self.days)]


def _month_end(year: int, month: int) -> dt.date:
    nxt = dt.date(year + month // 12, month % 12 + 1, 1)
    return nxt - dt.timedelta(days=1)


def _calendar(kind: str, day: dt.date) -> Period:
    span = {"month": 1, "quarter": 3, "half": 6, "year": 12}[kind]
    first = (day.month - 1) // span * span + 1
    return Period(dt.date(day.year, first, 1), _month_end(day.year, first + span - 1))


def _shift_month(year: int, month: int, delta: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + delta
    return index // 12, index % 12 + 1


def _nd09(kind: str, day: dt.date) -> Period:
    # the report month a day belongs to: from the 15th on, it counts for the next month
    year, month = _shift_month(day.year, day.month, 1) if day.day >= 15 else (day.year, day.month)
    span = {"month": 1, "quarter": 3, "half": 6, "year": 12}[kind]
    last = ((month - 1) // span + 1) * span  # the period's last month
    end = dt.date(year, last, 14)
    sy, sm = _shift_month(year, last, -span)
    return Period(dt.date(sy, sm, 15), end)


def preset(kind: str, anchor: dt.date, basis: str = "calendar") -> Period:
    """The ``kind`` period (``month``, ``quarter``, ``half``, ``year``) containing ``anchor``."""
    if kind not in PRESETS or basis not in BASES:
        raise ValueError(f"unknown preset {kind!r} / basis {basis!r}")
    return _calendar(kind, anchor) if basis == "calendar" else _nd09(kind, anchor)


def checked(start: dt.date, end: dt.date) -> Period:
    """A user's range; ``ValueError`` when reversed or longer than ``MAX_DAYS``."""
    if end < start:
        raise ValueError("the range ends before it starts")
    if (end - start).days + 1 > MAX_DAYS:
        raise ValueError("the range is too long")
    return Period(start, end)
