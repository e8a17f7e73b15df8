"""Kiosk screens through Flask's test client: tiles, field step, pairing, QR, issuing."""

from __future__ import annotations

import re

from kiosk import texts
from onestop.units.models import Unit
from tests.api.helpers import add_device, in_db, set_service, unit_of
from tests.conftest import bearer, token_for
from tests.kiosk.conftest import MONDAY_NOON, SUNDAY_9, TUESDAY_9, csrf_of, serve_always, tiles_of


def page(client, url: str) -> str:
    res = client.get(url)
    assert res.status_code == 200, res.get_data(as_text=True)[:300]
    return res.get_data(as_text=True)


def test_home_shows_every_field_with_its_days_hours_and_reason(scheduled):
    client = scheduled.test_client()
    scheduled.at(TUESDAY_9)
    set_service(scheduled, 6, active=False)  # Y tế
    html = page(client, "/kiosk/")
    tiles = tiles_of(html)
    assert len(tiles) == 10  # closed fields are shown, not hidden
    assert "Trung tâm Phục vụ hành chính công xã Hòa Bình" in html
    assert "Thứ Ba, 24/11/2026" in html and 'id="k-clock"' in html and ">09:00<" in html
    open_tile = tiles["Tư pháp – Hộ tịch"]  # every weekday
    assert "is-open" in open_tile and "Đang tiếp nhận" in open_tile
    assert "người đang chờ" in open_tile
    land = tiles["Đất đai"]  # Mon/Wed/Fri: not on a Tuesday
    assert "is-closed" in land and 'data-open="0"' in land
    assert "Hôm nay không tiếp nhận" in land
    assert "Thứ Hai, Thứ Tư, Thứ Sáu" in land
    assert "07:30–11:30, 13:30–17:00" in land
    assert "Tiếp nhận lại: ngày mai, 07:30" in land
    assert "07:30–11:30, 13:30–17:00" in open_tile  # an open field shows its hours too
    assert "Tạm ngừng tiếp nhận" in tiles["Y tế"] and "is-closed" in tiles["Y tế"]


def test_outside_hours_and_sunday(scheduled):
    client = scheduled.test_client()
    scheduled.at(MONDAY_NOON)
    tile = tiles_of(page(client, "/kiosk/"))["Tư pháp – Hộ tịch"]
    assert "Ngoài giờ tiếp nhận" in tile and "Tiếp nhận lại lúc 13:30 hôm nay" in tile
    scheduled.at(SUNDAY_9)
    tiles = tiles_of(page(client, "/kiosk/"))
    assert all("is-closed" in t for t in tiles.values())
    assert "Tiếp nhận lại: ngày mai, 07:30" in tiles["Đất đai"]
    assert "Thứ Ba, Thứ Năm" in tiles["Kinh tế – Hạ tầng"]
    assert "Tiếp nhận lại: Thứ Ba, 07:30" in tiles["Kinh tế – Hạ tầng"]


def test_texts(app):
    with app.test_request_context():
        assert texts.days_text([1, 3, 5]) == "Thứ Hai, Thứ Tư, Thứ Sáu"
        assert texts.days_text([1, 2, 3, 4, 5]) == "Thứ Hai – Thứ Sáu"
        assert texts.days_text([1, 2, 4, 5, 6]) == "Thứ Hai, Thứ Ba, Thứ Năm – Thứ Bảy"
        assert texts.days_text([7]) == "Chủ nhật"
        assert texts.processing_text(0) == "Trong ngày"
        assert texts.processing_text(15) == "15 ngày làm việc"
        assert texts.number(1234567) == "1.234.567"
        assert texts.ticket_state("called", 3) == "Đã đến lượt — mời đến quầy số 3"
        assert texts.priority_choices(["pregnant", "bogus"]) == [("pregnant", "Phụ nữ mang thai")]


def test_english_on_request_and_idle_setting(scheduled):
    client = scheduled.test_client()
    assert 'data-idle="20"' in page(client, "/kiosk/")
    with in_db(scheduled) as session:
        unit_of(session).settings = {"kiosk_idle_seconds": 7}
    html = page(client, "/kiosk/?lang=en")
    assert 'data-idle="7"' in html and 'data-lang="en"' in html
    assert "Justice – Civil status" in html  # the field's English name
    assert 'data-lang-next="vi"' in html  # the language button offers Vietnamese back
    client.set_cookie("lang", "en")
    assert 'data-lang="en"' in page(client, "/kiosk/")


def test_unpaired_browser_sees_tiles_but_cannot_issue(scheduled):
    client = scheduled.test_client()
    html = page(client, "/kiosk/")
    assert 'data-paired="0"' in html and "Ki-ốt chưa được ghép nối" in html
    res = client.post("/api/v1/tickets", json={"service_id": 1},
                      headers={"X-CSRFToken": csrf_of(html)})
    assert res.status_code == 401
    assert page(client, "/kiosk/pair").count('class="key"') == 32  # the pairing alphabet


