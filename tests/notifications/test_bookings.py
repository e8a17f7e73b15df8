"""Bookings and numbers from a phone (issue 20) -> messages: the booking's phone gets
booking.confirmed at once, booking.reminder the day before and an hour before (dropped when
the booking was cancelled meanwhile), booking.cancelled; a remote ticket with a phone gets
its ticket's messages."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from onestop.bookings import engine as bookings
from onestop.db import utcnow
from onestop.extensions import db
from onestop.queueing.engine import Actor
from onestop.queueing.models import Service
from tests.api.helpers import unit_of
from tests.notifications.conftest import messages, send_due


def _slot(session, unit, svc, now):
    svc.booking = {**(svc.booking or {}), "per_slot": 10}
    day = unit.business_date(now) + dt.timedelta(days=1)
    for _ in range(30):
        found = next((s for s in bookings.slots(session, unit, svc, day, now) if s.free and s.start > now
                      + dt.timedelta(days=1, hours=2)), None)
        if found:
            return found
        day += dt.timedelta(days=1)
    raise AssertionError("no slot")


def test_booking_confirmed_reminded_and_cancelled(notify_app, gateway):
    now = utcnow()
    with notify_app.app_context():
        session = db.session()
        unit = unit_of(session)
        svc = session.scalars(select(Service).where(Service.unit_id == unit.id, Service.code == "TPHT")).one()
        slot = _slot(session, unit, svc, now)
        booking = bookings.book(session, unit, svc, start=slot.start, phone="0912345678", actor=Actor(),
                                now=now)
        session.commit()
        code, start = booking.code, booking.start
    assert send_due(notify_app).sent == 1
    (confirmed,) = gateway.received("/sms")
    local = unit.local(start)
    assert code in confirmed["text"] and f"{local:%H:%M}" in confirmed["text"] and "/b/" in confirmed["text"]
    reminders = [m for m in messages(notify_app) if m.event == "booking.reminder"]
    assert sorted(m.next_attempt_at for m in reminders) == [start - dt.timedelta(days=1),
                                                             start - dt.timedelta(hours=1)]
    # the day before: the first reminder goes
    assert send_due(notify_app, start - dt.timedelta(hours=23)).sent == 1
    assert "nhac lich hen" in gateway.received("/sms")[-1]["text"]
    with notify_app.app_context():
        session = db.session()
        found = bookings.find_booking(session, unit_of(session), code)
        bookings.cancel(session, found, actor=Actor(), now=start - dt.timedelta(hours=20), by_staff=True)
        session.commit()
    result = send_due(notify_app, start - dt.timedelta(minutes=30))
    assert (result.sent, result.dropped) == (1, 1)  # cancelled: told; the hour-before reminder: dropped
    assert "da duoc huy" in gateway.received("/sms")[-1]["text"]
    assert len(gateway.received("/sms")) == 3


def test_a_number_taken_from_a_phone_is_subscribed(notify_app, gateway):
    with notify_app.app_context():
        session = db.session()
        unit = unit_of(session)
        unit.settings = {**(unit.settings or {}), "remote_tickets": True}
        svc = session.scalars(select(Service).where(Service.unit_id == unit.id, Service.code == "TPHT")).one()
        ticket = bookings.remote_ticket(session, unit, svc, phone="0912345678", now=utcnow(),
                                        address="192.0.2.1", always_open=True)
        session.commit()
        ticket_id = ticket.id
    assert [m.event for m in messages(notify_app)] == []
    with notify_app.app_context():
        from onestop.notify.engine import subscriptions

        (sub,) = subscriptions(db.session(), "ticket", ticket_id)
        assert sub.address == "+84912345678"
