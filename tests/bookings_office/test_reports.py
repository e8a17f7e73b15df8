"""Bookings in the reports: per field and day (made, checked in, no-shows, cancelled, numbers
from a phone) and the waits of booked, walk-in and phone citizens, in
GET /api/v1/reports/summary, /reports/data (the manager's page) and the XLSX export.

The day (Tuesday 05/03/2030, Tư pháp – Hộ tịch), issue -> first call:
- walk-ins: 08:00 -> 08:20 (20 min), 08:10 -> 08:50 (40 min);
- booked 09:00, checked in early at 08:45, called 09:05: 5 min (from the slot, not 20);
- booked 09:30, checked in late at 09:40, called 09:52: 12 min (from the check-in);
- a number from a phone: 08:30 -> 09:00 (30 min).
"""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

from openpyxl import load_workbook

from onestop.bookings.models import Booking
from onestop.queueing.models import Service, Ticket, TicketEvent
from tests.api.helpers import in_db
from tests.bookings_office.conftest import NOW, PHONE, TODAY, TOMORROW, local, services
from tests.conftest import bearer, token_for

DAYS = "from=2030-03-05&to=2030-03-06"
OLD_KEYS = {"from", "to", "target_wait_minutes", "issued", "served", "missed", "transferred", "expired",
            "waits_counted", "avg_wait_minutes", "p90_wait_minutes", "max_wait_minutes",
            "avg_service_minutes", "p90_service_minutes", "service_level", "ratings", "dossiers", "returns"}


def _ticket(session: Any, service: Service, number: int, source: str, issued: str, called: str) -> Ticket:
    at, call = local(TODAY, issued), local(TODAY, called)
    ticket = Ticket(unit_id=service.unit_id, service_id=service.id, issued_service_id=service.id,
                    business_date=TODAY, number=number, label=f"{service.prefix}{number:03d}", source=source,
                    state="called", issued_at=at, queue_at=at, called_at=call)
    session.add(ticket)
    session.flush()
    session.add_all([
        TicketEvent(ticket_id=ticket.id, at=at, action="issue", from_state=None, to_state="waiting",
                    service_id=service.id),
        TicketEvent(ticket_id=ticket.id, at=call, action="call", from_state="waiting", to_state="called",
                    service_id=service.id)])
    return ticket


def _booking(session: Any, service: Service, day: dt.date, hhmm: str, code: str, state: str,
             channel: str, ticket: Ticket | None = None) -> None:
    start = local(day, hhmm)
    session.add(Booking(unit_id=service.unit_id, service_id=service.id, code=code, start=start,
                        end=start + dt.timedelta(minutes=30), phone=PHONE, state=state, channel=channel,
                        ticket_id=ticket.id if ticket else None, created_at=NOW,
                        checked_in_at=ticket.issued_at if ticket else None))


def _seed(app: Any) -> dict[str, int]:
    with in_db(app) as session:
        fields = services(session)
        tp, labour = fields["TPHT"], fields["LDTBXH"]
        _ticket(session, tp, 1, "kiosk", "08:00", "08:20")
        _ticket(session, tp, 2, "kiosk", "08:10", "08:50")
        early = _ticket(session, tp, 3, "booking", "08:45", "09:05")
        late = _ticket(session, tp, 4, "booking", "09:40", "09:52")
        _ticket(session, tp, 5, "remote", "08:30", "09:00")
        _booking(session, tp, TODAY, "09:00", "EARLY2", "checked_in", "web", early)
        _booking(session, tp, TODAY, "09:30", "LATE22", "checked_in", "api", late)
        _booking(session, tp, TODAY, "10:00", "GONE22", "no_show", "web")
        _booking(session, tp, TODAY, "10:30", "CANC22", "cancelled", "staff")
        _booking(session, labour, TOMORROW, "14:00", "NEXT22", "booked", "staff")
        return {"TPHT": tp.id, "LDTBXH": labour.id}


def _get(client: Any, url: str) -> Any:
    res = client.get(url, headers=bearer(token_for(client, "manager")))
    assert res.status_code == 200, res.get_data(as_text=True)[:400]
    return res


