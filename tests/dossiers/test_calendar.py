"""Working days: weekends, Vietnamese public holidays (holidays package), unit exceptions."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import holidays
import pytest

from onestop.units.calendar import (
    UnitCalendar,
    add_working_days,
    load_calendar,
    national_days,
    national_holiday_names,
    working_days_between,
)
from onestop.units.models import UnitDay
from tests.dossiers.conftest import demo_unit

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
PLAIN = UnitCalendar()


def at(year: int, month: int, day: int, hour: int = 10, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=TZ)


def due(year: int, month: int, day: int) -> dt.datetime:
    return dt.datetime(year, month, day, 17, 0, tzinfo=TZ)


def test_the_installed_holidays_package_knows_the_vietnamese_days_off():
    vn = holidays.country_holidays("VN", years=[2026, 2027])
    for day in ["2026-01-01", "2026-02-17", "2026-04-30", "2026-05-01", "2026-09-02",
                "2027-02-06", "2027-04-16", "2027-09-02"]:
        assert dt.date.fromisoformat(day) in vn, day
    # Tết Đinh Mùi 2027: Thursday 4 to Wednesday 10 February off
    tet = [dt.date(2027, 2, d) for d in range(4, 11)]
    assert all(d in vn for d in tet)
    assert dt.date(2027, 2, 3) not in vn and dt.date(2027, 2, 11) not in vn
    off, _worked = national_days(2027)
    assert set(tet) <= off
    assert "Tết Nguyên Đán" in national_holiday_names(2026)[dt.date(2026, 2, 17)]


def test_friday_afternoon_plus_one_day_is_monday_at_closing():
    assert add_working_days(PLAIN, at(2026, 11, 27, 15), 1) == due(2026, 11, 30)


def test_after_closing_counts_from_the_next_working_day():
    assert add_working_days(PLAIN, at(2026, 11, 27, 17, 30), 1) == due(2026, 12, 1)
    assert add_working_days(PLAIN, at(2026, 11, 27, 17, 0), 1) == due(2026, 11, 30)


def test_zero_days_is_the_same_day_or_the_next_working_day_after_hours():
    assert add_working_days(PLAIN, at(2026, 11, 27, 9), 0) == due(2026, 11, 27)
    assert add_working_days(PLAIN, at(2026, 11, 27, 18), 0) == due(2026, 11, 30)
    # received on a Saturday: as if received on Monday
    assert add_working_days(PLAIN, at(2026, 11, 28, 9), 0) == due(2026, 11, 30)
    assert add_working_days(PLAIN, at(2026, 11, 28, 9), 1) == due(2026, 12, 1)


def test_a_week_of_five_working_days_spans_the_weekend():
    assert add_working_days(PLAIN, at(2026, 12, 2), 5) == due(2026, 12, 9)  # Wed -> next Wed


def test_tet_2027_is_skipped():
    # Wednesday 3 February 2027: the next working day is Thursday 11 (4-10 Tết, 6-7 weekend)
    assert add_working_days(PLAIN, at(2027, 2, 3), 1) == due(2027, 2, 11)
    assert add_working_days(PLAIN, at(2027, 2, 3), 2) == due(2027, 2, 12)
    assert add_working_days(PLAIN, at(2027, 2, 1), 3) == due(2027, 2, 11)
    assert working_days_between(PLAIN, dt.date(2027, 2, 3), dt.date(2027, 2, 15)) == 3


def test_other_public_holidays_are_skipped():
    # 30/4 and 1/5/2026 (Thursday, Friday): Wednesday 29 April + 1 -> Monday 4 May
    assert add_working_days(PLAIN, at(2026, 4, 29), 1) == due(2026, 5, 4)
    # Quốc khánh 2026: 31/8 (swapped day off), 1/9 and 2/9 -> Friday 28/8 + 1 = Thursday 3/9
    assert add_working_days(PLAIN, at(2026, 8, 28), 1) == due(2026, 9, 3)


def test_a_saturday_the_government_swapped_for_a_day_off_is_worked():
    _off, worked = national_days(2026)
    assert dt.date(2026, 8, 22) in worked  # never a skip: a missing make-up day moves appointments
    assert PLAIN.is_working_day(dt.date(2026, 8, 22))
    assert add_working_days(PLAIN, at(2026, 8, 21), 1) == due(2026, 8, 22)
    assert PLAIN.is_working_day(dt.date(2025, 4, 26)) and not PLAIN.is_working_day(dt.date(2025, 5, 2))


def test_make_up_saturdays_do_not_depend_on_the_holidays_release(monkeypatch: pytest.MonkeyPatch):
    # a release from before the Government's announcement: no swap in its calendar
    real = holidays.country_holidays

    def without_swaps(country: str, **kwargs):
        calendar = real(country, **kwargs)
        for day in [d for d in calendar if d in (dt.date(2026, 8, 31), dt.date(2025, 5, 2))]:
            calendar.pop(day)
        calendar.weekend_workdays = set()
        return calendar

    monkeypatch.setattr(holidays, "country_holidays", without_swaps)
    national_days.cache_clear()
    try:
        assert PLAIN.is_working_day(dt.date(2026, 8, 22))
        assert not PLAIN.is_working_day(dt.date(2026, 8, 31))
        assert add_working_days(PLAIN, at(2026, 8, 28), 1) == due(2026, 9, 3)
        assert PLAIN.is_working_day(dt.date(2025, 4, 26))
    finally:
        national_days.cache_clear()


def test_the_pinned_holidays_release_lists_the_2026_swap_itself():
    # pyproject pins the release these tests were written against: it knows the 2026 swap
    vn = holidays.country_holidays("VN", years=2026)
    assert dt.date(2026, 8, 22) in vn.weekend_workdays and dt.date(2026, 8, 31) in vn


def test_unit_make_up_saturday_counts_and_unit_day_off_does_not():
    saturday, monday = dt.date(2026, 11, 28), dt.date(2026, 11, 30)
    make_up = UnitCalendar(working=frozenset({saturday}))
    assert add_working_days(make_up, at(2026, 11, 27, 15), 1) == due(2026, 11, 28)
    assert add_working_days(make_up, at(2026, 11, 28, 9), 0) == due(2026, 11, 28)
    day_off = UnitCalendar(off=frozenset({monday}))
    assert add_working_days(day_off, at(2026, 11, 27, 15), 1) == due(2026, 12, 1)
    # a unit may also work on a public holiday (and the unit's word wins)
    assert UnitCalendar(working=frozenset({dt.date(2027, 2, 4)})).is_working_day(dt.date(2027, 2, 4))


def test_closing_time_is_the_units():
    early = UnitCalendar(closing=dt.time(16, 30))
    assert add_working_days(early, at(2026, 11, 27, 16, 45), 1) == dt.datetime(
        2026, 12, 1, 16, 30, tzinfo=TZ)


def test_negative_days_are_refused():
    with pytest.raises(ValueError):
        add_working_days(PLAIN, at(2026, 11, 27), -1)


def test_load_calendar_reads_the_units_days(session):
    unit = demo_unit(session)
    session.add_all([
        UnitDay(unit_id=unit.id, date=dt.date(2026, 11, 28), kind="working", note="Làm bù"),
        UnitDay(unit_id=unit.id, date=dt.date(2026, 12, 1), kind="off", note="Nghỉ"),
        UnitDay(unit_id=unit.id, date=dt.date(2025, 1, 4), kind="working"),
    ])
    unit.settings = {**unit.settings, "office_closing": "16:30"}
    session.flush()
    calendar = load_calendar(session, unit, since=dt.date(2026, 1, 1))
    assert calendar.working == frozenset({dt.date(2026, 11, 28)})
    assert calendar.off == frozenset({dt.date(2026, 12, 1)})
    assert calendar.closing == dt.time(16, 30)
    assert add_working_days(calendar, at(2026, 11, 27, 15), 2) == dt.datetime(
        2026, 11, 30, 16, 30, tzinfo=TZ)


def test_unit_days_are_unique_per_unit_and_date(session):
    from sqlalchemy.exc import IntegrityError

    unit = demo_unit(session)
    session.add(UnitDay(unit_id=unit.id, date=dt.date(2026, 12, 5), kind="working"))
    session.flush()
    session.add(UnitDay(unit_id=unit.id, date=dt.date(2026, 12, 5), kind="off"))
    with pytest.raises(IntegrityError):
        session.flush()
    session.rollback()
    session.add(UnitDay(unit_id=unit.id, date=dt.date(2026, 12, 6), kind="holiday"))
    with pytest.raises(IntegrityError):
        session.flush()
