"""Report presets: calendar periods and the cut-off periods of Nghị định 09/2019/NĐ-CP."""

from __future__ import annotations

import datetime as dt

import pytest

from onestop.reports.periods import checked, preset

D = dt.date


@pytest.mark.parametrize(("kind", "anchor", "start", "end"), [
    ("month", D(2026, 2, 10), D(2026, 2, 1), D(2026, 2, 28)),
    ("month", D(2028, 2, 29), D(2028, 2, 1), D(2028, 2, 29)),
    ("quarter", D(2026, 11, 23), D(2026, 10, 1), D(2026, 12, 31)),
    ("half", D(2026, 6, 30), D(2026, 1, 1), D(2026, 6, 30)),
    ("half", D(2026, 7, 1), D(2026, 7, 1), D(2026, 12, 31)),
    ("year", D(2026, 5, 5), D(2026, 1, 1), D(2026, 12, 31)),
])
def test_calendar_presets(kind: str, anchor: dt.date, start: dt.date, end: dt.date) -> None:
    period = preset(kind, anchor)
    assert (period.start, period.end) == (start, end)


@pytest.mark.parametrize(("kind", "anchor", "start", "end"), [
    ("month", D(2026, 11, 14), D(2026, 10, 15), D(2026, 11, 14)),
    ("month", D(2026, 11, 15), D(2026, 11, 15), D(2026, 12, 14)),
    ("month", D(2026, 12, 20), D(2026, 12, 15), D(2027, 1, 14)),
    ("quarter", D(2026, 3, 14), D(2025, 12, 15), D(2026, 3, 14)),
    ("half", D(2026, 1, 2), D(2025, 12, 15), D(2026, 6, 14)),
    ("year", D(2026, 12, 14), D(2025, 12, 15), D(2026, 12, 14)),
    ("year", D(2026, 12, 15), D(2026, 12, 15), D(2027, 12, 14)),
])
def test_nd09_cut_off_periods(kind: str, anchor: dt.date, start: dt.date, end: dt.date) -> None:
    period = preset(kind, anchor, "nd09")
    assert (period.start, period.end) == (start, end)


def test_ranges_are_checked() -> None:
    assert checked(D(2026, 1, 1), D(2026, 1, 1)).days == 1
    with pytest.raises(ValueError):
        checked(D(2026, 1, 2), D(2026, 1, 1))
    with pytest.raises(ValueError):
        checked(D(2020, 1, 1), D(2026, 1, 1))
    with pytest.raises(ValueError):
        preset("week", D(2026, 1, 1))
