"""The kiosk in Debian's Chromium against a real server: pair on screen, take a ticket,
follow it on a phone, come back home by itself; the catalogue with the on-screen keyboard.

Screenshots go to /tmp/kiosk_*.png (portrait 1080x1920) for a human to look at.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.livesrv import ONESTOP, demo_server

KIOSK = {"width": 1080, "height": 1920}
IDLE = 4  # seconds: the unit's kiosk_idle_seconds for these tests


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory,
           cheap_password_hashing: None) -> Iterator[tuple[str, Path]]:
    data_dir = tmp_path_factory.mktemp("kiosk")
    _prepare(data_dir)
    with demo_server(data_dir) as base:
        yield base, data_dir


def _prepare(data_dir: Path) -> None:
    """The demo centre, made here (with this process's cheap password hashes, which saves
    the server seconds of scrypt), idle time short, one field switched off."""
    from sqlalchemy.orm import Session

    from onestop import demo
    from onestop.db import make_engine
    from onestop.migrate import upgrade
    from onestop.queueing.models import Service

    url = f"sqlite:///{data_dir / 'onestop.sqlite3'}"
    upgrade(url)
    engine = make_engine(url)
    with Session(engine) as session:
        unit = demo.load(session)
        unit.settings = {"kiosk_idle_seconds": IDLE}
        session.query(Service).filter_by(code="YT").update({"active": False})
        session.commit()
    engine.dispose()


def pairing_code(data_dir: Path) -> str:
    env = {**os.environ, "ONESTOP_DATA_DIR": str(data_dir)}
    env.pop("ONESTOP_DATABASE_URL", None)
    out = subprocess.run([ONESTOP, "device", "add", "--kind", "kiosk", "--name", "K", "--json"],
                         env=env, capture_output=True, text=True, check=True)
    return str(json.loads(out.stdout)["pairing_code"])


def watch(page: Any, base: str, outside: list[str]) -> None:
    page.on("request", lambda r: outside.append(r.url)
            if not r.url.startswith((base, "data:")) else None)


def test_pair_take_a_ticket_follow_it_and_go_home(server, browser):
    base, data_dir = server
    outside: list[str] = []
    context = browser.new_context(viewport=KIOSK)
    page = context.new_page()
    watch(page, base, outside)
    page.goto(f"{base}/kiosk/")
    assert "is-closed" in (page.get_attribute('.tile:has-text("Y tế")', "class") or "")
    assert "Tạm ngừng tiếp nhận" in page.inner_text('.tile:has-text("Y tế")')

    # not paired yet: the tiles can be looked at, a tap explains and offers pairing
    page.get_by_role("button", name="Tư pháp – Hộ tịch").click()
    assert "Ki-ốt chưa được ghép nối" in page.inner_text("#k-modal")
    page.click("#k-modal-pair")
    page.wait_for_url(f"{base}/kiosk/pair")
    for key in pairing_code(data_dir):
        page.click(f'#keypad [data-key="{key}"]')
    page.click("#pair-go")
    page.wait_for_url(f"{base}/kiosk/", timeout=10000)
    assert page.get_attribute("#kiosk", "data-paired") == "1"
    # a paired kiosk tells the server it is alive (the manager's dashboard watches)
    page.wait_for_function("() => window.__heartbeats >= 1", timeout=10000)
    page.wait_for_timeout(300)  # fonts
    page.screenshot(path="/tmp/kiosk_home.png")

    # a field, a procedure, a priority, the ticket
    page.get_by_role("button", name="Tư pháp – Hộ tịch").click()
    page.wait_for_url(re.compile(r".*/kiosk/field/\d+$"))
    page.click('[data-priority="elderly"]')
    page.get_by_role("radio", name="Đăng ký khai sinh").click()
    page.click("#go")
    page.wait_for_function("() => document.getElementById('t-number').textContent.length > 0")
    assert re.fullmatch(r"A\d{3}", page.inner_text("#t-number"))
    assert "Người cao tuổi" in page.inner_text("#t-priority")
    assert "Giấy chứng sinh" in page.inner_text("#t-docs")
    page.wait_for_function("() => (q => q.complete && q.naturalWidth > 0)(document.getElementById('t-qr'))")
    qr = page.request.get(base + (page.get_attribute("#t-qr", "src") or ""))
    assert qr.ok and qr.headers["content-type"].startswith("image/svg+xml")
    assert qr.text().startswith("<svg")
    page.screenshot(path="/tmp/kiosk_ticket.png")

    # the QR's page on a phone follows the ticket live
    phone = browser.new_page(viewport={"width": 390, "height": 844})
    watch(phone, base, outside)
    phone.goto(qr.headers["x-ticket-url"])
    assert "Đang chờ" in phone.inner_text("#tp-state")
    phone.wait_for_function("() => document.getElementById('tp-updated').textContent.includes(':')")
    token = requests.post(f"{base}/api/v1/auth/token", json={"username": "clerk1", "password": "demo"},
                          timeout=5).json()["token"]
    auth = {"Authorization": f"Bearer {token}"}
    assert requests.post(f"{base}/api/v1/counters/1/open", headers=auth, timeout=5).ok
    assert requests.post(f"{base}/api/v1/counters/1/call-next", headers=auth, timeout=5).ok
    phone.wait_for_function(
        "() => document.getElementById('tp-state').textContent.includes('mời đến quầy số 1')", timeout=8000)
    phone.screenshot(path="/tmp/kiosk_phone.png")

    # nobody touches the kiosk: it goes home by itself
    page.wait_for_url(f"{base}/kiosk/", timeout=(IDLE + 6) * 1000)
    page.wait_for_selector("#tiles .tile")
    assert outside == [], f"requests left the server: {outside}"
    context.close()


def test_catalogue_keyboard_and_language(server, browser):
    base, _ = server
    outside: list[str] = []
    context = browser.new_context(viewport=KIOSK)
    page = context.new_page()
    watch(page, base, outside)
    page.goto(f"{base}/kiosk/")
    page.click('a[href="/kiosk/procedures"]')
    page.wait_for_url(f"{base}/kiosk/procedures")
    page.click("#q")
    assert page.is_visible("#keyboard")
    for key in "khai sinh":
        page.click(f'#keyboard [data-key="{key}"]')
    assert page.input_value("#q") == "khai sinh"
    page.wait_for_selector('.row-name:text-is("Đăng ký khai sinh")')
    page.screenshot(path="/tmp/kiosk_search.png")
    page.click('.row:has-text("Đăng ký khai sinh")')
    page.wait_for_url(re.compile(r".*/kiosk/procedures/\d+$"))
    assert "Giấy chứng sinh" in page.inner_text(".docs")
    assert "Quầy số 1" in page.inner_text(".counters")
    page.screenshot(path="/tmp/kiosk_procedure.png")

    # English on request; Vietnamese again after the idle time
    page.goto(f"{base}/kiosk/")
    page.click('[data-action="lang"]')
    page.wait_for_function("() => document.getElementById('kiosk').dataset.lang === 'en'")
    page.wait_for_function("() => document.getElementById('kiosk').dataset.lang === 'vi'",
                           timeout=(IDLE + 6) * 1000)
    assert outside == [], f"requests left the server: {outside}"
    context.close()
