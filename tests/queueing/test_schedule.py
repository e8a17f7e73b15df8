"""Opening rules (weekdays, windows, cut-off, always-open) and the business date.

Demo fields open 07:30–11:30 and 13:30–17:00 with a 15-minute cut-off; DD (Đất đai) is
served Monday, Wednesday and Friday only. 23 November 2026 is a Monday.
"""

from __future__ import annotations

import datetime as dt

import pytest

from onestop.queueing import engine
from onestop.queueing.errors import DomainError, NotFound
from onestop.queueing.schedule import availability
from tests.conftest import local


def refusal(centre, code: str, when: dt.datetime, **kwargs) -> DomainError:
    with pytest.raises(DomainError) as caught:
        centre.issue(code, now=when, **kwargs)
    return caught.value


def test_inactive_service_is_closed(centre):
    centre.service("TPHT").active = False
    error = refusal(centre, "TPHT", local(2026, 11, 23, 9, 0))
    assert (error.code, error.details["reason"]) == ("service_closed", "inactive")


def test_weekday_not_served(centre):
    error = refusal(centre, "DD", local(2026, 11, 24, 9, 0))  # Tuesday
    assert (error.code, error.details["reason"]) == ("service_closed", "not_served_today")
    assert centre.issue("DD", now=local(2026, 11, 25, 9, 0)).label == "B001"  # Wednesday


def test_weekend_not_served_even_for_weekday_fields(centre):
    error = refusal(centre, "TPHT", local(2026, 11, 28, 9, 0))  # Saturday
    assert (error.code, error.details["reason"]) == ("service_closed", "not_served_today")


@pytest.mark.parametrize(("hour", "minute", "reason"), [
    (7, 29, "before_opening"),
    (0, 30, "before_opening"),
    (11, 30, "between_windows"),
    (12, 0, "between_windows"),
    (13, 29, "between_windows"),
    (17, 0, "after_closing"),
    (21, 0, "after_closing"),
])
def test_outside_hours(centre, hour, minute, reason):
    error = refusal(centre, "TPHT", local(2026, 11, 23, hour, minute))
    assert (error.code, error.details["reason"]) == ("outside_hours", reason)


@pytest.mark.parametrize(("hour", "minute"), [(7, 30), (11, 14), (13, 30), (16, 44)])
def test_inside_windows_issues(centre, hour, minute):
    assert centre.issue("TPHT", now=local(2026, 11, 23, hour, minute)).state == "waiting"


def test_cutoff_before_window_end(centre):
    assert centre.issue("TPHT", now=local(2026, 11, 23, 11, 10)).number == 1
    for hour, minute in ((11, 15), (11, 20), (16, 45), (16, 59)):
        error = refusal(centre, "TPHT", local(2026, 11, 23, hour, minute))
        assert (error.code, error.details["reason"]) == ("outside_hours", "past_cutoff")


def test_cutoff_is_a_service_setting(centre):
    centre.service("TPHT").cutoff_minutes = 0
    assert centre.issue("TPHT", now=local(2026, 11, 23, 11, 20)).number == 1


def test_refused_ticket_consumes_no_number(centre):
    refusal(centre, "TPHT", local(2026, 11, 23, 12, 0))
    assert centre.issue("TPHT", now=local(2026, 11, 23, 13, 30)).label == "A001"


def test_always_open_lifts_weekday_and_hours(centre):
    sunday_night = local(2026, 11, 29, 23, 0)
    ticket = centre.issue("DD", now=sunday_night, always_open=True)
    assert ticket.state == "waiting"
    assert ticket.business_date == dt.date(2026, 11, 29)
    assert centre.issue("DD", now=local(2026, 11, 24, 12, 0), always_open=True).number == 1


def test_always_open_does_not_lift_inactive(centre):
    centre.service("DD").active = False
    error = refusal(centre, "DD", local(2026, 11, 23, 9, 0), always_open=True)
    assert (error.code, error.details["reason"]) == ("service_closed", "inactive")


def test_availability_uses_the_local_time_given(centre):
    service = centre.service("TPHT")
    monday_9_local = local(2026, 11, 23, 9, 0).astimezone(centre.unit.tz)
    assert availability(service, monday_9_local).open
    # the same instant read as UTC would be 02:00, before opening
    assert availability(service, local(2026, 11, 23, 9, 0)).reason == "before_opening"


def test_service_without_windows_is_open_all_day_on_its_weekdays(centre):
    centre.service("TPHT").windows = []
    assert centre.issue("TPHT", now=local(2026, 11, 23, 22, 0)).number == 1
    error = refusal(centre, "TPHT", local(2026, 11, 29, 22, 0))  # Sunday
    assert error.details["reason"] == "not_served_today"


# --- business date at midnight in Asia/Ho_Chi_Minh --------------------------------------


def test_business_date_boundary_at_local_midnight(centre):
    late = local(2026, 11, 23, 23, 59)
    early = local(2026, 11, 24, 0, 1)
    # 00:01 in Hà Nội is still the previous day in UTC
    assert early.date() == dt.date(2026, 11, 23)
    assert (early.hour, early.minute) == (17, 1)
    first = centre.issue("TPHT", now=late, always_open=True)
    second = centre.issue("TPHT", now=early, always_open=True)
    assert first.business_date == dt.date(2026, 11, 23)
    assert second.business_date == dt.date(2026, 11, 24)
    assert (first.number, first.label) == (1, "A001")
    assert (second.number, second.label) == (1, "A001")


def test_utc_midnight_is_not_a_business_day_boundary(centre):
    before = local(2026, 11, 23, 6, 59)  # 23:59 UTC on Sunday
    after = local(2026, 11, 23, 7, 1)  # 00:01 UTC on Monday
    first = centre.issue("TPHT", now=before, always_open=True)
    second = centre.issue("TPHT", now=after, always_open=True)
    assert first.business_date == second.business_date == dt.date(2026, 11, 23)
    assert (first.number, second.number) == (1, 2)


def test_yesterdays_waiting_ticket_is_not_called_today(centre):
    yesterday = centre.issue("TPHT", now=local(2026, 11, 23, 23, 50), always_open=True)
    today = local(2026, 11, 24, 0, 5)
    centre.open(1, now=today)
    with pytest.raises(NotFound) as caught:
        centre.call_next(1, now=today)
    assert caught.value.code == "queue_empty"
    centre.session.refresh(yesterday)
    assert yesterday.state == "waiting"


def test_yesterdays_ticket_does_not_count_as_ahead_today(centre):
    centre.issue("TPHT", now=local(2026, 11, 23, 23, 50), always_open=True)
    today = centre.issue("TPHT", now=local(2026, 11, 24, 0, 5), always_open=True)
    assert engine.waiting_ahead(centre.session, today) == 0
