"""Bookings (issue 20) -> messages: the booking's phone subscribes when it is made;
``booking.confirmed`` at once, ``booking.reminder`` the day before and an hour before
(dropped if the booking is no longer ``booked`` by then), ``booking.cancelled``.

Hooked through ``onestop.signals.booking_changed`` (``booking``, ``action``: booked,
cancelled, checked_in, no_show) when that signal exists; without it, nothing is connected.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import current_app, has_app_context
from sqlalchemy.orm import Session

from onestop import signals
from onestop.db import utcnow
from onestop.notify import engine
from onestop.queueing.errors import DomainError
from onestop.units.models import Unit

REMINDERS = (("day", dt.timedelta(days=1)), ("hour", dt.timedelta(hours=1)))


def manage_link(booking: Any) -> str:
    """The booking's page, if the bookings package says how to make it."""
    try:
        from onestop.bookings import engine as bookings_engine
    except ImportError:
        return ""
    make = getattr(bookings_engine, "manage_url", None)
    if make is None or not has_app_context():
        return ""
    try:
        config = current_app.config
        return str(make(config["PUBLIC_BASE_URL"], config["SECRET_KEY"], booking.code))
    except TypeError:
        return ""


def booking_data(unit: Unit, booking: Any) -> dict[str, Any]:
    start = unit.local(booking.start)
    return {"code": booking.code, "time": f"{start:%H:%M}", "date": f"{start:%d/%m/%Y}",
            "link": manage_link(booking)}


def on_booking_changed(session: Session, booking: Any, action: str, **_: Any) -> None:
    from onestop.notify.subscriber import enabled

    unit = session.get(Unit, booking.unit_id)
    if unit is None or not enabled():
        return
    now = utcnow()
    if action == "booked":
        try:
            sub, _created = engine.subscribe(session, unit, "booking", booking.id, booking.phone,
                                             business_date=unit.business_date(booking.start), now=now)
        except DomainError:
            return
        data = booking_data(unit, booking)
        engine.queue(session, sub, "booking.confirmed", data, dedup="confirmed", now=now)
        for name, before in REMINDERS:
            due = booking.start - before
            if due > now:
                engine.queue(session, sub, "booking.reminder", data, dedup=f"reminder:{name}", now=now,
                             due_at=due)
    elif action == "cancelled":
        engine.queue_all(session, "booking", booking.id, "booking.cancelled", booking_data(unit, booking),
                         dedup="cancelled", now=now)


def receivers() -> list[tuple[Any, Any]]:
    signal = getattr(signals, "booking_changed", None)
    return [(signal, on_booking_changed)] if signal is not None else []
