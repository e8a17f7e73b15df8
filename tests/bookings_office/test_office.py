"""The bookings' back office: a field's booking settings, the unit's settings, the day's list
(masked phones, states), a booking made for a citizen on the phone, a cancel, the poster."""

from __future__ import annotations

import io
from typing import Any

import pytest
from sqlalchemy import select

from onestop.bookings.models import Booking
from onestop.queueing.models import Service
from onestop.units.models import Unit
from tests.api.helpers import in_db
from tests.backoffice.conftest import assert_audited, field_errors, signed_in, submit, text_of
from tests.bookings_office.conftest import MASKED, PHONE, TODAY, TOMORROW, local

GOOD = {"enabled": "y", "slot_minutes": "20", "per_slot": "3", "walkin_share": "40", "days_ahead": "7",
        "book_before_minutes": "45", "cancel_before_minutes": "60"}


# --- a field's booking settings ---------------------------------------------------------


def test_an_admin_turns_bookings_on_for_a_field_and_the_change_is_audited(office: Any) -> None:
    admin = signed_in(office, "admin")
    url = f"/admin/services/{office.ids['DD']}/booking"
    page = admin.get(url)
    assert page.status_code == 200 and "Nhận đặt lịch hẹn cho lĩnh vực này" in text_of(page)
    res = submit(admin, url, GOOD)
    assert res.status_code == 302
    with in_db(office) as session:
        stored = session.get(Service, office.ids["DD"]).booking  # type: ignore[union-attr]
    assert stored == {"slot_minutes": 20, "per_slot": 3, "walkin_share": 0.4, "days_ahead": 7,
                      "book_before_minutes": 45, "cancel_before_minutes": 60}
    assert "Đã lưu cài đặt đặt lịch hẹn." in text_of(admin.get(url))
    assert 'value="40"' in text_of(admin.get(url))  # the share shown back as a percentage
    assert_audited(office, admin, "service", "update", booking=stored)
    # off again: the field takes no bookings
    assert submit(admin, url, {k: v for k, v in GOOD.items() if k != "enabled"}).status_code == 302
    with in_db(office) as session:
        assert session.get(Service, office.ids["DD"]).booking is None  # type: ignore[union-attr]


@pytest.mark.parametrize(("change", "message"), [
    ({"slot_minutes": "0"}, "Độ dài lượt hẹn phải từ 5 đến 240 phút."),
    ({"slot_minutes": "120"}, "Lượt hẹn dài hơn khung giờ tiếp nhận dài nhất của lĩnh vực (90 phút)."),
    ({"per_slot": ""}, "Cần nhập thông tin này."),
    ({"per_slot": "ba"}, "Cần nhập một số nguyên."),
    ({"walkin_share": "100"}, "Phần dành cho người đến trực tiếp phải từ 0 đến 95 %."),
    ({"days_ahead": "-1"}, "Số ngày đặt trước phải từ 0 đến 60."),
    ({"cancel_before_minutes": "20000"}, "Thời hạn huỷ phải từ 0 đến 10080 phút trước giờ hẹn."),
])
def test_bad_booking_settings_are_refused_with_a_clear_vietnamese_error(
        office: Any, change: dict[str, str], message: str) -> None:
    with in_db(office) as session:  # a field open 07:30-09:00 and 13:30-14:30
        session.get(Service, office.ids["DD"]).windows = [["07:30", "09:00"], ["13:30", "14:30"]]  # type: ignore[union-attr]
    admin = signed_in(office, "admin")
    url = f"/admin/services/{office.ids['DD']}/booking"
    res = submit(admin, url, {**GOOD, **change})
    assert res.status_code == 422
    assert message in field_errors(res)
    with in_db(office) as session:
        assert session.get(Service, office.ids["DD"]).booking is None  # type: ignore[union-attr]


