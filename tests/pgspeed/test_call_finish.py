"""PostgreSQL call-next (issue 24): the ticket at the counter is looked up and finished in
one statement (``UPDATE ... FROM``). What the clerk and the audit trail see stays as on
SQLite: the finish from the state the ticket had, counted as served from its call, a
ticket sent back to the counter that transferred it, and a ticket this session holds read
afresh."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import event, select

from onestop.queueing import engine
from onestop.queueing.errors import NotFound
from onestop.queueing.models import Ticket, TicketEvent
from tests.conftest import MONDAY_9
from tests.queueing.conftest import Centre

pytestmark = pytest.mark.postgres


def _minutes(n: int) -> dt.datetime:
    return MONDAY_9 + dt.timedelta(minutes=n)


def _trail(centre: Centre, ticket_id: int) -> list[tuple[str, str | None, str | None]]:
    return [(e.action, e.from_state, e.to_state) for e in centre.session.scalars(
        select(TicketEvent).where(TicketEvent.ticket_id == ticket_id).order_by(TicketEvent.id))]


def test_call_next_finishes_the_called_ticket_in_one_statement(pg_centre: Centre) -> None:
    first, second = pg_centre.issue("TPHT"), pg_centre.issue("TPHT")
    pg_centre.open(1)
    called = pg_centre.call_next(1, now=_minutes(1))
    assert called.id == first.id
    seen: list[str] = []
    event.listen(pg_centre.session.get_bind(), "before_cursor_execute",
                 lambda _c, _cur, statement, *_a: seen.append(statement))
    pg_centre.session.expunge(called)  # as in a new request: the ticket is not loaded
    assert pg_centre.call_next(1, now=_minutes(4)).id == second.id
    assert sum("UPDATE tickets SET state = 'done'" in s for s in seen) == 1
    assert not any(s.startswith("SELECT id, state FROM tickets") for s in seen)
    done = pg_centre.session.get(Ticket, first.id)
    assert done is not None
    assert (done.state, done.outcome, done.finished_at, done.serving_at) == (
        "done", "served", _minutes(4), _minutes(1))  # served from its call
    assert _trail(pg_centre, first.id) == [
        ("issue", None, "waiting"), ("call", "waiting", "called"), ("finish", "called", "done")]


def test_a_ticket_being_served_and_held_by_the_session(pg_centre: Centre) -> None:
    ticket = pg_centre.issue("TPHT")
    counter = pg_centre.open(1)
    pg_centre.call_next(1, now=_minutes(1))
    held = engine.start_serving(pg_centre.session, counter, actor=pg_centre.clerk(1),
                                now=_minutes(2))
    assert held.state == "serving"
    with pytest.raises(NotFound) as empty:
        pg_centre.call_next(1, now=_minutes(9))
    assert empty.value.details["finished"] == {"id": ticket.id, "label": ticket.label}
    assert (held.state, held.outcome, held.serving_at, held.finished_at) == (
        "done", "served", _minutes(2), _minutes(9))  # the object this session holds, afresh
    assert _trail(pg_centre, ticket.id)[-1] == ("finish", "serving", "done")


def test_a_transferred_ticket_goes_back_to_the_counter_that_sent_it(pg_centre: Centre) -> None:
    ticket = pg_centre.issue("TPHT")
    one, _two = pg_centre.open(1), pg_centre.open(2)
    pg_centre.call_next(1, now=_minutes(1))
    engine.transfer(pg_centre.session, pg_centre.unit, one, actor=pg_centre.clerk(1),
                    now=_minutes(2), to_counter_id=pg_centre.counter(2).id, return_here=True)
    assert pg_centre.call_next(2, now=_minutes(3)).id == ticket.id
    with pytest.raises(NotFound):  # nobody else waits: counter 2's ticket is finished
        pg_centre.call_next(2, now=_minutes(8))
    back = pg_centre.session.get(Ticket, ticket.id)
    assert back is not None and back.state == "waiting"
    assert back.target_counter_id == one.id
    assert [a for a, _f, _t in _trail(pg_centre, ticket.id)][-2:] == ["finish", "return"]
    assert pg_centre.call_next(1, now=_minutes(9)).id == ticket.id
