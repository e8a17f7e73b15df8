"""The clerk's moves over HTTP (issue 22 item 1): out-of-order calls and their setting, the
"Tìm số" search, a transfer's note and "trả về quầy tôi", the wait alerts."""

from __future__ import annotations

import datetime as dt

from onestop.queueing.models import Ticket
from tests.api.helpers import act, assert_error, in_db, issue, ok, snapshot, ticket_row
from tests.conftest import bearer, token_for
from tests.desk.helpers import events, set_unit


def _open(client, username, counter_id):
    token = token_for(client, username)
    ok(act(client, token, counter_id, "open"))
    return token


def test_out_of_order_call_refused_unless_the_unit_allows_it(app, client):
    clerk = _open(client, "clerk1", 1)
    first, second = issue(client, clerk), issue(client, clerk)
    before = snapshot(app)
    assert_error(act(client, clerk, 1, "call", {"ticket_id": second["id"], "reason": "người già"}),
                 409, "out_of_order_not_allowed")
    assert snapshot(app) == before
    set_unit(app, out_of_order_calls=True)
    called = ok(act(client, clerk, 1, "call", {"ticket_id": second["id"], "reason": "người già yếu"}))
    assert (called["label"], called["state"]) == (second["label"], "called")
    assert ticket_row(app, first["id"])["state"] == "waiting"
    action, from_state, to_state, details = events(app, second["id"])[-1]
    assert (action, from_state, to_state) == ("call", "waiting", "called")
    assert details == {"out_of_order": True, "reason": "người già yếu"}
    # a missed citizen who came back is no out-of-order call: allowed either way
    set_unit(app, out_of_order_calls=False)
    ok(act(client, clerk, 1, "skip"))
    assert ok(act(client, clerk, 1, "call", {"ticket_id": second["id"]}))["state"] == "called"


def test_search_finds_todays_tickets_with_state_and_place(app, client):
    clerk = _open(client, "clerk1", 1)
    tickets = [issue(client, clerk) for _ in range(12)]
    ok(act(client, clerk, 1, "call-next"))
    found = ok(client.get("/api/v1/tickets/search?q=a1", headers=bearer(clerk)))["tickets"]
    assert [t["label"] for t in found] == ["A001"]
    assert found[0]["state"] == "called" and found[0]["counter"]["number"] == 1
    found = ok(client.get("/api/v1/tickets/search?q=12", headers=bearer(clerk)))["tickets"]
    assert [(t["label"], t["state"], t["counter"]) for t in found] == [("A012", "waiting", None)]
    assert found[0]["waiting_ahead"] == 10
    assert ok(client.get("/api/v1/tickets/search?q=Z9", headers=bearer(clerk)))["tickets"] == []
    # yesterday's numbers are not today's
    with in_db(app) as session:
        old = session.get(Ticket, tickets[1]["id"])
        old.business_date -= dt.timedelta(days=1)
    assert ok(client.get("/api/v1/tickets/search?q=A002", headers=bearer(clerk)))["tickets"] == []
    assert_error(client.get("/api/v1/tickets/search?q=", headers=bearer(clerk)), 422)
    assert_error(client.get("/api/v1/tickets/search?q=A1"), 401)


def test_transfer_note_reaches_the_next_clerk_and_returns_to_my_counter(app, client):
    first = _open(client, "clerk1", 1)
    second = _open(client, "clerk2", 2)
    ticket = issue(client, first)
    ok(act(client, first, 1, "call-next"))
    moved = ok(act(client, first, 1, "transfer", {"counter_id": 2, "note": "Đã kiểm tra CCCD",
                                                  "return_here": True}))
    assert moved["state"] == "waiting" and moved["note"] == "Đã kiểm tra CCCD"
    at_two = ok(act(client, second, 2, "call-next"))
    assert (at_two["id"], at_two["note"]) == (ticket["id"], "Đã kiểm tra CCCD")
    # the next clerk sees the note on the ticket (the card reads GET /tickets/{id})
    assert ok(client.get(f"/api/v1/tickets/{ticket['id']}", headers=bearer(second)))["note"] == \
        "Đã kiểm tra CCCD"
    assert client.get(f"/api/v1/tickets/{ticket['id']}").get_json()["note"] is None  # public
    back = ok(act(client, second, 2, "finish", {"outcome": "served"}))
    assert back["state"] == "waiting"
    row = ticket_row(app, ticket["id"])
    assert row["state"] == "waiting"
    assert [e[0] for e in events(app, ticket["id"])][-3:] == ["call", "finish", "return"]
    # it waits for counter 1 only: counter 2 does not get it, counter 1 does
    assert_error(act(client, second, 2, "call-next"), 404, "queue_empty")
    again = ok(act(client, first, 1, "call-next"))
    assert again["id"] == ticket["id"]
    assert ok(act(client, first, 1, "finish", {"outcome": "served"}))["state"] == "done"


def test_transfer_without_return_finishes_at_the_target(app, client):
    first = _open(client, "clerk1", 1)
    second = _open(client, "clerk2", 2)
    ticket = issue(client, first)
    ok(act(client, first, 1, "call-next"))
    ok(act(client, first, 1, "transfer", {"counter_id": 2}))
    ok(act(client, second, 2, "call-next"))
    assert ok(act(client, second, 2, "finish", {"outcome": "served"}))["state"] == "done"
    assert ticket_row(app, ticket["id"])["state"] == "done"


def test_wait_alerts_by_field_threshold(app, client):
    clerk = _open(client, "clerk1", 1)
    ticket = issue(client, clerk)
    assert ok(client.get("/api/v1/desk/alerts", headers=bearer(clerk)))["alerts"] == []
    with in_db(app) as session:
        row = session.get(Ticket, ticket["id"])
        row.queue_at -= dt.timedelta(minutes=31)
    alerts = ok(client.get("/api/v1/desk/alerts", headers=bearer(clerk)))["alerts"]
    assert [(a["label"], a["threshold"]) for a in alerts] == [(ticket["label"], 30)]
    assert alerts[0]["waited_minutes"] >= 31
    with in_db(app) as session:  # the field's own threshold wins over the unit's
        session.get(Ticket, ticket["id"]).service.alert_wait_minutes = 45
    assert ok(client.get("/api/v1/desk/alerts", headers=bearer(clerk)))["alerts"] == []