def test_the_units_check_in_and_remote_ticket_settings(office: Any) -> None:
    admin = signed_in(office, "admin")
    res = submit(admin, "/admin/booking-settings", {
        "booking_checkin_early_minutes": "20", "booking_checkin_late_minutes": "5",
        "remote_tickets": "y", "remote_share": "25", "remote_per_phone_per_day": "1",
        "remote_per_address_per_day": "4"})
    assert res.status_code == 302
    with in_db(office) as session:
        settings = session.get(Unit, office.ids["unit"]).settings  # type: ignore[union-attr]
    assert {k: settings[k] for k in ("booking_checkin_early_minutes", "booking_checkin_late_minutes",
                                     "booking_outside_gets_ticket", "remote_tickets", "remote_share",
                                     "remote_per_phone_per_day", "remote_per_address_per_day")} == {
        "booking_checkin_early_minutes": 20, "booking_checkin_late_minutes": 5,
        "booking_outside_gets_ticket": False, "remote_tickets": True, "remote_share": 0.25,
        "remote_per_phone_per_day": 1, "remote_per_address_per_day": 4}
    assert_audited(office, admin, "unit_settings", "update", remote_share=0.25)
    bad = submit(admin, "/admin/booking-settings", {
        "booking_checkin_early_minutes": "500", "booking_checkin_late_minutes": "5",
        "remote_share": "0", "remote_per_phone_per_day": "1", "remote_per_address_per_day": "4"})
    assert bad.status_code == 422
    assert set(field_errors(bad)) == {"Giá trị phải từ 0 đến 120 phút.", "Giá trị phải từ 1 đến 100 %."}
    # a clerk reaches neither settings page
    clerk = signed_in(office, "clerk1")
    assert clerk.get("/admin/booking-settings").status_code == 403
    assert clerk.get(f"/admin/services/{office.ids['DD']}/booking").status_code == 403


# --- the day's list -----------------------------------------------------------------------


def test_a_clerk_sees_the_days_bookings_with_masked_phones_and_their_states(office: Any) -> None:
    clerk = signed_in(office, "clerk1")
    page = text_of(clerk.get("/admin/bookings"))
    assert "Lịch hẹn ngày 05/03/2030" in page
    assert PHONE not in page and "+84987654321" not in page
    assert MASKED in page and "+84 98*****21" in page
    assert "AAA222" in page and "Nguyễn Văn An" in page and "09:00–09:30" in page
    for label in ("Đã đặt", "Đã đến", "Đã huỷ"):
        assert label in page
    assert "DDD555" not in page  # tomorrow's
    assert "Lao động – Thương binh và Xã hội" in page  # a bookable field without bookings today
    tomorrow = text_of(clerk.get(f"/admin/bookings?day={TOMORROW.isoformat()}"))
    assert "DDD555" in tomorrow and "+84 93*****55" in tomorrow and "AAA222" not in tomorrow
    only = text_of(clerk.get(f"/admin/bookings?service_id={office.ids['LDTBXH']}"))
    assert "AAA222" not in only and "Không có lịch hẹn." in only
    # printable: the print stylesheet and the print button
    assert "bookings.css" in page and "data-print" in page


def test_staff_cancel_a_booking_from_the_list(office: Any) -> None:
    clerk = signed_in(office, "clerk1")
    res = submit(clerk, f"/admin/bookings/{office.ids['AAA222']}/cancel", {}, form_url="/admin/bookings")
    assert res.status_code == 302
    page = text_of(clerk.get(res.headers["Location"]))
    assert "Đã huỷ lịch hẹn AAA222." in page
    with in_db(office) as session:
        row = session.get(Booking, office.ids["AAA222"])
        assert row is not None and row.state == "cancelled" and row.cancelled_at is not None
    entry = assert_audited(office, signed_in(office, "admin"), "booking", "cancel", actor="Trần Văn An",
                           state="cancelled", phone=MASKED)
    assert PHONE not in str(entry.after)
    # a checked-in one cannot be cancelled
    again = submit(clerk, f"/admin/bookings/{office.ids['BBB333']}/cancel", {}, form_url="/admin/bookings")
    assert "không còn huỷ được" in text_of(clerk.get(again.headers["Location"]))
    with in_db(office) as session:
        assert session.get(Booking, office.ids["BBB333"]).state == "checked_in"  # type: ignore[union-attr]


# --- a booking for a citizen on the phone ---------------------------------------------------


def _new_url(office: Any) -> str:
    return f"/admin/bookings/new?service_id={office.ids['TPHT']}&day={TODAY.isoformat()}"


