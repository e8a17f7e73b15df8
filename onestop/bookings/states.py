"""A booking's own changes of state that need nothing of the queue: the compare-and-set
move from ``booked``, and the no-shows of the day close (``onestop.queueing.engine.close_day``
calls ``mark_no_shows``; the rest of the rules are in ``onestop.bookings.engine``, which
issues tickets and so sits above the queue engine)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from onestop import signals
from onestop.bookings.models import Booking
from onestop.units.models import Unit


def day_bounds(unit: Unit, day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The local day ``day`` as an aware UTC interval."""
    start = dt.datetime.combine(day, dt.time(0), tzinfo=unit.tz)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), tzinfo=unit.tz)
    return start.astimezone(dt.UTC), end.astimezone(dt.UTC)


def move(session: Session, booking: Booking, to_state: str, **values: Any) -> bool:
    """Compare-and-set ``booked -> to_state``: False when someone changed it first."""
    changed = session.execute(
        update(Booking).where(Booking.id == booking.id, Booking.state == "booked")
        .values(state=to_state, **values).returning(Booking.id)
        .execution_options(synchronize_session=False)).first()
    session.refresh(booking)
    return changed is not None


def mark_no_shows(session: Session, unit: Unit, day: dt.date, now: dt.datetime) -> int:
    """The unit's bookings of ``day`` and earlier never checked in become ``no_show``
    (called by the day close, ``onestop.queueing.engine.close_day``). Their number."""
    until = day_bounds(unit, day)[1]
    missed = session.scalars(select(Booking).where(
        Booking.unit_id == unit.id, Booking.state == "booked", Booking.start < until)).all()
    count = 0
    for booking in missed:
        if move(session, booking, "no_show"):
            count += 1
            signals.booking_changed.send(session, booking=booking, action="no_show")
    return count
