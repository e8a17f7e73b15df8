"""The citizen's phone pages in Debian's Chromium at 390x844, against one live demo server.

1. Book on a phone: field -> procedure (its documents) -> day -> slot -> a wrong phone
   (the error on the same screen, the name kept) -> the confirmation; its QR, read from a
   screenshot with zxing-cpp, opens the manage page; the booking is cancelled from there;
   a wrong key gets the 404 page.
2. Numbers from the phone: off -> "not offered here"; on -> a field, a ticket, its live page;
   "Tôi không chờ nữa" there moves the next ticket up at once: on its own live page (no
   reload) and at a hall display's Socket.IO client (queue.changed).

Screenshots (390x844) go to the test's tmp dir.
"""

from __future__ import annotations

import io
import json
import re
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import socketio
from PIL import Image
from playwright.sync_api import expect

from tests.bookings_pages.helpers import FIELD
from tests.hardware.conftest import read_qr
from tests.livesrv import loaded_demo_server

PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory,
           cheap_password_hashing: None) -> Iterator[tuple[str, Path]]:
    data_dir = tmp_path_factory.mktemp("phone")
    with loaded_demo_server(data_dir) as base:
        yield base, data_dir


def sql(data_dir: Path, statement: str, *args: Any) -> list[Any]:
    with sqlite3.connect(data_dir / "onestop.sqlite3") as conn:
        return conn.execute(statement, args).fetchall()


def set_remote(data_dir: Path, allowed: bool) -> None:
    """The unit's ``remote_tickets``; field 1 served around the clock (numbers from the phone
    follow the field's hours, and the tests may run on a Sunday night)."""
    (raw,) = sql(data_dir, "SELECT settings FROM units ORDER BY id LIMIT 1")[0]
    settings = {**json.loads(raw or "{}"), "remote_tickets": allowed}
    sql(data_dir, "UPDATE units SET settings = ? WHERE id = (SELECT min(id) FROM units)",
        json.dumps(settings))
    sql(data_dir, "UPDATE services SET weekdays = ?, windows = ? WHERE id = ?",
        "[1, 2, 3, 4, 5, 6, 7]", '[["00:00", "23:59"]]', FIELD)


def phone_page(browser: Any) -> Any:
    context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.problems = []  # type: ignore[attr-defined]
    page.on("pageerror", lambda e: page.problems.append(str(e)))
    # a page answered 422 or 404 on purpose logs "Failed to load resource": not a problem
    page.on("console", lambda m: page.problems.append(m.text)
            if m.type == "error" and not m.text.startswith("Failed to load resource") else None)
    return page


def shot(page: Any, tmp_path: Path, name: str) -> Path:
    path = tmp_path / f"phone_{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def test_book_on_a_phone_scan_the_qr_cancel(server: tuple[str, Path], browser: Any, tmp_path: Path) -> None:
    base, data_dir = server
    page = phone_page(browser)
    page.goto(f"{base}/book/")
    shot(page, tmp_path, "1_fields")
    page.locator("#ph-fields a").first.click()
    # the procedure: its documents open under it, then "Chọn thủ tục này"
    procedure = page.locator("#ph-procedures details").first
    procedure.locator("summary").click()
    documents = procedure.locator(".ph-docs li").all_inner_texts()
    assert documents, "the procedure's documents are shown"
    shot(page, tmp_path, "2_procedure")
    procedure.get_by_text("Chọn thủ tục này").click()
    page.wait_for_url(re.compile(r"/book/\d+/day\?"))
    shot(page, tmp_path, "3_day")
    page.locator("#ph-days a").first.click()
    page.wait_for_url(re.compile(r"/slot\?"))
    shot(page, tmp_path, "4_slot")
    slot = page.locator("#ph-slots a").first
    time_text = slot.locator("b").inner_text()
    slot.click()
    page.wait_for_url(re.compile(r"/contact\?"))
    assert "được xóa sau ngày hẹn" in page.locator("#ph-consent").inner_text()
    # a wrong number: said in plain Vietnamese on the same screen, nothing typed lost
    page.fill("#ph-phone", "12345")
    page.fill("#ph-name", "Nguyễn Thị Mai")
    page.click("#ph-book")
    assert "không hợp lệ" in page.locator("#ph-error").inner_text()
    assert page.input_value("#ph-name") == "Nguyễn Thị Mai" and page.input_value("#ph-phone") == "12345"
    shot(page, tmp_path, "5_wrong_phone")
    page.fill("#ph-phone", "0912 345 678")
    page.click("#ph-book")
    page.wait_for_url(re.compile(r"/b/\w+\?k="))
    assert "Đặt lịch hẹn thành công" in page.locator("#ph-done").inner_text()
    code = page.locator("#ph-code").inner_text().strip()
    assert time_text in page.locator("#ph-time").inner_text()
    assert page.locator("#ph-documents li").all_inner_texts() == documents
    expect(page.locator("#ph-qr")).to_have_js_property("complete", True)
    confirmation = shot(page, tmp_path, "6_confirmation")
    assert Image.open(confirmation).size[0] == PHONE["width"] * 2
    # the QR, read from the screen, is the manage link (what the kiosk's scanner gets)
    png = page.locator("#ph-qr").screenshot()
    texts = read_qr(Image.open(io.BytesIO(png)))
    assert len(texts) == 1 and f"/b/{code}?k=" in texts[0], texts
    other = phone_page(browser)
    other.goto(base + "/b/" + texts[0].split("/b/", 1)[1])
    assert other.locator("#ph-code").inner_text().strip() == code
    assert "Đã đặt lịch hẹn" in other.locator("#ph-state").inner_text()
    # cancel, with a screen that asks first
    other.click("#ph-cancel")
    assert "muốn hủy lịch hẹn" in other.locator("h1").inner_text()
    shot(other, tmp_path, "7_cancel_ask")
    other.click("#ph-cancel-yes")
    assert "Lịch hẹn đã hủy" in other.locator("#ph-state").inner_text()
    assert other.locator("#ph-cancel").count() == 0
    shot(other, tmp_path, "8_cancelled")
    assert sql(data_dir, "SELECT state FROM bookings WHERE code = ?", code) == [("cancelled",)]
    # a wrong key: the same 404 page as an unknown code
    response = other.goto(f"{base}/b/{code}?k=AAAAAAAAAAAA")
    assert response is not None and response.status == 404
    assert "Không tìm thấy lịch hẹn" in other.locator("h1").inner_text()
    assert not page.problems and not other.problems, page.problems + other.problems
    page.context.close()
    other.context.close()


