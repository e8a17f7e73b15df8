"""Realtime: the counter's tablet is asked when its clerk finishes; managers see ratings."""

from __future__ import annotations

from typing import Any

from onestop.extensions import socketio
from onestop.realtime import events as ev
from tests.api.helpers import act, issue, ok, user_id
from tests.conftest import token_for
from tests.ratings.conftest import rate, served, set_unit, tablet


def connect(app: Any, client: Any, token: str) -> Any:
    sio = socketio.test_client(app, namespace=ev.COUNTER_NS, flask_test_client=client,
                               auth={"token": token})
    assert sio.is_connected(ev.COUNTER_NS)
    sio.get_received(ev.COUNTER_NS)
    return sio


def events(sio: Any, name: str) -> list[dict[str, Any]]:
    return [e["args"][0] for e in sio.get_received(ev.COUNTER_NS) if e["name"] == name]


def test_the_tablet_is_asked_when_its_counter_finishes(app, client):
    set_unit(app, rating_timeout_seconds=12)
    three, four = connect(app, client, tablet(app, 3)), connect(app, client, tablet(app, 4))
    ticket = served(client, 3)
    [asked] = events(three, ev.RATING_REQUESTED)
    assert asked["ticket"] == {"id": ticket["id"], "label": ticket["label"], "service": "Đất đai",
                               "service_id": 2, "booked": False}
    assert asked["counter"] == {"id": 3, "number": 3, "name": "Quầy 3"}
    assert asked["clerk"]["id"] == user_id(app, "clerk3") and asked["clerk"]["name"]
    assert [lv["code"] for lv in asked["levels"]] == ["very_satisfied", "satisfied", "dissatisfied"]
    assert (asked["scale"], asked["timeout_seconds"]) == ("3", 12)
    assert events(four, ev.RATING_REQUESTED) == []  # another counter's tablet stays idle


def test_call_next_finishes_and_asks_too(app, client):
    sio = connect(app, client, tablet(app, 3))
    first = served(client, 3, finish=False)
    clerk = token_for(client, "clerk3")
    issue(client, clerk, 2)
    ok(act(client, clerk, 3, "call-next"))  # finishes the first ticket, calls the next
    received = sio.get_received(ev.COUNTER_NS)
    [asked] = [e["args"][0] for e in received if e["name"] == ev.RATING_REQUESTED]
    # the finished ticket as call-next wrote it (a row of its UPDATE, not a loaded Ticket)
    assert asked["ticket"] == {"id": first["id"], "label": first["label"], "service": "Đất đai",
                               "service_id": 2, "booked": False}
    assert asked["at"].endswith("Z") and asked["counter"]["number"] == 3
    changed = [e["args"][0] for e in received if e["name"] == ev.TICKET_CHANGED]
    assert {"id": first["id"], "label": first["label"], "state": "done", "service_id": 2,
            "counter_id": 3} in [c["ticket"] for c in changed]


def test_managers_see_rating_created(app, client):
    token = tablet(app, 3)
    manager = connect(app, client, token_for(client, "manager"))
    ticket = served(client, 3)
    saved = ok(rate(client, token, ticket["id"], "satisfied"), 201)
    [created] = events(manager, ev.RATING_CREATED)
    assert created["rating"] == {"id": saved["id"], "ticket_id": ticket["id"], "dossier_id": None,
                                 "level": "satisfied", "score": 2, "counter_id": 3, "service_id": 2,
                                 "source": "tablet"}
    assert created["at"]


def test_nothing_is_sent_for_a_refused_rating(app, client):
    manager = connect(app, client, token_for(client, "manager"))
    ticket = served(client, 3, finish=False)
    rate(client, tablet(app, 3), ticket["id"], "satisfied")
    assert events(manager, ev.RATING_CREATED) == []


def test_revoking_a_tablet_closes_its_socket(app, client):
    """A stolen tablet's open connection does not outlive its revocation; another tablet's
    connection stays."""
    from sqlalchemy import select

    from onestop.accounts.models import Device
    from onestop.extensions import db

    stolen, kept = connect(app, client, tablet(app, 3)), connect(app, client, tablet(app, 4))
    with app.app_context():
        device_id = db.session.scalar(select(Device.id).where(Device.kind == "tablet",
                                                              Device.counter_id == 3))
    admin = {"Authorization": f"Bearer {token_for(client, 'admin')}"}
    ok(client.post(f"/api/v1/devices/{device_id}/revoke", headers=admin))
    assert not stolen.is_connected(ev.COUNTER_NS)
    assert kept.is_connected(ev.COUNTER_NS)
    served(client, 4)
    assert events(kept, ev.RATING_REQUESTED)  # the other tablet still hears its counter