def test_the_summary_counts_bookings_per_field_and_day_and_compares_the_waits(app: Any,
                                                                              client: Any) -> None:
    ids = _seed(app)
    summary = _get(client, f"/api/v1/reports/summary?{DAYS}").get_json()
    assert set(summary) >= OLD_KEYS  # the old keys stay
    assert summary["issued"] == 5
    bookings = summary["bookings"]
    counted = ("made", "booked", "checked_in", "no_show", "cancelled", "remote_tickets")
    assert {k: bookings[k] for k in counted} == {
        "made": 5, "booked": 1, "checked_in": 2, "no_show": 1, "cancelled": 1, "remote_tickets": 1}
    assert bookings["by_channel"] == {"web": 2, "api": 1, "staff": 2}
    assert bookings["daily"] == [
        {"date": "2030-03-05", "service_id": ids["TPHT"], "name": "Tư pháp – Hộ tịch", "made": 4, "booked": 0,
         "checked_in": 2, "no_show": 1, "cancelled": 1, "remote_tickets": 1},
        {"date": "2030-03-06", "service_id": ids["LDTBXH"], "name": "Lao động – Thương binh và Xã hội",
         "made": 1, "booked": 1, "checked_in": 0, "no_show": 0, "cancelled": 0, "remote_tickets": 0}]
    assert summary["waits_by_arrival"] == {
        "booked": {"count": 2, "avg_wait_minutes": 8.5, "p90_wait_minutes": 12.0},
        "walk_in": {"count": 2, "avg_wait_minutes": 30.0, "p90_wait_minutes": 40.0},
        "remote": {"count": 1, "avg_wait_minutes": 30.0, "p90_wait_minutes": 30.0}}
    # the manager's page reads the same figures
    data = _get(client, f"/api/v1/reports/data?{DAYS}").get_json()
    assert data["bookings"] == bookings and data["waits_by_arrival"] == summary["waits_by_arrival"]
    # narrowed to a field; under a counter filter bookings have no figure (they have no counter)
    labour = _get(client, f"/api/v1/reports/summary?{DAYS}&service_id={ids['LDTBXH']}").get_json()
    assert (labour["bookings"]["made"], labour["bookings"]["remote_tickets"]) == (1, 0)
    assert labour["waits_by_arrival"]["walk_in"]["count"] == 0
    assert _get(client, f"/api/v1/reports/summary?{DAYS}&counter_id=1").get_json()["bookings"] is None


def test_the_xlsx_export_has_the_bookings_and_the_waits_by_arrival(app: Any, client: Any) -> None:
    _seed(app)
    res = _get(client, f"/api/v1/reports/export?{DAYS}&format=xlsx")
    book = load_workbook(io.BytesIO(res.data))
    assert book.sheetnames[0] == "Tổng hợp"
    sheet = book["Lịch hẹn, lấy số trực tuyến"]
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    header = rows.index(["Ngày", "Lĩnh vực", "Đặt lịch hẹn", "Đã đến", "Không đến", "Đã huỷ",
                         "Lấy số trực tuyến"])
    assert rows[header + 1:header + 3] == [
        ["05/03/2030", "Tư pháp – Hộ tịch", 4, 2, 1, 1, 1],
        ["06/03/2030", "Lao động – Thương binh và Xã hội", 1, 0, 0, 0, 0]]
    waits = [list(r) for r in book["Thời gian chờ theo cách đến"].iter_rows(values_only=True)]
    assert ["Công dân đặt lịch hẹn", 2, 8.5, 12] in waits
    assert ["Công dân đến trực tiếp", 2, 30, 40] in waits
    csv = _get(client, f"/api/v1/reports/export?{DAYS}&format=csv").data.decode("utf-8-sig")
    assert "05/03/2030;Tư pháp – Hộ tịch;4;2;1;1;1" in csv
    pdf = _get(client, f"/api/v1/reports/export?{DAYS}&format=pdf")
    assert pdf.data.startswith(b"%PDF")