def test_number_from_the_phone_then_i_left(server: tuple[str, Path], browser: Any, tmp_path: Path) -> None:
    base, data_dir = server
    set_remote(data_dir, False)
    page = phone_page(browser)
    page.goto(f"{base}/q/")
    assert "chưa cho lấy số thứ tự qua điện thoại" in page.locator("#ph-remote-off").inner_text()
    shot(page, tmp_path, "q_off")
    set_remote(data_dir, True)
    page.goto(f"{base}/q/")
    page.locator(f"#ph-remote-fields a[href='/q/{FIELD}']").click()
    page.fill("#ph-phone", "0987 111 222")
    page.click("#ph-take")
    page.wait_for_url(re.compile(r"/t/\d+\?k="))
    mine = int(re.search(r"/t/(\d+)", page.url).group(1))
    assert page.locator("#tp-state").inner_text() == "Đang chờ"
    shot(page, tmp_path, "q_ticket")
    # someone takes a number after me: one person ahead of them, live on their page
    clerk = requests.post(f"{base}/api/v1/auth/token", json={"username": "clerk1", "password": "demo"},
                          timeout=10).json()["token"]
    auth = {"Authorization": f"Bearer {clerk}"}
    nxt = requests.post(f"{base}/api/v1/tickets", json={"service_id": FIELD}, headers=auth, timeout=10).json()
    ahead_before = requests.get(f"{base}/api/v1/tickets/{nxt['id']}", timeout=10).json()["waiting_ahead"]
    assert ahead_before >= 1
    other = phone_page(browser)
    other.goto(f"{base}/t/{nxt['id']}?k={ticket_key(nxt['id'])}")
    assert other.locator("#tp-ahead").inner_text() == str(ahead_before)
    # a hall display listening
    display = socketio.Client(reconnection=False)
    changes: list[dict[str, Any]] = []
    got = threading.Event()

    def on_queue(data: dict[str, Any]) -> None:
        changes.append(data)
        # one fewer waiting in the field than with me
        if any(w["service_id"] == FIELD and w["waiting"] == ahead_before for w in data["waiting"]):
            got.set()

    display.on("queue.changed", on_queue, namespace="/display")
    display.connect(base, namespaces=["/display"], transports=["websocket"], wait_timeout=30)
    try:
        page.click("#ph-leave-ask")
        assert "chắc chắn không chờ nữa" in page.locator("#ph-leave-q").inner_text()
        shot(page, tmp_path, "leave_ask")
        page.click("#ph-leave-yes")
        expect(page.locator("#tp-state")).to_contain_text("Đã hủy", timeout=10000)
        assert page.locator("#ph-leave").count() == 0  # a cancelled ticket offers no button
        shot(page, tmp_path, "leave_done")
        assert got.wait(10), f"the hall display was not told one fewer waits: {changes}"
        # the next ticket's own page moved up, without a reload
        expect(other.locator("#tp-ahead")).to_have_text(str(ahead_before - 1), timeout=10000)
    finally:
        display.disconnect()
    assert sql(data_dir, "SELECT state FROM tickets WHERE id = ?", mine) == [("cancelled",)]
    assert not page.problems and not other.problems, page.problems + other.problems
    page.context.close()
    other.context.close()


def ticket_key(ticket_id: int) -> str:
    from onestop.tokens import ticket_token
    from tests.conftest import SECRET

    return ticket_token(SECRET, ticket_id)
