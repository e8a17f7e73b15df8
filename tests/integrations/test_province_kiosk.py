"""The province's status on the kiosk's lookup screen, in Debian's Chromium against a real
server pointed at the fake provincial server (tests/integrations/conftest.py) on a free port.

At a paired kiosk: a code only the province knows, typed on the on-screen keyboard without
phone digits, shows the province's status in big text (nothing personal, no pickup offer);
one of our own dossiers, linked to a provincial code and ready, scanned from its receipt
shows our status, the province's beside it, and still offers the pickup ticket; its bare code
asks for the phone digits; with the province hanging, "Không kết nối được hệ thống của tỉnh"
shows within about 3 s after a waiting message.

Screenshots go to /tmp/kiosk_province_*.png (portrait 1080x1920).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest
import requests

from tests.integrations.conftest import TOKEN, FakeProvince, _handler
from tests.kiosk.test_pickup_browser import APPLICANT, KIOSK, call, kiosk_pairing_code, scan
from tests.livesrv import demo_server

ONLY_PROVINCE = "G22.39-241125-0012"
LINKED = "000.00.14.H56-251203-0007"
HANGING = "G22.39-241125-0099"
NOT_CONNECTED = "Không kết nối được hệ thống của tỉnh"


@pytest.fixture(scope="module")
def fake_province() -> Iterator[FakeProvince]:
    fake = FakeProvince()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake))
    server.daemon_threads = True
    fake.url = f"http://127.0.0.1:{server.server_address[1]}/api/tthc"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, cheap_password_hashing: None,
           fake_province: FakeProvince) -> Iterator[tuple[str, Path]]:
    from sqlalchemy.orm import Session

    from onestop import demo
    from onestop.db import make_engine
    from onestop.migrate import upgrade

    data_dir = tmp_path_factory.mktemp("province-kiosk")
    url = f"sqlite:///{data_dir / 'onestop.sqlite3'}"
    upgrade(url)
    engine = make_engine(url)
    with Session(engine) as session:
        demo.load(session)  # with this process's cheap password hashes
        session.commit()
    engine.dispose()
    with demo_server(data_dir, ONESTOP_PROVINCE_URL=fake_province.url, ONESTOP_PROVINCE_TOKEN=TOKEN,
                     ONESTOP_PROVINCE_WORKER="false") as base:
        yield base, data_dir


def type_on_screen(page: object, text: str) -> None:
    """The citizen's finger on the on-screen keyboard, key by key."""
    for key in text:
        page.click(f'#lk-keyboard [data-key="{key}"]')  # type: ignore[attr-defined]


def linked_ready_dossier(base: str, clerk: dict[str, str]) -> dict[str, str]:
    """Counter 1 serves a ticket, links it to the province's code, receives a dossier under
    it and marks it ready."""
    call(base, clerk, "/counters/1/open")
    ticket = call(base, clerk, "/tickets", {"service_id": 1}, 201)
    assert call(base, clerk, "/counters/1/call-next")["id"] == ticket["id"]
    call(base, clerk, f"/tickets/{ticket['id']}/provincial-code", {"code": LINKED})
    dossier = call(base, clerk, "/dossiers", {"procedure_code": "1.001193", "applicant": APPLICANT,
                                              "ticket_id": ticket["id"]}, 201)
    call(base, clerk, f"/dossiers/{dossier['code']}/status", {"state": "processing"})
    call(base, clerk, f"/dossiers/{dossier['code']}/status", {"state": "ready", "place": "Quầy số 1"})
    return dict(dossier)


