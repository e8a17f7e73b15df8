"""A booking (lịch hẹn): a citizen's reserved time slot in a field of a unit.

Not the dossier's *appointment* (ngày hẹn trả kết quả, the return date): one word per idea.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from onestop.accounts.models import _in
from onestop.db import Base, UTCDateTime

BOOKING_STATES = ("booked", "checked_in", "cancelled", "no_show")
# a booking that still holds its place in the slot
HOLDING_STATES = ("booked", "checked_in")
BOOKING_CHANNELS = ("web", "api", "staff")


class Booking(Base):
    """A reserved slot ``[start, end)`` (aware UTC) of a field, for one phone number."""

    __tablename__ = "bookings"
    __table_args__ = (
        CheckConstraint(f"state IN {_in(BOOKING_STATES)}", name="state"),
        CheckConstraint(f"channel IN {_in(BOOKING_CHANNELS)}", name="channel"),
        # the slots' counts and the day lists (onestop/bookings/engine.py)
        Index("ix_bookings_slot", "service_id", "start", "state"),
        # one active booking per phone, field and day
        Index("ix_bookings_phone", "phone", "service_id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id"))
    # what the citizen types at the kiosk: 6 characters without 0/O/1/I (engine.new_code)
    code: Mapped[str] = mapped_column(String(12), unique=True)
    start: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    end: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    phone: Mapped[str] = mapped_column(String(16))  # E.164 (onestop/phones.py)
    name: Mapped[str | None] = mapped_column(String(120))
    procedure_code: Mapped[str | None] = mapped_column(String(40))
    state: Mapped[str] = mapped_column(String(12), default="booked")
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))
    channel: Mapped[str] = mapped_column(String(8), default="web")
    created_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    checked_in_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
