"""The demo centre takes bookings and numbers from a phone, and has bookings for today that
check in at the kiosk at once (issue 20 item 10)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from onestop.db import utcnow
from tests.api.helpers import add_device, in_db, unit_of
from tests.conftest import bearer


def test_the_demo_takes_bookings_and_has_some_for_today(app: Any) -> None:
    from onestop import demo
    from onestop.bookings.models import Booking
    from onestop.bookings.settings import booking_settings
    from onestop.cli import DEMO_PAGES
    from onestop.queueing.models import Service

    assert {"/book/", "/q/", "/kiosk/booking"} <= {path for _label, path in DEMO_PAGES}
    now = utcnow()
    with in_db(app) as session:
        unit = unit_of(session)
        assert unit.setting("remote_tickets") is True
        services = list(session.scalars(select(Service)))
        assert services and all(booking_settings(s) for s in services)
        made = demo.seed_bookings(session, unit, now=now)
        again = demo.seed_bookings(session, unit, now=now)  # a second start adds none
        assert again == made and session.scalar(select(Booking.id).offset(len(made))) is None
    assert 1 <= len(made) <= 4 and len({b.code for b in made}) == len(made)  # none after midnight

    # the first checks in at the kiosk at once, with its code and the phone's last four digits
    kiosk = bearer(add_device(app, "kiosk", "Ki-ốt sảnh"))
    first = made[0]
    res = app.test_client().post(f"/api/v1/bookings/{first.code}/check-in", json={"last4": first.last4},
                                 headers=kiosk)
    assert res.status_code == 201, res.get_json()
    assert res.get_json()["source"] == "booking"
