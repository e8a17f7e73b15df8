"""The manager acts from the dashboard over HTTP (issue 22 item 3): pause, resume and close a
counter (parked tickets need a choice), move a field's waiting tickets, a timed message on
the hall displays; each act audited; the counters' current tickets and how long they have
been served; the reception desk offered when a kiosk's printer is in alarm."""

from __future__ import annotations

from onestop.extensions import socketio
from onestop.realtime import events as ev
from tests.api.helpers import act, assert_error, counter_row, issue, ok, ticket_row
from tests.conftest import bearer, token_for
from tests.desk.helpers import audit_actions
from tests.printing.conftest import add_printing_device

BOARD = "/api/v1/dashboard"


def test_manager_pauses_resumes_and_closes_a_counter(app, client):
    manager, clerk = token_for(client, "manager"), token_for(client, "clerk1")
    ok(act(client, clerk, 1, "open"))
    first, second = issue(client, clerk), issue(client, clerk)
    ok(act(client, clerk, 1, "call-next"))
    ok(act(client, clerk, 1, "park", {"note": "đi photo"}))
    ok(act(client, clerk, 1, "call-next"))
    assert_error(client.post(f"{BOARD}/counters/1/pause", headers=bearer(clerk), json={"reason": "x"}),
                 403, "forbidden")
    board = ok(client.get(f"{BOARD}/desk", headers=bearer(manager)))
    one = board["counters"][0]
    assert (one["state"], one["current"]["label"], one["current"]["state"]) == ("open", second["label"],
                                                                               "called")
    assert one["current"]["seconds"] >= 0 and one["clerk"]
    paused = ok(client.post(f"{BOARD}/counters/1/pause", headers=bearer(manager),
                            json={"reason": "Họp giao ban"}))
    assert (paused["state"], paused["pause_reason"]) == ("paused", "Họp giao ban")
    assert ok(client.post(f"{BOARD}/counters/1/resume", headers=bearer(manager)))["state"] == "open"
    # the close rules of the counter's own close: parked tickets need a choice
    assert_error(client.post(f"{BOARD}/counters/1/close", headers=bearer(manager), json={}), 409,
                 "parked_tickets_need_a_choice")
    closed = ok(client.post(f"{BOARD}/counters/1/close", headers=bearer(manager),
                            json={"parked": "requeue"}))
    assert closed["state"] == "closed" and counter_row(app, 1)[1] is None
    assert ticket_row(app, first["id"])["state"] == "waiting"  # the parked one, back in line
    assert ticket_row(app, second["id"])["state"] == "missed"  # called, never came: can return
    assert [a[:2] for a in audit_actions(app) if a[1] == "counter"] == [
        ("counter.pause", "counter"), ("counter.resume", "counter"), ("counter.close", "counter")]


def test_manager_moves_a_fields_waiting_tickets(app, client):
    manager, clerk = token_for(client, "manager"), token_for(client, "clerk2")
    tickets = [issue(client, manager, service_id=1) for _ in range(3)]
    ok(act(client, clerk, 2, "open"))
    moved = ok(client.post(f"{BOARD}/move", headers=bearer(manager),
                           json={"service_id": 1, "to_counter_id": 2}))
    assert moved == {"moved": 3, "labels": [t["label"] for t in tickets]}
    assert_error(client.post(f"{BOARD}/move", headers=bearer(manager),
                             json={"service_id": 1, "to_counter_id": 5}), 409, "target_counter_closed")
    assert_error(client.post(f"{BOARD}/move", headers=bearer(manager), json={"service_id": 1}), 422,
                 "move_target_required")
    assert ok(act(client, clerk, 2, "call-next"))["id"] == tickets[0]["id"]
    # to another field: they keep their place there
    ok(client.post(f"{BOARD}/move", headers=bearer(manager), json={"service_id": 1, "to_service_id": 9}))
    assert ticket_row(app, tickets[2]["id"])["service_id"] == 9
    assert ("queue.move", "service", "1") in audit_actions(app)


def test_hall_message_until_its_end(app, client):
    manager = token_for(client, "manager")
    display = socketio.test_client(app, namespace=ev.DISPLAY_NS)
    display.get_received(ev.DISPLAY_NS)
    posted = ok(client.post(f"{BOARD}/message", headers=bearer(manager),
                            json={"text": "Hệ thống tạm dừng tiếp nhận 15 phút", "minutes": 15}))
    assert posted["text"] == "Hệ thống tạm dừng tiếp nhận 15 phút" and posted["until"]
    pushed = [e["args"][0] for e in display.get_received(ev.DISPLAY_NS) if e["name"] == "display.message"]
    assert [p["message"]["text"] for p in pushed] == [posted["text"]]
    config = ok(client.get("/display/config.json"))
    assert config["message"] == {"text": posted["text"], "until": posted["until"]}
    assert ok(client.get(f"{BOARD}/desk", headers=bearer(manager)))["message"]["text"] == posted["text"]
    ok(client.post(f"{BOARD}/message", headers=bearer(manager), json={"text": ""}))
    assert ok(client.get("/display/config.json"))["message"] is None
    assert [a[0] for a in audit_actions(app)].count("display.message") == 2
    display.disconnect(namespace=ev.DISPLAY_NS)


def test_kiosk_printer_alarm_offers_the_reception_desk(app, client):
    manager = token_for(client, "manager")
    add_printing_device(app, "kiosk", "Ki-ốt sảnh", "dummy://k1")
    assert ok(client.get(f"{BOARD}/desk", headers=bearer(manager)))["kiosk_printer_alarm"] is False
    add_printing_device(app, "kiosk", "Ki-ốt tầng 2", "dummy://k2", printer_status={"state": "paper_out"})
    assert ok(client.get(f"{BOARD}/desk", headers=bearer(manager)))["kiosk_printer_alarm"] is True
    web = app.test_client()
    from tests.backoffice.conftest import login

    login(web, "manager")
    page = web.get("/manager/").get_data(as_text=True)
    assert 'href="/counter/reception"' in page and 'id="desk-reception"' in page
