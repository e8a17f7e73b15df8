"""The phone pages over HTTP: each step asks one thing, the engine's refusals come back in
plain Vietnamese on the same screen with what was typed, wrong keys get the 404 page."""

from __future__ import annotations

import datetime as dt
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


def test_on_the_day_the_manage_page_shows_the_queue_then_the_ticket(app, phone):
    from onestop.bookings import engine as bookings
    from onestop.db import utcnow
    from onestop.queueing.engine import SYSTEM, issue_ticket
    from onestop.queueing.models import Service
    from onestop.tokens import ticket_token
    from onestop.units.models import Unit

    secret = app.config["SECRET_KEY"]
    with app.app_context():
        session = db.session()
        unit = session.query(Unit).order_by(Unit.id).first()
        service = session.get(Service, FIELD)
        now = utcnow()
        for _ in range(2):  # two people already waiting in the field
            issue_ticket(session, unit, service, actor=SYSTEM, now=now, always_open=True)
        booking = Booking(unit_id=unit.id, service_id=FIELD, code=bookings.new_code(session),
                          start=now - dt.timedelta(minutes=5), end=now + dt.timedelta(minutes=10),
                          phone="+84912345678", state="booked", channel="web", created_at=now)
        session.add(booking)
        session.commit()
        code, key = booking.code, manage_key(secret, booking)
    page = text(phone.get(f"/b/{code}?k={key}"))
    assert 'id="ph-live"' in page and 'id="ph-waiting">2<' in page  # the field's queue today
    assert "manage.js" in page and "Tôi không chờ nữa" not in page
    with app.app_context():
        session = db.session()
        booking = session.query(Booking).filter_by(code=code).one()
        ticket = bookings.check_in(session, session.get(Unit, booking.unit_id), booking,
                                   actor=SYSTEM, now=utcnow())
        session.commit()
        ticket_id = ticket.id
    page = text(phone.get(f"/b/{code}?k={key}"))
    assert "Đã lấy số tại Trung tâm" in page
    assert f'href="/t/{ticket_id}?k={ticket_token(secret, ticket_id)}"' in page
    assert "Tôi không chờ nữa" in page and "leave.js" in page and 'id="ph-cancel"' not in page
    res = phone.post(f"/api/v1/tickets/{ticket_id}/cancel", json={"k": ticket_token(secret, ticket_id)},
                     headers={"X-CSRFToken": csrf_of(page)})
    assert res.status_code == 200, res.get_json()
    assert "Tôi không chờ nữa" not in text(phone.get(f"/b/{code}?k={key}"))


def test_english(app, phone):
    html = text(phone.get("/book/?lang=en"))
    assert "Which field do you need?" in html and 'href="/book/?lang=vi"' in html


def test_the_forms_are_limited_per_address_and_per_phone(tmp_path):
    from tests.conftest import demo_app

    with demo_app(tmp_path, RATELIMIT_ENABLED=True, BOOKING_RATE_LIMIT="2 per minute") as app:
        with app.app_context():
            open_field(db.session())
        phone = app.test_client()
        contact, html = walk_to_contact(phone)
        form = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', html))
        url = contact.split("?")[0]

        def post(number: str, address: str) -> int:
            res = phone.post(url, data={**form, "phone": number}, environ_base={"REMOTE_ADDR": address})
            return int(res.status_code)

        # the same phone (however written) from three addresses: booked, already booked, refused
        assert post("0912 000 001", "10.0.0.1") == 303
        assert post("+84912000001", "10.0.0.2") == 409
        assert post("84 912 000 001", "10.0.0.3") == 429
        refused = text(phone.post(url, data={**form, "phone": "0912000001", "name": "Lê Văn Tám"},
                                  environ_base={"REMOTE_ADDR": "10.0.0.5"}))
        assert 'data-code="rate_limited"' in refused and 'value="Lê Văn Tám"' in refused  # kept
        # one address, other phones (bad ones: nothing books): refused on its third try too
        assert [post(f"09130000{i}x", "10.0.0.9") for i in range(3)] == [422, 422, 429]


def test_the_booking_pages_are_limited_per_address(tmp_path):
    from tests.conftest import demo_app

    with demo_app(tmp_path, RATELIMIT_ENABLED=True, TICKET_PAGE_RATE_LIMIT="2 per minute") as app:
        guesser = app.test_client()
        for path in ("/b/ABCDEF?k=AAAAAAAAAAAA", "/b/ABCDEF/qr.svg?k=AAAAAAAAAAAA"):
            assert [guesser.get(path).status_code for _ in range(3)] == [404, 404, 429]


def test_the_number_form_says_too_many_on_its_screen(tmp_path):
    from tests.conftest import demo_app

    with demo_app(tmp_path, RATELIMIT_ENABLED=True, REMOTE_TICKET_RATE_LIMIT="1 per minute") as app:
        with app.app_context():
            open_field(db.session(), remote=True)
        client = app.test_client()
        form = text(client.get(f"/q/{FIELD}"))
        answers = [client.post(f"/q/{FIELD}", data={"phone": "abc", "csrf_token": csrf_of(form)})
                   for _ in range(2)]
        assert [a.status_code for a in answers] == [422, 429]
        page = text(answers[1])
        assert 'data-code="rate_limited"' in page and 'value="abc"' in page