def test_the_kiosk_shows_the_provinces_status_and_never_hangs(server, browser, fake_province):
    base, data_dir = server
    fake_province.dossiers[ONLY_PROVINCE] = {
        "MaHoSo": ONLY_PROVINCE, "TrangThaiHoSo": "9", "TenTTHC": "Đăng ký hộ kinh doanh",
        "NgayTiepNhan": "20261203080000", "NgayHenTra": "20261208170000",
        "ChuHoSo": "Trần Văn Tỉnh", "SoDienThoai": "0987654321"}
    fake_province.dossiers[LINKED] = {"MaHoSo": LINKED, "TrangThaiHoSo": "4"}
    token = requests.post(f"{base}/api/v1/auth/token", json={"username": "clerk1", "password": "demo"},
                          timeout=10).json()["token"]
    dossier = linked_ready_dossier(base, {"Authorization": f"Bearer {token}"})

    context = browser.new_context(viewport=KIOSK)
    page = context.new_page()
    page.goto(f"{base}/kiosk/pair?code={kiosk_pairing_code(data_dir, 'dummy')}")
    page.wait_for_url(f"{base}/kiosk/", timeout=15000)
    page.goto(f"{base}/kiosk/lookup", wait_until="networkidle")
    assert page.get_attribute("#kiosk", "data-paired") == "1"
    assert page.is_visible("#lk-province-hint")

    # a code only the province knows: typed, no phone digits, its status in big text
    type_on_screen(page, ONLY_PROVINCE)
    assert page.is_enabled("#lk-go")
    page.click("#lk-go")
    page.wait_for_selector("#lk-result", state="visible", timeout=8000)
    assert page.inner_text("#r-state-title") == "Tình trạng hồ sơ trên hệ thống của tỉnh"
    assert page.inner_text("#r-state") == "Đã xử lý xong"
    assert float(page.eval_on_selector("#r-state", "e => parseFloat(getComputedStyle(e).fontSize)")) >= 48
    assert page.inner_text("#r-code") == ONLY_PROVINCE
    assert page.inner_text("#r-procedure") == "Đăng ký hộ kinh doanh"
    assert page.inner_text("#r-appointment") == "08/12/2026"
    assert not page.is_visible("#r-offer")  # not a dossier here: no ticket to take for it
    assert not page.is_visible("#r-name")
    assert page.is_visible("#r-appointment")
    body = page.inner_text("body")
    assert "Tỉnh" not in body.replace("tỉnh", "") and "0987654321" not in body  # nothing personal
    page.screenshot(path="/tmp/kiosk_province_only.png")

    # one of ours, linked and ready: our status, the province's beside it, the pickup offer
    page.click('[data-action="again"]')
    scan(page, dossier["lookup_url"])
    assert page.inner_text("#r-state-title") == "Tình trạng hồ sơ"
    assert page.inner_text("#r-state") == "Đã có kết quả, mời Quý công dân đến nhận"
    assert page.is_visible("#r-province") and page.inner_text("#r-province-label") == "Đang xử lý"
    assert page.is_visible("#r-offer-btn")
    assert page.inner_text("#r-offer-btn").strip() == "Lấy số nhận kết quả"
    page.screenshot(path="/tmp/kiosk_province_linked.png")

    # its bare code (our own): the server wants the proof, the screen asks for the phone digits
    page.click('[data-action="again"]')
    type_on_screen(page, dossier["code"])
    page.click("#lk-go")
    page.wait_for_selector(".lk-field-phone.is-active", timeout=8000)
    assert "4 số cuối điện thoại" in page.inner_text("#lk-msg-text")
    assert not page.is_enabled("#lk-go")
    type_on_screen(page, APPLICANT["phone"][-4:])
    page.click("#lk-go")
    page.wait_for_selector("#lk-result", state="visible", timeout=8000)
    assert page.inner_text("#r-code") == dossier["code"]

    # the province hangs: a waiting message, then "không kết nối được" within about 3 s
    fake_province.mode = "slow"
    fake_province.delay = 6.0
    page.click('[data-action="again"]')
    type_on_screen(page, HANGING)
    t0 = time.monotonic()
    page.click("#lk-go")
    assert page.inner_text("#lk-msg-text") == "Đang tra cứu, xin chờ một chút…"
    page.wait_for_selector("#lk-result", state="visible", timeout=5000)
    took = time.monotonic() - t0
    assert page.inner_text("#r-state") == NOT_CONNECTED
    assert not page.is_visible("#r-procedure")  # nothing known: no empty rows
    assert took < 3.5, took
    assert not page.is_visible("#k-offline")  # the server answered: no offline overlay
    page.screenshot(path="/tmp/kiosk_province_down.png")
    fake_province.mode = "ok"
    context.close()
