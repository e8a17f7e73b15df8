"""Socket.IO in process: /display snapshots and calls, /counter authentication and pushes."""

from __future__ import annotations

from typing import Any

import pytest

from onestop.extensions import socketio
from onestop.realtime import events as ev
from tests.api.helpers import act, add_device, assert_error, issue, ok, set_service
from tests.conftest import token_for


def received(sio: Any, namespace: str, name: str | None = None) -> list[Any]:
    """Events received since the last call, optionally only ``name``; each as its payload."""
    events = sio.get_received(namespace)
    return [e["args"][0] for e in events if name is None or e["name"] == name]


def display(app: Any, client: Any, **auth: Any) -> Any:
    sio = socketio.test_client(app, namespace=ev.DISPLAY_NS, flask_test_client=client,
                               auth=auth or None)
    assert sio.is_connected(ev.DISPLAY_NS)
    return sio


@pytest.fixture
def clerk(client: Any) -> str:
    token = token_for(client, "clerk1")
    ok(act(client, token, 1, "open"))
    return token


def test_state_on_connect(app, client):
    sio = display(app, client)
    events = sio.get_received(ev.DISPLAY_NS)
    assert [e["name"] for e in events] == [ev.STATE]
    state = events[0]["args"][0]
    assert state["unit"]["code"] == "H56.12.3"
    assert state["unit"]["name"].startswith("Trung tâm Phục vụ hành chính công")
    assert [c["number"] for c in state["counters"]] == list(range(1, 9))
    assert {"recent_calls", "waiting", "zones", "at"} <= set(state)
    sio.disconnect(ev.DISPLAY_NS)


def test_state_again_on_reconnect(app, client, clerk):
    issue(client, clerk)
    ok(act(client, clerk, 1, "call-next"))
    sio = display(app, client)
    first = received(sio, ev.DISPLAY_NS, ev.STATE)
    assert first[0]["recent_calls"][0]["ticket"]["label"] == "A001"
    sio.disconnect(ev.DISPLAY_NS)
    sio.connect(ev.DISPLAY_NS)
    again = received(sio, ev.DISPLAY_NS, ev.STATE)
    assert len(again) == 1 and again[0]["recent_calls"] == first[0]["recent_calls"]


def test_zone_snapshot(app, client):
    sio = display(app, client, zone="B")
    state = received(sio, ev.DISPLAY_NS, ev.STATE)[0]
    assert state["zones"] == ["B"]
    assert state["counters"] and {c["zone"] for c in state["counters"]} == {"B"}
    assert {w["service_id"] for w in state["waiting"]} == {4, 5, 6, 7, 8}


def test_unknown_unit_is_refused(app, client):
    sio = socketio.test_client(app, namespace=ev.DISPLAY_NS, flask_test_client=client,
                               auth={"unit": "NOPE"})
    assert not sio.is_connected(ev.DISPLAY_NS)


def test_ticket_called(app, client, clerk):
    ticket = issue(client, clerk)
    sio = display(app, client)
    sio.get_received(ev.DISPLAY_NS)
    ok(act(client, clerk, 1, "call-next"))
    calls = received(sio, ev.DISPLAY_NS, ev.TICKET_CALLED)
    assert len(calls) == 1
    call = calls[0]
    assert call["ticket"]["id"] == ticket["id"]
    assert call["ticket"]["label"] == "A001"
    assert call["ticket"]["service"] == "Tư pháp – Hộ tịch"
    assert call["counter"] == {"id": 1, "number": 1, "name": "Quầy 1"}
    assert call["recall"] is False
    assert isinstance(call["at"], str) and call["at"].endswith("Z")