def test_a_clerk_books_for_a_citizen_and_reads_out_the_code(office: Any) -> None:
    clerk = signed_in(office, "clerk1")
    page = text_of(clerk.get(_new_url(office)))
    assert "08:30–09:00 (còn 2 chỗ)" in page and "09:00–09:30 (còn 1 chỗ)" in page
    assert "08:00–08:30" not in page  # less than 30 minutes ahead
    start = local(TODAY, "10:30").astimezone(office_tz()).isoformat()
    res = submit(clerk, _new_url(office), {"start": start, "phone": "0977 111 222",
                                           "name": "Phạm Thị Dung", "procedure_code": ""})
    assert res.status_code == 200
    text = text_of(res)
    assert "Đọc cho công dân mã lịch hẹn:" in text and "10:30 ngày 05/03/2030" in text
    with in_db(office) as session:
        row = session.scalars(select(Booking).where(Booking.phone == "+84977111222")).one()
        assert (row.channel, row.state, row.name, row.start) == ("staff", "booked", "Phạm Thị Dung",
                                                                 local(TODAY, "10:30"))
        assert row.created_by_user_id is not None
    assert f'id="booking-code">{row.code}<' in text
    assert "+84977111222" in text  # the clerk typed it: shown in full on the answer
    assert_audited(office, signed_in(office, "admin"), "booking", "create", actor="Trần Văn An",
                   phone="+84 97*****22", channel="staff")


def office_tz() -> Any:
    from tests.bookings_office.conftest import TZ

    return TZ


def test_a_full_slot_is_refused_cleanly(office: Any) -> None:
    clerk = signed_in(office, "clerk1")
    start = local(TODAY, "09:00").astimezone(office_tz()).isoformat()  # one place left
    first = submit(clerk, _new_url(office), {"start": start, "phone": "0977 000 001"})
    assert first.status_code == 200
    # the page of a second clerk still offered it; now it is full
    second = clerk.post(_new_url(office), data={"start": start, "phone": "0977 000 002",
                                                "csrf_token": _csrf(clerk, office)})
    assert second.status_code == 422
    text = text_of(second)
    assert "Giờ hẹn này vừa hết chỗ. Vui lòng chọn giờ khác." in text
    assert "09:00–09:30" not in text  # no longer offered
    with in_db(office) as session:
        assert session.scalars(select(Booking).where(Booking.phone == "+84977000002")).first() is None


def _csrf(client: Any, office: Any) -> str:
    from tests.backoffice.conftest import csrf_from

    return csrf_from(client.get(_new_url(office)).get_data(as_text=True))


def test_a_bad_phone_and_a_phone_already_booked_get_clear_answers(office: Any) -> None:
    clerk = signed_in(office, "clerk1")
    start = local(TODAY, "11:00").astimezone(office_tz()).isoformat()
    bad = submit(clerk, _new_url(office), {"start": start, "phone": "12345"})
    assert bad.status_code == 422
    assert "Số điện thoại di động không hợp lệ (ví dụ 0912 345 678)." in field_errors(bad)
    again = submit(clerk, _new_url(office), {"start": start, "phone": "0912 345 678"})
    assert again.status_code == 422
    assert "Số điện thoại này đã có lịch hẹn trong lĩnh vực này vào ngày đã chọn." in text_of(again)


def test_a_day_without_slots_says_so(office: Any) -> None:
    clerk = signed_in(office, "clerk1")
    sunday = text_of(clerk.get(f"/admin/bookings/new?service_id={office.ids['TPHT']}&day=2030-03-10"))
    assert "Ngày này không còn giờ hẹn trống" in sunday and 'id="on-behalf"' not in sunday


# --- the poster -----------------------------------------------------------------------------


def test_the_poster_carries_the_qrs_of_the_phone_pages(office: Any) -> None:
    import pypdfium2
    import zxingcpp

    manager = signed_in(office, "manager")
    res = manager.get("/admin/bookings/poster.pdf")
    assert res.status_code == 200 and res.mimetype == "application/pdf"
    document = pypdfium2.PdfDocument(io.BytesIO(res.data))
    try:
        assert len(document) == 1
        image = document[0].render(scale=2).to_pil().convert("L")
        text = document[0].get_textpage().get_text_range()
    finally:
        document.close()
    found = sorted(r.text for r in zxingcpp.read_barcodes(image))
    assert found == ["http://192.168.1.10:8000/book/", "http://192.168.1.10:8000/q/"]
    assert "LẤY SỐ THỨ TỰ VÀ ĐẶT LỊCH HẸN" in " ".join(text.split())
    assert signed_in(office, "clerk1").get("/admin/bookings/poster.pdf").status_code == 403
    # reachable from the back office
    assert "/admin/bookings/poster.pdf" in text_of(signed_in(office, "admin").get("/admin/booking-settings"))
