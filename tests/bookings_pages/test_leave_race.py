""""I left" racing the clerk's call-next for the same ticket, from two processes on one
database (SQLite file, PostgreSQL): the ticket is either given up (and the clerk gets the
next one) or called (and the citizen told 409 ticket_not_waiting), never both."""

from __future__ import annotations

from sqlalchemy import select

from onestop import demo
from onestop.app import create_app
from onestop.extensions import db
from onestop.queueing.models import TicketEvent
from tests.api.helpers import act, in_db, issue, ok
from tests.bookings_pages import _workers
from tests.conftest import create_schema, race_processes, token_for

ROUNDS = 6


def test_i_left_against_call_next(race_config):
    app = create_app(race_config)
    create_schema(app.config["DATABASE_URL"])
    with app.app_context():
        demo.load(db.session())
        db.session.commit()
    client = app.test_client()
    token = token_for(client, "clerk1")  # counter 1 serves field 1 only
    ok(act(client, token, 1, "open"))
    tickets = [issue(client, token)["id"] for _ in range(2 * ROUNDS + 1)]
    db.engine.dispose()
    citizen, clerk = race_processes(_workers.player, [("citizen", app.config, ROUNDS),
                                                      ("clerk", app.config, ROUNDS)])
    for (head, status, code), (call_status, called) in zip(citizen["answers"], clerk["answers"],
                                                         strict=True):
        assert call_status == 200
        if status == 200:  # given up first: the clerk got someone else
            assert called != head
        else:  # called first: the citizen is told so
            assert (status, code, called) == (409, "ticket_not_waiting", head)
    with in_db(app) as session:
        events = session.execute(select(TicketEvent.ticket_id, TicketEvent.action).where(
            TicketEvent.ticket_id.in_(tickets), TicketEvent.action.in_(("call", "cancel")))).all()
    by_ticket: dict[int, set[str]] = {}
    for ticket_id, action in events:
        by_ticket.setdefault(ticket_id, set()).add(action)
    assert all(len(actions) == 1 for actions in by_ticket.values()), by_ticket  # never both
    # with a 100 ms head start the citizen wins that round (else the race was not run)
    assert any(status == 200 for _head, status, _code in citizen["answers"]), citizen["answers"]
