"""A ticket checked in for a booking, as every surface sees it (in-process app, real SQLite).

The kiosk checks a booking in through the API; the ticket's JSON carries ``booking`` (its
code for staff only, its slot for all), the counter's queue view marks it and gives the card
its slot, the hall display's snapshot and the call's socket payload say ``booked``, and the
printed slip has the line "Lịch hẹn HH:MM". The kiosk's home screen offers the check-in only
where a field takes bookings.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select

from onestop.db import utcnow
from tests.api.helpers import add_device, in_db, unit_of
from tests.conftest import bearer, token_for

FIELD = 1


def _book(app: Any, phone: str = "+84912345678") -> tuple[str, dt.datetime]:
    """A booking of field 1 whose slot starts now (the API reads the real clock)."""
    from onestop.bookings.engine import new_code
    from onestop.bookings.models import Booking

    start = utcnow().replace(second=0, microsecond=0)
    with in_db(app) as session:
        unit = unit_of(session)
        code = new_code(session)
        session.add(Booking(unit_id=unit.id, service_id=FIELD, code=code, start=start,
                            end=start + dt.timedelta(minutes=15), phone=phone, created_at=start))
    return code, start


def _hhmm(start: dt.datetime) -> str:
    from zoneinfo import ZoneInfo

    return f"{start.astimezone(ZoneInfo('Asia/Ho_Chi_Minh')):%H:%M}"


def test_a_checked_in_ticket_on_every_surface(app: Any) -> None:
    client = app.test_client()
    kiosk = bearer(add_device(app, "kiosk", "Ki-ốt sảnh"))
    clerk = bearer(token_for(client, "clerk1"))
    code, start = _book(app)

    res = client.post(f"/api/v1/bookings/{code}/check-in", json={"last4": "5678"}, headers=kiosk)
    assert res.status_code == 201, res.get_json()
    booked = res.get_json()
    assert booked["source"] == "booking"
    assert booked["booking"]["code"] == code
    assert dt.datetime.fromisoformat(booked["booking"]["start"]) == start

    # the ticket's JSON: staff see the code; anyone else (the phone page) the slot only
    staff = client.get(f"/api/v1/tickets/{booked['id']}", headers=clerk).get_json()
    assert staff["booking"] == booked["booking"]
    public = client.get(f"/api/v1/tickets/{booked['id']}").get_json()
    assert public["booking"] == {"code": None, "start": booked["booking"]["start"]}

    walk_in = client.post("/api/v1/tickets", json={"service_id": FIELD}, headers=clerk).get_json()
    assert walk_in["source"] == "counter" and walk_in["booking"] is None

    # the counter's waiting list marks the booked ticket
    assert client.post("/api/v1/counters/1/open", headers=clerk).status_code == 200
    view = client.get("/api/v1/counters/1/queue", headers=clerk).get_json()
    sources = {t["id"]: t["source"] for f in view["fields"] for t in f["tickets"]}
    assert sources == {booked["id"]: "booking", walk_in["id"]: "counter"}

    # called: the card has the slot, the call's answer the booking
    called = client.post("/api/v1/counters/1/call-next", headers=clerk).get_json()
    assert called["id"] == booked["id"] and called["booking"]["code"] == code
    current = client.get("/api/v1/counters/1/queue", headers=clerk).get_json()["current"]
    assert current["booking"] == booked["booking"] and current["source"] == "booking"

    # the hall display's snapshot: a badge on the number served at counter 1
    state = client.get("/api/v1/display/state").get_json()
    serving = {c["number"]: c["serving"] for c in state["counters"] if c["serving"]}
    assert serving[1]["id"] == booked["id"] and serving[1]["booked"] is True
    recent = {r["ticket"]["id"]: r["ticket"]["booked"] for r in state["recent_calls"]}
    assert recent[booked["id"]] is True

    # the socket payload of a call, and the slip: "Lịch hẹn HH:MM" for the booked ticket only
    from hardware.printing.render import Text, ticket_blocks, ticket_lines
    from onestop.accounts.models import Device
    from onestop.printing import service
    from onestop.queueing.models import Ticket
    from onestop.realtime.hub import ticket_brief

    with in_db(app) as session:
        unit = unit_of(session)
        device = session.scalars(select(Device).where(Device.kind == "kiosk")).one()
        lines = {}
        for ticket_id in (booked["id"], walk_in["id"]):
            ticket = session.get(Ticket, ticket_id)
            assert ticket is not None
            slip = service.ticket_slip(unit, ticket, device, waiting_ahead=0, minutes=0, base_url="http://x",
                                       secret="s", booking_time=service.booking_time(session, unit, ticket))
            lines[ticket_id] = ticket_lines(slip)["booking"]
            texts = [b.text for b in ticket_blocks(slip) if isinstance(b, Text)]
            assert (lines[ticket_id] in texts) == (ticket_id == booked["id"])
            assert ticket_brief(session, ticket)["booked"] is (ticket_id == booked["id"])
    assert lines == {booked["id"]: f"Lịch hẹn {_hhmm(start)}", walk_in["id"]: ""}


def test_the_home_screen_offers_the_check_in_where_a_field_takes_bookings(app: Any) -> None:
    from onestop.queueing.models import Service

    client = app.test_client()
    home = client.get("/kiosk/").get_data(as_text=True)
    assert 'id="booking-tile"' in home and "Tôi đã đặt lịch hẹn" in home
    assert 'data-scan-handoff="/kiosk/booking"' in home  # a scanned booking QR goes there too
    res = client.get("/kiosk/booking")
    assert "camera=(self)" in res.headers["Permissions-Policy"]  # the camera reads the QR
    page = res.get_data(as_text=True)
    assert "Nhận số theo lịch hẹn" in page and 'data-outside-ticket="1"' in page
    assert "kiosk/scan.js" in page and "kiosk/scan.js" in client.get("/kiosk/lookup").get_data(as_text=True)

    with in_db(app) as session:
        for service in session.scalars(select(Service)):
            service.booking = None
        unit_of(session).settings = {"booking_outside_gets_ticket": False}
    home = client.get("/kiosk/").get_data(as_text=True)
    assert "booking-tile" not in home and "scan.js" not in home
    assert 'data-outside-ticket="0"' in client.get("/kiosk/booking").get_data(as_text=True)
