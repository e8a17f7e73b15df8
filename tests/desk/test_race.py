"""Two counters call the same waiting ticket out of order at the same moment, from two
processes on one database (SQLite file, PostgreSQL): one gets it, the other a 409."""

from __future__ import annotations

from sqlalchemy import select

from onestop import demo
from onestop.app import create_app
from onestop.extensions import db
from onestop.queueing.models import TicketEvent
from tests.api.helpers import act, in_db, issue, ok, ticket_row
from tests.conftest import create_schema, race_processes, token_for
from tests.desk import _workers
from tests.desk.helpers import set_unit

ROUNDS = 4


def test_two_counters_race_for_one_ticket_out_of_order(race_config):
    app = create_app(race_config)
    create_schema(app.config["DATABASE_URL"])
    with app.app_context():
        demo.load(db.session())
        db.session.commit()
    client = app.test_client()
    set_unit(app, out_of_order_calls=True)
    tokens = {n: token_for(client, f"clerk{n}") for n in (1, 2)}
    for n in (1, 2):  # counters 1 and 2 both serve field 1
        ok(act(client, tokens[n], n, "open"))
    tickets = [issue(client, tokens[1])["id"] for _ in range(ROUNDS + 2)]
    targets = tickets[2:]  # never the head of the queue: out of order every time
    db.engine.dispose()
    rows = race_processes(_workers.call_worker,
                          [(app.config, "clerk1", 1, targets), (app.config, "clerk2", 2, targets)])
    for round_ in range(ROUNDS):
        answers = sorted(rows[i]["answers"][round_][1:] for i in (0, 1))
        assert answers == [(200, None), (409, "invalid_state")], answers
    with in_db(app) as session:
        calls = session.execute(select(TicketEvent.ticket_id, TicketEvent.details).where(
            TicketEvent.action == "call", TicketEvent.ticket_id.in_(targets))).all()
    assert sorted(t for t, _d in calls) == sorted(targets)  # each called once, never twice
    assert all(d["out_of_order"] and d["reason"].startswith("quầy ") for _t, d in calls)
    assert [ticket_row(app, t)["state"] for t in tickets[:2]] == ["waiting", "waiting"]