def test_a_call_carries_the_fields_new_count(app, client, clerk):
    """Displays learn the called field's count from ticket.called; the queue.changed that
    would repeat it is not sent to them (one frame per display per call, not two), while
    staff screens still get it. A real change (an issue) is sent to displays as before."""
    issue(client, clerk)
    issue(client, clerk)
    hall = display(app, client)
    hall.get_received(ev.DISPLAY_NS)
    staff = counter_client(app, app.test_client(), token=clerk)
    staff.get_received(ev.COUNTER_NS)
    ok(act(client, clerk, 1, "call-next"))
    events = hall.get_received(ev.DISPLAY_NS)
    assert [e["name"] for e in events] == [ev.TICKET_CALLED]
    assert events[0]["args"][0]["waiting"] == [{"service_id": 1, "waiting": 1}]
    staff_events = {e["name"]: e["args"][0] for e in staff.get_received(ev.COUNTER_NS)}
    assert staff_events[ev.QUEUE_CHANGED]["waiting"] == [{"service_id": 1, "waiting": 1}]
    issue(client, clerk)
    changed = received(hall, ev.DISPLAY_NS, ev.QUEUE_CHANGED)
    assert [c["waiting"] for c in changed] == [[{"service_id": 1, "waiting": 2}]]
    ok(act(client, clerk, 1, "recall"))  # the count did not change: the same count again
    recall = received(hall, ev.DISPLAY_NS)
    assert [e["waiting"] for e in recall] == [[{"service_id": 1, "waiting": 2}]]


def test_a_count_another_instance_changed_is_sent_again(app, client, clerk):
    """Scaled out, another instance may have told displays a newer count: a count this
    process sent earlier is no reason to hold back the same count now."""
    from sqlalchemy import update

    from onestop.extensions import db
    from onestop.queueing.models import Ticket

    hall = display(app, client)
    hall.get_received(ev.DISPLAY_NS)
    issue(client, clerk)
    assert [c["waiting"] for c in received(hall, ev.DISPLAY_NS, ev.QUEUE_CHANGED)] == [
        [{"service_id": 1, "waiting": 1}]]
    with app.app_context(), db.engine.begin() as conn:  # the other instance calls it
        conn.execute(update(Ticket).values(state="called", counter_id=2))
    issue(client, clerk)  # back to 1 waiting, which displays last heard as 0
    assert [c["waiting"] for c in received(hall, ev.DISPLAY_NS, ev.QUEUE_CHANGED)] == [
        [{"service_id": 1, "waiting": 1}]]


def test_recall_is_flagged(app, client, clerk):
    issue(client, clerk)
    ok(act(client, clerk, 1, "call-next"))
    sio = display(app, client)
    sio.get_received(ev.DISPLAY_NS)
    ok(act(client, clerk, 1, "recall"))
    calls = received(sio, ev.DISPLAY_NS, ev.TICKET_CALLED)
    assert [(c["ticket"]["label"], c["recall"]) for c in calls] == [("A001", True)]


def test_display_is_not_told_of_issue_details(app, client, clerk):
    sio = display(app, client)
    sio.get_received(ev.DISPLAY_NS)
    issue(client, clerk)
    names = [e["name"] for e in sio.get_received(ev.DISPLAY_NS)]
    assert ev.TICKET_ISSUED not in names and ev.TICKET_CALLED not in names
    assert ev.QUEUE_CHANGED in names


def test_zone_display_only_gets_its_zone(app, client, clerk):
    zone_b = display(app, client, zone="B")
    zone_a = display(app, client, zone="A")
    whole = display(app, client)
    for sio in (zone_b, zone_a, whole):
        sio.get_received(ev.DISPLAY_NS)
    issue(client, clerk, 1)  # service 1 is in zone A
    ok(act(client, clerk, 1, "call-next"))
    assert received(zone_b, ev.DISPLAY_NS, ev.TICKET_CALLED) == []
    assert len(received(zone_a, ev.DISPLAY_NS, ev.TICKET_CALLED)) == 1
    assert len(received(whole, ev.DISPLAY_NS, ev.TICKET_CALLED)) == 1


