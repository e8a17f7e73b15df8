"""A field's booking settings: ``services.booking`` (JSON, None = no bookings, the default).

Every key has its default here and only here; a field stores only what differs.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

from onestop.queueing.models import Service


@dataclass(frozen=True)
class BookingSettings:
    """``slot_minutes``: length of a slot; ``per_slot``: bookings a slot takes;
    ``walkin_share``: share of the field's daily cap kept for walk-ins (with a cap, the
    bookings of a day never exceed ``(1 - walkin_share) * daily_cap``); ``days_ahead``:
    working days ahead a citizen may book (today is day 0); ``book_before_minutes``: the
    latest a slot can be booked before it starts; ``cancel_before_minutes``: the latest a
    citizen can cancel before it starts (staff always can)."""

    slot_minutes: int = 15
    per_slot: int = 2
    walkin_share: float = 0.5
    days_ahead: int = 10
    book_before_minutes: int = 60
    cancel_before_minutes: int = 30


BOOKING_DEFAULTS: dict[str, Any] = dataclasses.asdict(BookingSettings())


def booking_settings(service: Service) -> BookingSettings | None:
    """The field's settings with the defaults filled in; None when it takes no bookings."""
    stored = service.booking
    if stored is None:
        return None
    known = {key: stored[key] for key in BOOKING_DEFAULTS if key in stored}
    return BookingSettings(**known)


def day_limit(service: Service, settings: BookingSettings) -> int | None:
    """The most bookings one day of the field may take (None: no daily cap, no limit)."""
    if not service.daily_cap:
        return None
    # the epsilon keeps 10 * (1 - 0.9) from flooring to 0
    return math.floor(service.daily_cap * (1 - settings.walkin_share) + 1e-9)
