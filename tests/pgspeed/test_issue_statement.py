"""PostgreSQL ticket issue (issue 24): the number, the ticket and its "issue" event are
written by one statement, so that the day's counter row (locked from the numbering until
the commit, for gapless numbers) is held over as few round trips as possible. What a
citizen and the audit trail see must stay what the SQLite path gives: the labels, the
cap and the block refusals with their number given back, the event."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import event, select, text

from onestop.queueing.engine import Actor
from onestop.queueing.errors import DomainError
from onestop.queueing.models import Ticket, TicketEvent
from tests.conftest import MONDAY_9
from tests.queueing.conftest import Centre

pytestmark = pytest.mark.postgres


def _statements(centre: Centre) -> list[str]:
    seen: list[str] = []
    engine = centre.session.get_bind()

    def before(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", before)
    return seen


def _day_counter(centre: Centre, service_id: int) -> int:
    return int(centre.session.execute(text(
        "SELECT last FROM daily_counters WHERE scope = :s"), {"s": f"service:{service_id}"}
    ).scalar_one())


def test_number_ticket_and_event_are_one_statement(pg_centre: Centre) -> None:
    service = pg_centre.service("TPHT")
    pg_centre.issue("TPHT")  # the service and the unit are loaded by now
    kiosk = Actor(device_id=None, user_id=pg_centre.user_id("clerk1"))
    seen = _statements(pg_centre)
    ticket = pg_centre.issue("TPHT", now=MONDAY_9 + dt.timedelta(minutes=1), actor=kiosk,
                             source="counter", priority="elderly", phone="0912345678")
    writes = [s for s in seen if "daily_counters" in s or "ticket_events" in s
              or "INSERT INTO tickets" in s]
    assert len(writes) == 1 and all(w in writes[0] for w in (
        "INSERT INTO daily_counters", "INSERT INTO tickets", "INSERT INTO ticket_events"))
    assert (ticket.label, ticket.number, ticket.state, ticket.priority, ticket.source) == (
        "A002", 2, "waiting", "elderly", "counter")
    assert (ticket.recall_count, ticket.print_state, ticket.phone) == (0, "none", "0912345678")
    assert ticket.issued_at == ticket.queue_at == MONDAY_9 + dt.timedelta(minutes=1)
    stored = pg_centre.session.scalars(select(TicketEvent).where(
        TicketEvent.ticket_id == ticket.id)).all()
    assert [(e.action, e.from_state, e.to_state, e.actor_user_id, e.service_id, e.counter_id,
             e.details) for e in stored] == [
        ("issue", None, "waiting", kiosk.user_id, service.id, None,
         {"priority": "elderly", "source": "counter"})]
    assert stored[0].at == MONDAY_9 + dt.timedelta(minutes=1)
    pg_centre.session.expire_all()  # what the database holds is what was loaded
    again = pg_centre.session.get(Ticket, ticket.id)
    assert again is not None and (again.label, again.issued_service_id) == ("A002", service.id)


def test_labels_past_three_digits_and_numbered_blocks(pg_centre: Centre) -> None:
    service = pg_centre.service("TPHT")
    service.daily_cap = None  # the demo's cap would refuse number 999
    pg_centre.issue("TPHT")
    pg_centre.session.execute(text("UPDATE daily_counters SET last = 998 WHERE scope = :s"),
                              {"s": f"service:{service.id}"})
    assert [pg_centre.issue("TPHT").label for _ in range(2)] == ["A999", "A1000"]
    other = pg_centre.service("LDTBXH")
    other.block_start, other.block_end, other.daily_cap = 7, 8, None
    labels = [pg_centre.issue("LDTBXH").label for _ in range(2)]
    assert labels == [f"{other.prefix}7", f"{other.prefix}8"]
    with pytest.raises(DomainError) as refused:
        pg_centre.issue("LDTBXH")
    assert refused.value.code == "daily_cap_reached"
    assert _day_counter(pg_centre, other.id) == 2  # the refused number went back


def test_the_cap_refuses_gives_back_and_over_cap_passes(pg_centre: Centre) -> None:
    service = pg_centre.service("TPHT")
    service.daily_cap = 1
    pg_centre.issue("TPHT")
    before = pg_centre.session.scalar(select(TicketEvent.id).order_by(TicketEvent.id.desc()))
    with pytest.raises(DomainError) as refused:
        pg_centre.issue("TPHT")
    assert refused.value.code == "daily_cap_reached" and refused.value.details["cap"] == 1
    assert _day_counter(pg_centre, service.id) == 1
    assert pg_centre.session.scalar(select(TicketEvent.id).order_by(TicketEvent.id.desc())) \
        == before  # no event for the refused ticket
    assert pg_centre.issue("TPHT", over_cap=True).label == "A002"
    assert _day_counter(pg_centre, service.id) == 2
