"""Socket.IO on /counter: staff see dossiers arrive and change, without applicant data."""

from __future__ import annotations

from typing import Any

from onestop.extensions import socketio
from onestop.realtime import events as ev
from tests.api.helpers import add_device, ok
from tests.conftest import bearer, token_for
from tests.dossiers.conftest import APPLICANT, THREE_DAYS
from tests.webhooks.test_delivery import post_dossier


def counter_client(app: Any, **auth: Any) -> Any:
    sio = socketio.test_client(app, namespace=ev.COUNTER_NS, flask_test_client=app.test_client(), auth=auth)
    assert sio.is_connected(ev.COUNTER_NS)
    sio.get_received(ev.COUNTER_NS)
    return sio


def events(sio: Any, name: str) -> list[dict[str, Any]]:
    return [e["args"][0] for e in sio.get_received(ev.COUNTER_NS) if e["name"] == name]


def test_dossier_received_and_changed_on_counter(app, client):
    clerk = token_for(client, "clerk1")
    staff = counter_client(app, token=clerk)
    tablet = counter_client(app, token=add_device(app, "tablet", "T1", counter_number=1))
    dossier = post_dossier(client, clerk)
    [got] = events(staff, ev.DOSSIER_RECEIVED)
    assert got["dossier"] == {"code": dossier["code"], "state": "received", "procedure_code": THREE_DAYS,
                              "service_id": dossier["service_id"],
                              "appointment_at": dossier["appointment_at"], "due_at": dossier["due_at"]}
    assert got["at"] == dossier["received_at"]
    [seen] = events(tablet, ev.DOSSIER_RECEIVED)  # a citizen-facing tablet shares the unit room
    text = str(seen)
    for personal in (APPLICANT.name, APPLICANT.id_number, APPLICANT.phone, APPLICANT.email):
        assert personal not in text

    ok(client.post(f"/api/v1/dossiers/{dossier['code']}/status", json={"state": "processing"},
                   headers=bearer(clerk)))
    [changed] = events(staff, ev.DOSSIER_CHANGED)
    assert changed["dossier"]["state"] == "processing"
    assert (changed["action"], changed["from_state"]) == ("state", "received")


def test_refused_change_emits_nothing(app, client):
    clerk = token_for(client, "clerk1")
    code = post_dossier(client, clerk)["code"]
    staff = counter_client(app, token=clerk)
    res = client.post(f"/api/v1/dossiers/{code}/status", json={"state": "returned"}, headers=bearer(clerk))
    assert res.status_code == 409
    assert events(staff, ev.DOSSIER_CHANGED) == []