def test_multi_zone_display_gets_each_call_once(app, client, clerk):
    both = display(app, client, zone="A,B")
    assert received(both, ev.DISPLAY_NS, ev.STATE)[0]["zones"] == ["A", "B"]
    issue(client, clerk, 1)
    ok(act(client, clerk, 1, "call-next"))
    assert len(received(both, ev.DISPLAY_NS, ev.TICKET_CALLED)) == 1


def test_zone_b_display_gets_zone_b_call(app, client):
    clerk5 = token_for(client, "clerk5")
    ok(act(client, clerk5, 5, "open"))
    zone_b = display(app, client, zone="B")
    zone_b.get_received(ev.DISPLAY_NS)
    issue(client, clerk5, 4)  # service 4 (KTHT) is in zone B, served at counter 5
    ok(act(client, clerk5, 5, "call-next"))
    calls = received(zone_b, ev.DISPLAY_NS, ev.TICKET_CALLED)
    assert [(c["ticket"]["label"], c["counter"]["number"]) for c in calls] == [("D001", 5)]


def test_paired_display_zones_from_settings(app, client, clerk):
    from onestop.accounts.models import Device
    from tests.api.helpers import in_db

    token = add_device(app, "display", "TV B")
    with in_db(app) as session:
        session.query(Device).one().settings = {"zones": ["B"]}
    sio = display(app, client, token=token, zone="A")  # the device's own settings win
    state = received(sio, ev.DISPLAY_NS, ev.STATE)[0]
    assert state["zones"] == ["B"] and state["device"]["name"] == "TV B"
    issue(client, clerk, 1)
    ok(act(client, clerk, 1, "call-next"))
    assert received(sio, ev.DISPLAY_NS, ev.TICKET_CALLED) == []


def test_failed_action_emits_nothing(app, client, clerk, monkeypatch):
    from onestop.api import counters

    issue(client, clerk)
    sio = display(app, client)
    sio.get_received(ev.DISPLAY_NS)

    def explode(*_args: Any, **_kwargs: Any) -> Any:
        raise RuntimeError("after the engine called the ticket")

    with monkeypatch.context() as patch:
        patch.setattr(counters, "ticket_dict", explode)
        assert_error(act(client, clerk, 1, "call-next"), 500, "internal_error")
    assert sio.get_received(ev.DISPLAY_NS) == []
    # the ticket still waits; the next call announces it exactly once
    assert ok(client.get("/api/v1/tickets/1"))["state"] == "waiting"
    ok(act(client, clerk, 1, "call-next"))
    assert len(received(sio, ev.DISPLAY_NS, ev.TICKET_CALLED)) == 1


def test_refused_actions_emit_nothing(app, client, clerk):
    sio = display(app, client)
    sio.get_received(ev.DISPLAY_NS)
    assert_error(act(client, clerk, 1, "call-next"), 404, "queue_empty")
    assert_error(act(client, clerk, 1, "recall"), 409, "no_current_ticket")
    set_service(app, 1, daily_cap=1)
    issue(client, clerk, 1)
    sio.get_received(ev.DISPLAY_NS)
    assert_error(client.post("/api/v1/tickets", json={"service_id": 1},
                             headers={"Authorization": f"Bearer {clerk}"}), 409,
                 "daily_cap_reached")
    set_service(app, 2, active=False)
    assert_error(client.post("/api/v1/tickets", json={"service_id": 2},
                             headers={"Authorization": f"Bearer {clerk}"}), 409, "service_closed")
    assert sio.get_received(ev.DISPLAY_NS) == []


def test_display_events_are_read_only(app, client, clerk):
    issue(client, clerk)
    sio = display(app, client)
    sio.get_received(ev.DISPLAY_NS)
    for name in ("ticket.call", "call-next", "counter.open", ev.TICKET_CALLED):
        sio.emit(name, {"counter_id": 1}, namespace=ev.DISPLAY_NS)
    assert ok(client.get("/api/v1/tickets/1"))["state"] == "waiting"
    assert received(sio, ev.DISPLAY_NS, ev.TICKET_CALLED) == []


