"""The bookings API over HTTP: slots, booking, the manage key, cancel, check-in at a kiosk,
numbers from a phone, every refusal code and the rate limits."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from onestop.bookings.engine import manage_key
from onestop.bookings.models import Booking
from onestop.queueing.models import Service, Ticket
from onestop.units.models import Unit
from tests.api.helpers import add_device, add_integration_user, in_db, unit_of
from tests.conftest import SECRET, bearer, demo_app, local, token_for

FRIDAY = local(2026, 11, 20, 10)  # the clock of most tests: Friday 20 November, 10:00
MONDAY = "2026-11-23"
TPHT = 1  # Tư pháp – Hộ tịch, Monday to Friday


@pytest.fixture
def app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    with demo_app(tmp_path, ALWAYS_OPEN=False) as application:
        application.at = lambda moment: monkeypatch.setattr("onestop.api.bookings.now",
                                                            lambda: moment)
        application.at(FRIDAY)
        yield application


@pytest.fixture
def client(app):
    return app.test_client()


def book(client: Any, start: str = f"{MONDAY}T09:30:00+07:00", phone: str = "0912345678",
         headers: dict[str, str] | None = None, **more: Any) -> Any:
    return client.post("/api/v1/bookings", json={"service_id": TPHT, "start": start,
                                                 "phone": phone, **more}, headers=headers or {})


def error(res: Any, status: int, code: str) -> dict[str, Any]:
    assert res.status_code == status, res.get_json()
    body = res.get_json()["error"]
    assert body["code"] == code, body
    assert body["message"] and body["message"] != code  # a sentence, in Vietnamese
    return dict(body)


def key_of(manage_url: str) -> str:
    return manage_url.split("?k=")[1]


def test_slots_are_listed_with_the_units_offset(client):
    res = client.get(f"/api/v1/bookings/slots?service_id={TPHT}&date={MONDAY}")
    assert res.status_code == 200, res.get_json()
    slots = res.get_json()
    assert slots[0] == {"start": f"{MONDAY}T07:30:00+07:00", "end": f"{MONDAY}T07:45:00+07:00",
                        "free": 2}
    assert len(slots) == 28
    # Ngày Văn hóa Việt Nam (a day off): no slot at all, and not an error
    assert client.get(f"/api/v1/bookings/slots?service_id={TPHT}&date=2026-11-24").get_json() == []
    error(client.get("/api/v1/bookings/slots?service_id=999&date=2026-11-23"), 404, "service_not_found")
    error(client.get(f"/api/v1/bookings/slots?service_id={TPHT}&date=23/11/2026"), 422,
          "validation_error")
    # far away: nothing, at once (not a count of the working days until then)
    assert client.get(f"/api/v1/bookings/slots?service_id={TPHT}&date=9999-12-31").get_json() == []


def test_book_see_and_cancel_with_the_manage_key(app, client):
    res = book(client, name="Nguyễn Văn A", procedure_code="1.001193")
    assert res.status_code == 201, res.get_json()
    made = res.get_json()
    assert made["state"] == "booked" and made["service_id"] == TPHT and len(made["code"]) == 6
    assert made["start"] == f"{MONDAY}T09:30:00+07:00"
    assert f"/b/{made['code']}?k=" in made["manage_url"]
    key = key_of(made["manage_url"])
    seen = client.get(f"/api/v1/bookings/{made['code']}?k={key}").get_json()
    assert seen["phone"] == "+84 91*****78" and seen["name"] == "Nguyễn Văn A"
    assert seen["cancel_before"] == f"{MONDAY}T09:00:00+07:00"
    free = client.get(f"/api/v1/bookings/slots?service_id={TPHT}&date={MONDAY}").get_json()
    assert [s["free"] for s in free if s["start"].endswith("09:30:00+07:00")] == [1]
    # no key, a wrong key, an unknown code: the same 404
    for url in (f"/api/v1/bookings/{made['code']}", f"/api/v1/bookings/{made['code']}?k=x" + key[1:],
                f"/api/v1/bookings/ZZZZZZ?k={key}"):
        error(client.get(url), 404, "booking_not_found")
    error(client.post(f"/api/v1/bookings/{made['code']}/cancel", json={"k": "nope"}), 404,
          "booking_not_found")
    app.at(local(2026, 11, 23, 9, 1))
    error(client.post(f"/api/v1/bookings/{made['code']}/cancel", json={"k": key}), 409,
          "too_late_to_cancel")
    app.at(local(2026, 11, 23, 8))
    res = client.post(f"/api/v1/bookings/{made['code']}/cancel", json={"k": key})
    assert res.status_code == 200 and res.get_json()["state"] == "cancelled"
    error(client.post(f"/api/v1/bookings/{made['code']}/cancel", json={"k": key}), 409,
          "booking_not_active")


def test_staff_cancel_at_any_time_and_book_on_a_citizens_behalf(app, client):
    clerk = bearer(token_for(client, "clerk1"))
    res = book(client, headers=clerk)
    assert res.status_code == 201
    code = res.get_json()["code"]
    with in_db(app) as session:
        row = session.query(Booking).filter_by(code=code).one()
        assert row.channel == "staff" and row.created_by_user_id is not None
    portal = bearer(add_integration_user(app, client))
    res = book(client, phone="0912345679", headers=portal)
    assert res.status_code == 201
    with in_db(app) as session:
        assert session.query(Booking).filter_by(code=res.get_json()["code"]).one().channel == "api"
    app.at(local(2026, 11, 23, 9, 29))
    res = client.post(f"/api/v1/bookings/{code}/cancel", json={}, headers=clerk)
    assert res.status_code == 200 and res.get_json()["state"] == "cancelled"
    assert client.get(f"/api/v1/bookings/{code}", headers=clerk).get_json()["state"] == "cancelled"


def test_every_refusal_of_a_booking_over_http(app, client):
    with in_db(app) as session:
        session.get(Service, 9).booking = None  # Nội vụ takes no bookings
    assert book(client).status_code == 201
    assert book(client, phone="0912345679").status_code == 201
    error(book(client, phone="0912345670"), 409, "slot_full")
    body = error(book(client, start=f"{MONDAY}T10:00:00+07:00"), 409, "already_booked")
    assert len(body["booking_code"]) == 6
    for start, reason in ((f"{MONDAY}T12:00:00+07:00", "outside_windows"),
                          ("2026-11-24T09:00:00+07:00", "closed_day"),  # Ngày Văn hóa Việt Nam
                          ("2026-11-20T10:30:00+07:00", "past"),
                          ("2026-12-08T09:00:00+07:00", "too_far_ahead"),
                          ("9999-12-31T23:45:00-05:00", "too_far_ahead"),
                          ("0001-01-01T00:15:00+07:00", "past")):
        assert error(book(client, start=start, phone="0987654321"), 409, "not_bookable")["reason"] == reason
    res = client.post("/api/v1/bookings", json={"service_id": 9, "start": "2026-11-26T09:00:00+07:00",
                                                "phone": "0987654321"})
    assert error(res, 409, "not_bookable")["reason"] == "bookings_off"
    error(book(client, phone="091234"), 422, "invalid_phone")
    error(book(client, phone="0987654321", procedure_code="9.999"), 422, "invalid_procedure")
    error(book(client, start=f"{MONDAY}T09:30:00", phone="0987654321"), 422, "validation_error")
    error(client.post("/api/v1/bookings", data="service_id=1"), 415, "unsupported_media_type")
    error(client.post("/api/v1/bookings", json={"service_id": 1}), 422, "validation_error")
    error(client.post("/api/v1/bookings", json={"service_id": 999, "start": f"{MONDAY}T09:30:00+07:00",
                                                "phone": "0987654321"}), 404, "service_not_found")


def _checkin(client: Any, code: str, token: str | None, **body: Any) -> Any:
    return client.post(f"/api/v1/bookings/{code}/check-in", json=body,
                       headers=bearer(token) if token else {})


def test_check_in_at_a_kiosk(app, client):
    kiosk = add_device(app, "kiosk")
    display = add_device(app, "display", "H1")
    code = book(client, procedure_code="1.001193").get_json()["code"]
    app.at(local(2026, 11, 23, 9, 10))
    error(_checkin(client, code, None, last4="5678"), 401, "unauthorized")
    error(_checkin(client, code, display, last4="5678"), 403, "forbidden")
    error(_checkin(client, code, kiosk, last4="0000"), 404, "booking_not_found")
    body = error(_checkin(client, code, kiosk, last4="5678"), 409, "too_early")
    assert (body["start"], body["from"], body["until"]) == ("09:30", "09:15", "09:40")
    # a kiosk must prove the booking is the citizen's: the QR's key or the phone's digits
    error(_checkin(client, code, kiosk), 404, "booking_not_found")
    error(_checkin(client, code, kiosk, k="wrong-key-00"), 404, "booking_not_found")
    key = manage_key(SECRET, code)
    app.at(local(2026, 11, 23, 9, 41))
    error(_checkin(client, code, kiosk, k=key), 409, "too_late")
    res = _checkin(client, code, kiosk, k=key, outside="ticket")
    assert res.status_code == 201 and res.get_json()["source"] == "kiosk"
    app.at(local(2026, 11, 23, 9, 20))
    res = _checkin(client, code.lower(), kiosk, last4="5678")
    assert res.status_code == 201, res.get_json()
    ticket = res.get_json()
    assert ticket["source"] == "booking" and ticket["procedure_code"] == "1.001193"
    assert ticket["label"].startswith("A")
    body = error(_checkin(client, code, kiosk, k=key), 409, "already_checked_in")
    assert body["ticket_id"] == ticket["id"]
    with in_db(app) as session:
        row = session.query(Booking).filter_by(code=code).one()
        assert (row.state, row.ticket_id) == ("checked_in", ticket["id"])
        assert session.get(Ticket, ticket["id"]).queue_at == local(2026, 11, 23, 9, 30)
    error(client.post(f"/api/v1/bookings/{code}/check-in", json={"outside": "maybe"},
                      headers=bearer(kiosk)), 422, "validation_error")
    app.at(local(2026, 11, 24, 9, 30))
    other = book(client, start="2026-11-25T09:30:00+07:00").get_json()["code"]
    error(_checkin(client, other, kiosk, k=manage_key(SECRET, other)), 409, "booking_other_day")


def test_numbers_from_a_phone_over_http(app, client, monkeypatch):
    monkeypatch.setattr("onestop.api.bookings.always_open", lambda: True)
    with in_db(app) as session:
        unit = unit_of(session)
        unit.settings = {**unit.settings, "remote_tickets": False}
    error(client.post("/api/v1/remote-tickets", json={"service_id": TPHT}), 409, "remote_closed")
    with in_db(app) as session:
        unit = unit_of(session)
        unit.settings = {**unit.settings, "remote_tickets": True, "remote_per_phone_per_day": 1}
        session.get(Service, 2).daily_cap = 3  # 30 %: no number from a phone at all
    res = client.post("/api/v1/remote-tickets", json={"service_id": TPHT, "phone": "0912345678"})
    assert res.status_code == 201, res.get_json()
    ticket = res.get_json()
    assert ticket["source"] == "remote" and f"/t/{ticket['id']}?k=" in ticket["page_url"]
    assert app.test_client().get(ticket["page_url"].split("8000", 1)[1]).status_code == 200
    with in_db(app) as session:
        assert session.get(Ticket, ticket["id"]).phone == "+84912345678"
    body = error(client.post("/api/v1/remote-tickets", json={"service_id": 3, "phone": "+84912345678"}),
                 409, "remote_limit_reached")
    assert body["limit"] == "phone"
    error(client.post("/api/v1/remote-tickets", json={"service_id": 2}), 409, "remote_share_reached")
    error(client.post("/api/v1/remote-tickets", json={"service_id": TPHT, "phone": "12"}), 422,
          "invalid_phone")
    error(client.post("/api/v1/remote-tickets", json={"service_id": 999}), 404, "service_not_found")


def test_rate_limits_per_address_and_per_phone(tmp_path, monkeypatch):
    with demo_app(tmp_path, ALWAYS_OPEN=False, RATELIMIT_ENABLED=True,
                  BOOKING_RATE_LIMIT="2 per minute", REMOTE_TICKET_RATE_LIMIT="1 per minute") as app:
        monkeypatch.setattr("onestop.api.bookings.now", lambda: FRIDAY)
        client = app.test_client()
        with in_db(app) as session:
            session.get(Service, TPHT).booking = {"per_slot": 50}

        def from_(address: str, phone: str) -> int:
            return int(client.post("/api/v1/bookings", environ_base={"REMOTE_ADDR": address},
                                   json={"service_id": TPHT, "start": f"{MONDAY}T08:00:00+07:00",
                                         "phone": phone}).status_code)

        # one address, many phones: the third is refused
        assert [from_("10.0.0.1", f"09120000{i:02d}") for i in range(3)] == [201, 201, 429]
        # one phone (written two ways), many addresses: the third is refused
        assert [from_(f"10.0.1.{i}", phone) for i, phone in
                enumerate(("0987000001", "+84987000001", "0987000001"))] == [201, 409, 429]
        with in_db(app) as session:
            unit = session.query(Unit).one()
            unit.settings = {**unit.settings, "remote_tickets": True}
        codes = [client.post("/api/v1/remote-tickets", json={"service_id": TPHT},
                             environ_base={"REMOTE_ADDR": "10.0.2.1"}).status_code for _ in range(2)]
        assert codes[1] == 429
