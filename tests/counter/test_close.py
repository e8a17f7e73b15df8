"""Closing a counter over HTTP: the figures stay true and nobody is left stranded.

A ticket called but never started becomes missed (it can come back), not served; a ticket
being served is finished; tickets parked at the counter need an explicit choice (back to
the queue, or held at another counter) and none stays at the closed counter.
"""

from __future__ import annotations

from typing import Any

from tests.api.helpers import act, assert_error, counter_row, issue, ok, ticket_row
from tests.conftest import bearer, token_for

DAY = "2026-11-23"  # the frozen clock's business day (tests/counter/conftest.py)


def _summary(client: Any, counter_id: int | None = None) -> dict[str, Any]:
    manager = token_for(client, "manager")
    url = f"/api/v1/reports/summary?from={DAY}&to={DAY}"
    if counter_id:
        url += f"&counter_id={counter_id}"
    return ok(client.get(url, headers=bearer(manager)))


def _queue(client: Any, token: str, counter_id: int) -> dict[str, Any]:
    return ok(client.get(f"/api/v1/counters/{counter_id}/queue", headers=bearer(token)))


def test_a_called_ticket_becomes_missed_not_served(app, client, frozen):
    clerk = token_for(client, "clerk1")
    ok(act(client, clerk, 1, "open"))
    ticket = issue(client, clerk, 1)
    ok(act(client, clerk, 1, "call-next"))
    body = ok(act(client, clerk, 1, "close"))
    assert body["state"] == "closed" and body["serving"] is None
    row = ticket_row(app, ticket["id"])
    assert row["state"] == "missed" and row["outcome"] is None
    summary = _summary(client)
    assert (summary["served"], summary["missed"]) == (0, 1)
    # the citizen came back: the ticket waits again
    assert ok(client.post(f"/api/v1/tickets/{ticket['id']}/requeue", headers=bearer(clerk)))[
        "state"] == "waiting"


def test_a_ticket_being_served_is_finished(app, client, frozen):
    clerk = token_for(client, "clerk1")
    ok(act(client, clerk, 1, "open"))
    ticket = issue(client, clerk, 1)
    ok(act(client, clerk, 1, "call-next"))
    ok(act(client, clerk, 1, "start"))
    ok(act(client, clerk, 1, "close"))
    row = ticket_row(app, ticket["id"])
    assert (row["state"], row["outcome"]) == ("done", "counter_closed")
    assert (_summary(client)["served"], _summary(client)["missed"]) == (1, 0)


def test_parked_tickets_need_a_choice(app, client, frozen):
    clerk = token_for(client, "clerk1")
    ok(act(client, clerk, 1, "open"))
    parked, called = issue(client, clerk, 1), issue(client, clerk, 1)
    ok(act(client, clerk, 1, "call-next"))
    ok(act(client, clerk, 1, "park", {"note": "Đi sao chụp"}))
    ok(act(client, clerk, 1, "call-next"))
    error = assert_error(act(client, clerk, 1, "close"), 409, "parked_tickets_need_a_choice")
    assert error["labels"] == [parked["label"]]
    assert "tạm giữ" in error["message"]
    # refused: nothing changed
    assert counter_row(app, 1)[0] == "open"
    assert ticket_row(app, parked["id"])["state"] == "parked"
    assert ticket_row(app, called["id"])["state"] == "called"
    for body in ({"parked": "counter"}, {"parked": "requeue", "to_counter_id": 2},
                 {"parked": "elsewhere"}):
        assert_error(act(client, clerk, 1, "close", body), 422)
    assert_error(act(client, clerk, 1, "close", {"parked": "counter", "to_counter_id": 2}), 409,
                 "target_counter_closed")  # counter 2 is closed
    assert_error(act(client, clerk, 1, "close", {"parked": "counter", "to_counter_id": 1}), 404,
                 "counter_not_found")
    assert counter_row(app, 1)[0] == "open"


def test_parked_tickets_back_to_the_queue(app, client, frozen):
    clerk = token_for(client, "clerk1")
    ok(act(client, clerk, 1, "open"))
    parked = issue(client, clerk, 1)
    later = issue(client, clerk, 1)
    ok(act(client, clerk, 1, "call-next"))
    ok(act(client, clerk, 1, "park", {"note": ""}))
    ok(act(client, clerk, 1, "close", {"parked": "requeue"}))
    row = ticket_row(app, parked["id"])
    assert (row["state"], row["counter_id"]) == ("waiting", None)
    # at the place it had: it is called before the ticket issued after it
    clerk2 = token_for(client, "clerk2")
    ok(act(client, clerk2, 2, "open"))  # counter 2 serves field 1 too
    assert ok(act(client, clerk2, 2, "call-next"))["id"] == parked["id"]
    assert ticket_row(app, later["id"])["state"] == "waiting"
    assert _queue(client, clerk2, 1)["parked"] == []


def test_parked_tickets_to_another_counter_by_a_manager(app, client, frozen):
    clerk, clerk2 = token_for(client, "clerk1"), token_for(client, "clerk2")
    manager = token_for(client, "manager")
    ok(act(client, clerk, 1, "open"))
    ok(act(client, clerk2, 2, "open"))
    first, second = issue(client, clerk, 1), issue(client, clerk, 1)
    for _ticket in (first, second):
        ok(act(client, clerk, 1, "call-next"))
        ok(act(client, clerk, 1, "park", {"note": "Đi sao chụp"}))
    # a manager closes counter 1 for the clerk and sends the parked tickets to counter 2
    body = ok(act(client, manager, 1, "close", {"parked": "counter", "to_counter_id": 2}))
    assert body["state"] == "closed" and body["clerk"] is None
    assert _queue(client, clerk, 1)["parked"] == []
    moved = _queue(client, clerk2, 2)["parked"]
    assert [(t["id"], t["note"]) for t in moved] == [(first["id"], "Đi sao chụp"),
                                                     (second["id"], "Đi sao chụp")]
    # the clerk at counter 2 calls the citizen back when they return
    called = ok(act(client, clerk2, 2, "call", {"ticket_id": second["id"]}))
    assert called["state"] == "called" and called["counter"]["number"] == 2


def test_closing_without_parked_tickets_needs_no_body(app, client, frozen):
    clerk = token_for(client, "clerk1")
    ok(act(client, clerk, 1, "open"))
    assert ok(act(client, clerk, 1, "close"))["state"] == "closed"
    ok(act(client, clerk, 1, "open"))
    assert ok(act(client, clerk, 1, "close", {}))["state"] == "closed"
