"""POST /api/v1/dossiers/{code}/pickup-ticket: the citizen comes back for the result.

A dossier received at counter 1 under a kiosk ticket; the kiosk takes the pickup ticket;
clerks call over HTTP. Everything over the Flask test client, as the kiosk and the
workstation do it.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from onestop.queueing.models import Counter, Ticket
from onestop.units.models import Unit
from tests.api.helpers import act, add_device, assert_error, in_db, issue, ok, ticket_count, update_row
from tests.conftest import bearer, token_for
from tests.dossiers.conftest import APPLICANT_JSON, SAME_DAY


def open_counter(client: Any, token: str, counter_id: int) -> None:
    ok(client.post(f"/api/v1/counters/{counter_id}/open", headers=bearer(token)))


def status(client: Any, token: str, code: str, state: str, **extra: Any) -> None:
    ok(client.post(f"/api/v1/dossiers/{code}/status", json={"state": state, **extra},
                   headers=bearer(token)))


def pickup(client: Any, token: str | None, code: str, **body: Any) -> Any:
    return client.post(f"/api/v1/dossiers/{code}/pickup-ticket", json=body,
                       headers=bearer(token) if token else {})


@pytest.fixture
def desk(app: Any, client: Any) -> dict[str, Any]:
    """Counter 1 (Tư pháp – Hộ tịch) received a dossier under a kiosk ticket; it is ready."""
    kiosk = add_device(app, "kiosk", "Ki-ốt sảnh")
    clerk1 = token_for(client, "clerk1")
    open_counter(client, clerk1, 1)
    intake = issue(client, kiosk, 1)
    assert ok(act(client, clerk1, 1, "call-next"))["id"] == intake["id"]
    dossier = ok(client.post("/api/v1/dossiers", headers=bearer(clerk1), json={
        "procedure_code": SAME_DAY, "applicant": dict(APPLICANT_JSON), "ticket_id": intake["id"],
        "documents": [{"name": "Tờ khai", "count": 1}]}), 201)
    code = dossier["code"]
    key = parse_qs(urlsplit(dossier["lookup_url"]).query)["k"][0]
    status(client, clerk1, code, "processing")
    status(client, clerk1, code, "ready", place="Quầy số 1")
    return {"kiosk": kiosk, "clerk1": clerk1, "code": code, "k": key}


def row(app: Any, ticket_id: int) -> Ticket:
    with in_db(app) as session:
        ticket = session.get(Ticket, ticket_id)
        assert ticket is not None
        session.expunge(ticket)
        return ticket


def test_ready_dossier_ticket_goes_to_the_receiving_counter(app, client, desk):
    data = ok(pickup(client, desk["kiosk"], desk["code"], k=desk["k"]), 201)
    assert data["dossier"] == {"code": desk["code"], "purpose": "pickup"}
    assert data["source"] == "kiosk" and data["state"] == "waiting" and data["service_id"] == 1
    assert row(app, data["id"]).target_counter_id == 1
    # counter 2 serves the same field, yet the ticket waits for counter 1, which received it
    clerk2 = token_for(client, "clerk2")
    open_counter(client, clerk2, 2)
    assert_error(act(client, clerk2, 2, "call-next"), 404, "queue_empty")
    called = ok(act(client, desk["clerk1"], 1, "call-next"))
    assert called["id"] == data["id"] and called["dossier"] == {"code": desk["code"], "purpose": "pickup"}
    # the workstation's card reads the counter's queue view: the dossier is on it
    view = ok(client.get("/api/v1/counters/1/queue", headers=bearer(desk["clerk1"])))
    assert view["current"]["dossier"] == {"code": desk["code"], "purpose": "pickup",
                                          "url": f"/counter/dossiers/{desk['code']}"}
    # the public ticket answer does not say which dossier is behind a number
    assert client.get(f"/api/v1/tickets/{data['id']}").get_json()["dossier"] is None
    staff = ok(client.get(f"/api/v1/tickets/{data['id']}", headers=bearer(desk["clerk1"])))
    assert staff["dossier"]["code"] == desk["code"]


def test_one_ticket_per_dossier_a_day(app, client, desk):
    first = ok(pickup(client, desk["kiosk"], desk["code"], k=desk["k"]), 201)
    before = ticket_count(app)
    again = pickup(client, desk["kiosk"], desk["code"], k=desk["k"])
    error = assert_error(again, 409, "pickup_ticket_exists")
    assert error["ticket_id"] == first["id"] and error["label"] == first["label"]
    assert "đã lấy số" in error["message"]
    # the phone digits path meets the same ticket
    assert_error(pickup(client, desk["kiosk"], desk["code"], phone4="5678"), 409, "pickup_ticket_exists")
    assert ticket_count(app) == before


def test_supplement_and_refused_states(app, client, desk):
    clerk1, kiosk = desk["clerk1"], desk["kiosk"]
    dossier = ok(client.post("/api/v1/dossiers", headers=bearer(clerk1), json={
        "procedure_code": SAME_DAY, "applicant": dict(APPLICANT_JSON),
        "documents": [{"name": "Tờ khai", "count": 1}]}), 201)
    code = dossier["code"]
    key = parse_qs(urlsplit(dossier["lookup_url"]).query)["k"][0]
    before = ticket_count(app)
    for state in ("received", "processing"):
        if state == "processing":
            status(client, clerk1, code, "processing")
        error = assert_error(pickup(client, kiosk, code, k=key), 409, "pickup_not_available")
        assert error["state"] == state and "chưa cần lấy số" in error["message"]
    assert ticket_count(app) == before
    status(client, clerk1, code, "supplement_requested", note="Thiếu bản sao giấy khai sinh")
    data = ok(pickup(client, kiosk, code, k=key), 201)
    # received without a ticket: no receiving counter, so the dossier's field takes it
    assert data["dossier"] == {"code": code, "purpose": "supplement"} and data["service_id"] == 1
    assert row(app, data["id"]).target_counter_id is None
    # the ready one is handed over: a returned dossier needs no ticket
    status(client, clerk1, desk["code"], "returned")
    assert_error(pickup(client, kiosk, desk["code"], k=desk["k"]), 409, "pickup_not_available")


def test_routing_follows_the_unit_setting_and_a_closed_counter(app, client, desk):
    with in_db(app) as session:
        unit = session.get(Unit, 1)
        assert unit is not None
        unit.settings = {**(unit.settings or {}), "returns_service": "NV"}  # Nội vụ, counter 2
    data = ok(pickup(client, desk["kiosk"], desk["code"], k=desk["k"]), 201)
    assert data["service"] == "Nội vụ" and row(app, data["id"]).target_counter_id is None
    clerk2 = token_for(client, "clerk2")
    open_counter(client, clerk2, 2)
    assert ok(act(client, clerk2, 2, "call-next"))["dossier"]["code"] == desk["code"]


def test_a_closed_receiving_counter_sends_the_ticket_to_the_field(app, client, desk):
    update_row(app, Counter, 1, state="closed", clerk_id=None)
    data = ok(pickup(client, desk["kiosk"], desk["code"], phone4="5678"), 201)
    assert data["service_id"] == 1 and row(app, data["id"]).target_counter_id is None


def test_kiosk_token_only_and_the_right_key(app, client, desk):
    code, k = desk["code"], desk["k"]
    before = ticket_count(app)
    assert_error(pickup(client, None, code, k=k), 401, "unauthorized")
    assert_error(pickup(client, desk["clerk1"], code, k=k), 403, "forbidden")
    assert_error(pickup(client, add_device(app, "display", "Màn hình"), code, k=k), 403, "forbidden")
    kiosk = desk["kiosk"]
    assert_error(pickup(client, kiosk, code, k="a" * 12), 404, "dossier_not_found")
    assert_error(pickup(client, kiosk, code, phone4="0000"), 404, "dossier_not_found")
    assert_error(pickup(client, kiosk, code.replace("-0001", "-0099"), k=k), 404, "dossier_not_found")
    assert_error(pickup(client, kiosk, code), 422, "lookup_key_required")
    assert_error(pickup(client, kiosk, code, k=k, extra=1), 422)
    assert ticket_count(app) == before
