"""How many SQL statements the two busiest requests run: a regression guard for speed.

Issuing a ticket at a kiosk and calling the next one are what a centre does hundreds of
times an hour, and on one server process their cost is mostly the database layer's per
statement (DESIGN §7, bench/run_all.py). A change that adds a query to either path shows
here first; raise a budget only with a reason.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event, select

from onestop.extensions import db
from onestop.queueing.models import TicketEvent
from tests.api.helpers import add_device, in_db
from tests.conftest import bearer, token_for

# device and its unit (one statement), the field, the day's number, the ticket, its event,
# the webhooks subscribed, the people ahead (the rates behind the estimated wait are cached
# for a while, onestop/queueing/estimate.py)
ISSUE_BUDGET = 7
# user and unit with the token (one statement), the counter locked with its fields' ids, the
# ticket at the counter, its finish (update ... returning, event), the field, the best of the
# queue heads (one statement), the claim, its event, the field's waiting count, the webhooks
# (the same field is read once; the counter's count of normal calls is written only until it
# reaches the interleave step, onestop/queueing/engine.py)
CALL_NEXT_BUDGET = 11


@contextmanager
def counting(app: Any) -> Iterator[list[str]]:
    """The statements of the request's own transaction, up to its commit. What runs after
    it (the tests' app recounts the waiting lists at once; a server does it once per
    0.25 s tick for every request of the tick, onestop/realtime/hub.py) is not counted."""
    with app.app_context():
        engine = db.engine
    seen: list[str] = []
    committed: list[bool] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        if not committed:
            seen.append(" ".join(statement.split())[:120])

    def commit(_conn: Any) -> None:
        committed.append(True)

    event.listen(engine, "before_cursor_execute", record)
    event.listen(engine, "commit", commit)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)
        event.remove(engine, "commit", commit)
    assert committed, "the request committed nothing"


def test_issuing_at_a_kiosk_stays_within_its_statements(app: Any, client: Any) -> None:
    kiosk = bearer(add_device(app, "kiosk", "K1"))
    for _ in range(2):  # the second one reads the service rates behind the estimate (cached)
        assert client.post("/api/v1/tickets", json={"service_id": 1}, headers=kiosk).status_code == 201
    with counting(app) as seen:
        res = client.post("/api/v1/tickets", json={"service_id": 1}, headers=kiosk)
    assert res.status_code == 201, res.get_json()
    assert res.get_json()["waiting_ahead"] == 2 and res.get_json()["source"] == "kiosk"
    assert len(seen) <= ISSUE_BUDGET, "\n".join(seen)
    assert not any(s.startswith("SELECT units.") for s in seen[1:]), seen  # with the device
    with in_db(app) as session:  # the event written by a plain insert is there, complete
        row = session.scalars(select(TicketEvent).where(
            TicketEvent.ticket_id == res.get_json()["id"])).one()
        assert (row.action, row.from_state, row.to_state) == ("issue", None, "waiting")
        assert row.actor_device_id is not None and row.details == {
            "priority": "none", "source": "kiosk"}


def test_call_next_stays_within_its_statements(app: Any, client: Any) -> None:
    kiosk = bearer(add_device(app, "kiosk", "K1"))
    for _ in range(6):
        client.post("/api/v1/tickets", json={"service_id": 1}, headers=kiosk)
    clerk = bearer(token_for(client, "clerk1"))
    assert client.post("/api/v1/counters/1/open", headers=clerk).status_code == 200
    for _ in range(4):  # past the unit's interleave step (3): the usual run of calls
        assert client.post("/api/v1/counters/1/call-next", headers=clerk).status_code == 200
    with counting(app) as seen:
        res = client.post("/api/v1/counters/1/call-next", headers=clerk)
    assert res.status_code == 200, res.get_json()
    assert res.get_json()["state"] == "called" and res.get_json()["counter"]["number"] == 1
    assert len(seen) <= CALL_NEXT_BUDGET, "\n".join(seen)
    assert not any(s.startswith("SELECT units.") for s in seen[1:]), seen