def test_paired_kiosk_issues_with_cookie_and_csrf(scheduled):
    client = scheduled.test_client()
    serve_always(scheduled)
    client.set_cookie("onestop_device", add_device(scheduled, "kiosk", "Ki-ốt sảnh"))
    html = page(client, "/kiosk/field/1")
    assert 'data-paired="1"' in html
    no_csrf = client.post("/api/v1/tickets", json={"service_id": 1})
    assert no_csrf.status_code == 400 and no_csrf.get_json()["error"]["code"] == "csrf_failed"
    res = client.post("/api/v1/tickets", json={"service_id": 1, "priority": "elderly"},
                      headers={"X-CSRFToken": csrf_of(html)})
    assert res.status_code == 201, res.get_json()
    ticket = res.get_json()
    assert ticket["label"] == "A001" and ticket["source"] == "kiosk"
    # the kiosk that issued it may fetch its QR without the token; nobody else may
    qr = client.get(f"/kiosk/qr/{ticket['id']}.svg")
    assert qr.status_code == 200 and qr.mimetype == "image/svg+xml"
    assert qr.get_data(as_text=True).startswith("<svg")
    other = scheduled.test_client()
    assert other.get(f"/kiosk/qr/{ticket['id']}.svg").status_code == 404
    other.set_cookie("onestop_device", add_device(scheduled, "kiosk", "Ki-ốt 2"))
    assert other.get(f"/kiosk/qr/{ticket['id']}.svg").status_code == 404


def test_closed_field_refusal_is_a_friendly_message(scheduled):
    client = scheduled.test_client()
    client.set_cookie("onestop_device", add_device(scheduled, "kiosk"))
    set_service(scheduled, 2, weekdays=[])
    html = page(client, "/kiosk/field/2")
    assert "disabled" in html.split('id="go"')[1].split(">")[0]
    res = client.post("/api/v1/tickets", json={"service_id": 2}, headers={"X-CSRFToken": csrf_of(html)})
    assert res.status_code == 409
    assert res.get_json()["error"]["message"].startswith("Lĩnh vực này hôm nay không tiếp nhận")


def test_field_step_lists_procedures_and_the_units_priorities(scheduled):
    client = scheduled.test_client()
    html = page(client, "/kiosk/field/1?procedure=1")
    for name in ("Đăng ký khai sinh", "Đăng ký kết hôn", "Đăng ký khai tử",
                 "Chứng thực bản sao từ bản chính"):
        assert name in html
    assert "Đăng ký biến động" not in html  # another field's procedure
    for label in ("Người cao tuổi", "Người khuyết tật", "Phụ nữ mang thai",
                  "Người có công với cách mạng", "Không ưu tiên"):
        assert label in html
    assert re.search(r'class="proc is-selected"[^>]*data-procedure-id="1"', html)
    assert "Giấy chứng sinh" in html  # the documents to prepare, for the ticket screen
    with in_db(scheduled) as session:
        unit_of(session).settings = {"priority_classes": ["elderly"]}
    html = page(client, "/kiosk/field/1")
    assert "Người cao tuổi" in html and "Phụ nữ mang thai" not in html
    assert client.get("/kiosk/field/999").status_code == 404
    assert client.get("/kiosk/field/99999999999999999999").status_code == 404


def test_other_units_field_is_not_found(scheduled):
    with in_db(scheduled) as session:
        session.add(Unit(code="X1", name="Khác", settings={}))
    client = scheduled.test_client()
    assert client.get("/kiosk/field/1?unit=X1").status_code == 404
    assert "Không tìm thấy trang này" in client.get("/kiosk/field/1?unit=X1").get_data(as_text=True)


def test_qr_with_token_encodes_the_public_page(scheduled):
    client = scheduled.test_client()
    serve_always(scheduled)
    token = token_for(client, "clerk1")
    ticket = client.post("/api/v1/tickets", json={"service_id": 1}, headers=bearer(token)).get_json()
    from onestop.tokens import ticket_token, ticket_url

    secret = scheduled.config["SECRET_KEY"]
    k = ticket_token(secret, ticket["id"])
    anonymous = scheduled.test_client()
    res = anonymous.get(f"/kiosk/qr/{ticket['id']}.svg?k={k}")
    assert res.status_code == 200
    url = ticket_url(scheduled.config["PUBLIC_BASE_URL"], secret, ticket["id"])
    assert _decode_svg_qr(res.get_data(as_text=True)) == url
    assert anonymous.get(f"/kiosk/qr/{ticket['id']}.svg?k=AAAAAAAAAAAA").status_code == 404


def _decode_svg_qr(svg: str) -> str:
    """Rasterise the qrcode path (unit squares) and read it back with zxing-cpp."""
    import zxingcpp
    from PIL import Image, ImageDraw

    size = int(re.search(r'viewBox="0 0 (\d+) (\d+)"', svg).group(1))
    scale = 8
    image = Image.new("L", (size * scale, size * scale), 255)
    draw = ImageDraw.Draw(image)
    for x, y, x2, y2 in re.findall(r"M(\d+),(\d+)H(\d+)V(\d+)H\d+z", svg):
        draw.rectangle([int(x) * scale, int(y) * scale, int(x2) * scale - 1, int(y2) * scale - 1], fill=0)
    found = zxingcpp.read_barcodes(image)
    assert found, "no QR code found"
    return str(found[0].text)
