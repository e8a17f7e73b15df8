"""The past does not slow the present. Call-next asks for the ticket at the counter, and in the
weighted mode counts the counter's calls today; the rating tablet asks for the ticket just
finished at its counter; every hall display's snapshot asks what each counter serves. Each
must reach its rows through an index, not read every ticket the counter or the unit ever
had (some 12,000 a year at a busy counter).

SQLite's own work is counted in virtual machine steps (its progress handler), which, unlike
a clock, does not depend on how busy the machine is."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import text

from tests.conftest import local

HISTORY = 3000


def at(hour: int, minute: int = 0) -> dt.datetime:
    return local(2026, 11, 23, hour, minute)


def _steps(session: Any, run: Callable[[], Any]) -> int:
    """SQLite virtual machine steps taken while ``run`` runs."""
    raw = session.connection().connection.driver_connection
    steps = 0

    def tick() -> int:
        nonlocal steps
        steps += 1
        return 0  # go on

    raw.set_progress_handler(tick, 1)
    try:
        run()
    finally:
        raw.set_progress_handler(None, 1)
    return steps


def _add_history(session: Any, ticket_id: int, count: int) -> None:
    """``count`` tickets finished at the same counter on earlier days, copied from one."""
    columns = [row[1] for row in session.execute(text("PRAGMA table_info(tickets)"))
               if row[1] != "id"]
    back = "'-' || (1 + k % 300) || ' days'"  # spread over the past 300 days
    shifted = {c: f"strftime('%Y-%m-%d %H:%M:%S', {c}, {back}) || substr({c}, 20)"
               for c in ("issued_at", "queue_at", "called_at", "serving_at", "finished_at")}
    picked = ", ".join(
        {"number": "10000 + k", "business_date": f"date(business_date, {back})",
         "state": "'done'", **shifted}.get(c, c) for c in columns)
    session.execute(text(
        f"WITH RECURSIVE n(k) AS (SELECT 1 UNION ALL SELECT k + 1 FROM n WHERE k < :count) "
        f"INSERT INTO tickets ({', '.join(columns)}) SELECT {picked} FROM tickets, n "
        f"WHERE tickets.id = :id"), {"count": count, "id": ticket_id})


def _serve_one(centre: Any, waiting: int) -> Any:
    """Counter 8 calls twice from ``waiting`` tickets: the first one, returned, is finished
    there (it has a counter and a past); the second is at the counter."""
    for minute in range(waiting):
        centre.issue("TPHT", now=at(8, minute))
    centre.open(8)
    first = centre.call_next(8, now=at(9))
    centre.call_next(8, now=at(9, 1))
    centre.session.flush()
    return first


def _assert_history_costs_nothing(centre: Any, first: Any, run: Callable[[], Any]) -> None:
    fresh = _steps(centre.session, run)
    _add_history(centre.session, first.id, HISTORY)
    assert centre.session.execute(text("SELECT count(*) FROM tickets WHERE counter_id = :c"),
                                  {"c": first.counter_id}).scalar() > HISTORY
    later = _steps(centre.session, run)
    # reading the history row by row would take tens of thousands of steps more
    assert later < fresh * 1.5, (fresh, later)


@pytest.mark.parametrize("mode", ["fifo", "weighted"])
def test_a_call_costs_the_same_after_thousands_of_tickets_served_at_the_counter(centre, mode):
    centre.counter(8).service_mode = mode
    first = _serve_one(centre, waiting=6)
    minutes = iter(range(2, 10))
    _assert_history_costs_nothing(centre, first,
                                  lambda: centre.call_next(8, now=at(9, next(minutes))))


def test_the_rating_tablet_finds_the_ticket_just_finished_without_reading_the_counter_past(centre):
    from onestop.ratings.engine import pending_ticket

    first = _serve_one(centre, waiting=3)
    counter_id = first.counter_id

    def ask() -> Any:
        return pending_ticket(centre.session, counter_id, now=at(9, 1), timeout_seconds=60)

    assert ask().id == first.id
    _assert_history_costs_nothing(centre, first, ask)


def test_the_hall_display_snapshot_does_not_read_the_unit_past(centre):
    from onestop.queueing.state import display_state

    first = _serve_one(centre, waiting=3)

    def snapshot() -> Any:
        return display_state(centre.session, centre.unit, at(9, 2))

    assert [c["serving"]["label"] for c in snapshot()["counters"] if c["serving"]] == ["A002"]
    _assert_history_costs_nothing(centre, first, snapshot)
