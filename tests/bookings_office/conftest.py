"""The demo centre on a fixed morning with two fields taking bookings, and a day of bookings.

The clock of the back office's bookings pages is Tuesday 05/03/2030 08:00 in Hà Nội (a
working day far from any holiday); Tư pháp – Hộ tịch and Lao động – Thương binh và Xã hội
take bookings of 30 minutes, two people each.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from onestop.bookings.models import Booking
from onestop.queueing.models import Service
from onestop.units.models import Unit
from tests.api.helpers import in_db
from tests.conftest import demo_app

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
TODAY = dt.date(2030, 3, 5)
TOMORROW = dt.date(2030, 3, 6)
NOW = dt.datetime(2030, 3, 5, 8, 0, tzinfo=TZ).astimezone(dt.UTC)
SETTINGS = {"slot_minutes": 30, "per_slot": 2, "walkin_share": 0.5, "days_ahead": 5,
            "book_before_minutes": 30, "cancel_before_minutes": 30}
PHONE = "+84912345678"
MASKED = "+84 91*****78"


def local(day: dt.date, hhmm: str) -> dt.datetime:
    hour, minute = (int(x) for x in hhmm.split(":"))
    return dt.datetime.combine(day, dt.time(hour, minute), TZ).astimezone(dt.UTC)


def add_booking(session: Any, service: Service, day: dt.date, hhmm: str, *, phone: str = PHONE,
                state: str = "booked", code: str, name: str | None = None,
                procedure_code: str | None = None) -> Booking:
    start = local(day, hhmm)
    row = Booking(unit_id=service.unit_id, service_id=service.id, code=code, start=start,
                  end=start + dt.timedelta(minutes=30), phone=phone, name=name,
                  procedure_code=procedure_code, state=state, channel="web", created_at=NOW)
    session.add(row)
    session.flush()
    return row


def services(session: Any) -> dict[str, Service]:
    return {s.code: s for s in session.scalars(select(Service).order_by(Service.id))}


@pytest.fixture
def office(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The app, its clock at ``NOW``; ``office.ids`` names the seeded rows."""
    monkeypatch.setattr("onestop.backoffice.booking_desk.now", lambda: NOW)
    with demo_app(tmp_path, ALWAYS_OPEN=False, PUBLIC_BASE_URL="http://192.168.1.10:8000") as app:
        with in_db(app) as session:
            fields = services(session)
            for code, field in fields.items():  # the demo's own choice aside
                field.booking = dict(SETTINGS) if code in ("TPHT", "LDTBXH") else None
            tp = fields["TPHT"]
            rows = [add_booking(session, tp, TODAY, "09:00", code="AAA222", name="Nguyễn Văn An"),
                    add_booking(session, tp, TODAY, "09:30", code="BBB333", state="checked_in",
                                phone="+84987654321", name="Trần Thị Bình"),
                    add_booking(session, tp, TODAY, "10:00", code="CCC444", state="cancelled",
                                phone="+84911222333"),
                    add_booking(session, tp, TOMORROW, "14:00", code="DDD555", phone="+84933444555",
                                name="Lê Văn Cường")]
            app.ids = {"unit": session.scalars(select(Unit).order_by(Unit.id)).first().id,  # type: ignore[union-attr]
                       "TPHT": tp.id, "LDTBXH": fields["LDTBXH"].id, "DD": fields["DD"].id,
                       **{r.code: r.id for r in rows}}
        yield app
