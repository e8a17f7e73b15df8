"""The phone pages over HTTP: each step asks one thing, the engine's refusals come back in
plain Vietnamese on the same screen with what was typed, wrong keys get the 404 page."""

from __future__ import annotations

import re

import pytest

from onestop.bookings.engine import manage_key
from onestop.bookings.models import Booking
from onestop.extensions import db
from tests.bookings_pages.helpers import FIELD, csrf_of, links, open_field, text


@pytest.fixture
def phone(app):
    with app.app_context():
        open_field(db.session())
    return app.test_client()


def walk_to_contact(phone) -> tuple[str, str]:
    """/book/ -> field -> procedure (the first) -> first day -> first free slot: the form."""
    html = text(phone.get("/book/"))
    assert "Quý công dân cần làm việc với lĩnh vực nào?" in html
    field = links(html, f"/book/{FIELD}/")[0]
    html = text(phone.get(field))
    assert "Giấy tờ cần mang theo" in html and "Bỏ qua, chọn ngày hẹn" in html
    day_url = links(html, f"/book/{FIELD}/day\\?p=")[0]
    html = text(phone.get(day_url))
    assert "Quý công dân muốn đến ngày nào?" in html and "Còn " in html
    slot_day = links(html, f"/book/{FIELD}/slot")[0]
    html = text(phone.get(slot_day))
    assert "Quý công dân muốn đến lúc mấy giờ?" in html
    contact = links(html, f"/book/{FIELD}/contact")[0]
    html = text(phone.get(contact))
    assert "được xóa sau ngày hẹn" in html  # the consent line
    return contact, html


def test_booking_flow_errors_keep_what_was_typed_and_manage(app, phone):
    contact, html = walk_to_contact(phone)
    form = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', html))
    bad = phone.post(contact.split("?")[0], data={**form, "phone": "12345", "name": "Nguyễn Thị Mai"})
    page = text(bad)
    assert bad.status_code == 422 and 'value="12345"' in page and 'value="Nguyễn Thị Mai"' in page
    assert 'id="ph-error"' in page and 'data-code="invalid_phone"' in page
    good = phone.post(contact.split("?")[0], data={**form, "phone": "0912 345 678", "name": "Nguyễn Thị Mai"})
    assert good.status_code == 303
    manage = good.headers["Location"]
    page = text(phone.get(manage))
    assert "Đặt lịch hẹn thành công" in page and "Mã lịch hẹn" in page
    code = re.search(r'id="ph-code">(\w+)<', page).group(1)
    assert 'id="ph-documents"' in page  # the chosen procedure's documents
    qr = phone.get(re.search(r'id="ph-qr" src="([^"]+)"', page).group(1).replace("&amp;", "&"))
    assert qr.status_code == 200 and qr.mimetype == "image/svg+xml"
    assert qr.headers["X-Booking-Url"].endswith(manage.split("&new=")[0].split("/b/", 1)[1]) or \
        f"/b/{code}?k=" in qr.headers["X-Booking-Url"]
    ics = phone.get(f"/b/{code}/calendar.ics?k={re.search(r'k=([^&]+)', manage).group(1)}")
    assert ics.status_code == 200 and "BEGIN:VEVENT" in text(ics) and code in text(ics)
    # the same phone, the same field, the same day: already booked, said on the same screen
    again = phone.post(contact.split("?")[0], data={**form, "phone": "0912345678", "name": "Mai"})
    assert again.status_code == 409 and 'data-code="already_booked"' in text(again)
    # cancel: a screen that asks, then the POST
    with app.app_context():
        booking = db.session.query(Booking).filter_by(code=code).one()
        key = manage_key(app.config["SECRET_KEY"], booking)
    ask = text(phone.get(f"/b/{code}/cancel?k={key}"))
    assert "Quý công dân muốn hủy lịch hẹn này?" in ask
    done = phone.post(f"/b/{code}/cancel", data={"k": key, "csrf_token": csrf_of(ask)})
    assert done.status_code == 303
    assert "Lịch hẹn đã hủy" in text(phone.get(done.headers["Location"]))
    with app.app_context():
        assert db.session.query(Booking).filter_by(code=code).one().state == "cancelled"


def test_wrong_key_or_code_is_one_404_page(app, phone):
    contact, html = walk_to_contact(phone)
    form = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', html))
    res = phone.post(contact.split("?")[0], data={**form, "phone": "0987654321"})
    code = res.headers["Location"].split("/b/")[1].split("?")[0]
    pages = [phone.get(f"/b/{code}?k=AAAAAAAAAAAA"), phone.get(f"/b/{code}"),
             phone.get("/b/ZZZZZZ?k=AAAAAAAAAAAA"), phone.get(f"/b/{code}/qr.svg?k=x"),
             phone.get(f"/b/{code}/cancel?k=AAAAAAAAAAAA")]
    assert [p.status_code for p in pages] == [404] * 5
    assert all("Không tìm thấy lịch hẹn" in text(p) for p in pages)


def test_numbers_from_the_phone_off_then_on(app):
    client = app.test_client()
    with app.app_context():
        open_field(db.session(), remote=False)
    off = text(client.get("/q/"))
    assert "chưa cho lấy số thứ tự qua điện thoại" in off
    with app.app_context():
        open_field(db.session(), remote=True)
    html = text(client.get("/q/"))
    take = links(html, f"/q/{FIELD}")[0]
    form = text(client.get(take))
    bad = client.post(take, data={"phone": "abc", "csrf_token": csrf_of(form)})
    assert bad.status_code == 422 and 'value="abc"' in text(bad)
    res = client.post(take, data={"phone": "", "csrf_token": csrf_of(form)})
    assert res.status_code == 303 and re.match(r"^/t/\d+\?k=", res.headers["Location"])
    ticket_page = text(client.get(res.headers["Location"]))
    assert "Số thứ tự của Quý công dân" in ticket_page and "Tôi không chờ nữa" in ticket_page