# --- /counter ----------------------------------------------------------------------------


def counter_client(app: Any, client: Any, **auth: Any) -> Any:
    return socketio.test_client(app, namespace=ev.COUNTER_NS, flask_test_client=client,
                                auth=auth or None)


def test_counter_namespace_refuses_anonymous(app, client):
    fresh = app.test_client()
    assert not counter_client(app, fresh).is_connected(ev.COUNTER_NS)
    assert not counter_client(app, fresh, token="bogus").is_connected(ev.COUNTER_NS)


def test_counter_namespace_refuses_kiosk_display_and_integration(app, client):
    from tests.api.helpers import add_integration_user

    fresh = app.test_client()
    for kind in ("kiosk", "display"):
        token = add_device(app, kind, f"{kind}-1")
        assert not counter_client(app, fresh, token=token).is_connected(ev.COUNTER_NS)
    integration = add_integration_user(app, client)
    assert not counter_client(app, fresh, token=integration).is_connected(ev.COUNTER_NS)


def test_counter_namespace_refuses_revoked_token(app, client):
    token = token_for(client, "clerk1")
    ok(client.post("/api/v1/auth/revoke", headers={"Authorization": f"Bearer {token}"}))
    assert not counter_client(app, app.test_client(), token=token).is_connected(ev.COUNTER_NS)


def test_clerk_gets_queue_changed_after_issue(app, client):
    token = token_for(client, "clerk1")
    sio = counter_client(app, app.test_client(), token=token)
    assert sio.is_connected(ev.COUNTER_NS)
    sio.get_received(ev.COUNTER_NS)
    kiosk = add_device(app, "kiosk", "K1")
    res = client.post("/api/v1/tickets", json={"service_id": 1},
                      headers={"Authorization": f"Bearer {kiosk}"})
    assert res.status_code == 201
    events = {e["name"]: e["args"][0] for e in sio.get_received(ev.COUNTER_NS)}
    assert events[ev.QUEUE_CHANGED]["waiting"] == [{"service_id": 1, "waiting": 1}]
    assert events[ev.TICKET_ISSUED]["ticket"]["label"] == "A001"


def test_counter_device_joins_its_counter(app, client, clerk):
    token = add_device(app, "counter-display", "LED 1", counter_number=1)
    sio = counter_client(app, app.test_client(), token=token)
    assert sio.is_connected(ev.COUNTER_NS)
    sio.get_received(ev.COUNTER_NS)
    issue(client, clerk)
    ok(act(client, clerk, 1, "call-next"))
    calls = received(sio, ev.COUNTER_NS, ev.TICKET_CALLED)
    assert [c["ticket"]["label"] for c in calls] == ["A001"]


def test_cookie_session_clerk_may_connect(app, client):
    from tests.api.test_errors import login_with_form

    login_with_form(client, "clerk2")
    sio = counter_client(app, client)
    assert sio.is_connected(ev.COUNTER_NS)
    sio.disconnect(ev.COUNTER_NS)


def test_nothing_is_emitted_before_the_outer_commit(app):
    """A savepoint (the numbering one) is released mid-transaction: events wait for commit."""
    from onestop.extensions import db as database
    from onestop.queueing import engine
    from onestop.queueing.models import Service
    from onestop.units.models import Unit
    from tests.conftest import MONDAY_9

    display = socketio.test_client(app, namespace=ev.DISPLAY_NS)
    display.get_received(ev.DISPLAY_NS)
    with app.app_context():
        session = database.session()
        unit = session.get(Unit, 1)
        engine.issue_ticket(session, unit, session.get(Service, 1), actor=engine.SYSTEM,
                            now=MONDAY_9, always_open=True)
        assert display.get_received(ev.DISPLAY_NS) == []
        session.commit()
    names = [e["name"] for e in display.get_received(ev.DISPLAY_NS)]
    assert ev.QUEUE_CHANGED in names
