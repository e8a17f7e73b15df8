"""The desk in Debian's Chromium against one real server (issue 22), and the wait alert over a
real Socket.IO connection to it.

- the reception desk prints a ticket on a desk printer (a fake TCP printer; the slip's QR
  read back with zxing-cpp), and shows another as a QR on screen at 1366x768;
- the workstation's "Tìm số" finds a waiting number and "Gọi ngay" calls it out of order;
- the manager pauses a counter from the dashboard;
- a field waiting too long reaches a counter's /counter socket within seconds.

Screenshots: /tmp/desk_*.png.
"""

from __future__ import annotations

import datetime as dt
import io
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import socketio
import zxingcpp
from PIL import Image

from hardware.printing.fakeprinter import FakePrinter, decode
from tests.desk.helpers import PASSWORD
from tests.hardware.conftest import read_qr
from tests.livesrv import demo_server

DESK = {"width": 1366, "height": 768}


@pytest.fixture(scope="module")
def printer() -> Iterator[FakePrinter]:
    with FakePrinter() as fake:
        yield fake


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, cheap_password_hashing: None,
           printer: FakePrinter) -> Iterator[dict[str, Any]]:
    """The demo centre with a reception account, a desk printer and out-of-order calls allowed;
    the wait alerts checked every half second."""
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from onestop import demo
    from onestop.accounts import engine as accounts
    from onestop.db import make_engine, utcnow
    from onestop.migrate import upgrade
    from onestop.units.models import Unit

    data_dir = tmp_path_factory.mktemp("desk")
    url = f"sqlite:///{data_dir / 'onestop.sqlite3'}"
    upgrade(url)
    engine = make_engine(url)
    with Session(engine) as session:
        demo.load(session)
        unit = session.scalars(select(Unit)).one()
        unit.settings = {**unit.settings, "out_of_order_calls": True}
        accounts.add_user(session, unit, "letan", PASSWORD, "reception", full_name="Lễ tân")
        device, _token, _code = accounts.add_device(session, unit, "printer", "Máy in bàn đón tiếp",
                                                    now=utcnow(), printer_uri=printer.uri)
        session.commit()
        printer_id = device.id
    with demo_server(data_dir, ONESTOP_WAIT_ALERT_INTERVAL_S="0.5") as base:
        yield {"base": base, "engine": engine, "printer_id": printer_id, "dir": data_dir}
    engine.dispose()


def token(base: str, username: str, password: str = "demo") -> dict[str, str]:
    res = requests.post(f"{base}/api/v1/auth/token", json={"username": username, "password": password},
                        timeout=30)
    assert res.status_code == 201, res.text
    return {"Authorization": f"Bearer {res.json()['token']}"}


def post(base: str, auth: dict[str, str], path: str, body: Any = None, status: int = 200) -> Any:
    res = requests.post(f"{base}/api/v1{path}", headers=auth, json=body, timeout=30)
    assert res.status_code == status, res.text
    return res.json()


def until(page: Any, script: str, timeout: float = 15) -> None:
    """Poll ``script`` (an expression) in the page until true: wait_for_function evaluates a
    string inside the page, which the pages' CSP (no unsafe-eval) refuses."""
    deadline = time.monotonic() + timeout
    while not page.evaluate(script):
        assert time.monotonic() < deadline, f"not true within {timeout} s: {script}"
        time.sleep(0.1)


def signed_in(browser: Any, base: str, path: str, username: str, password: str = "demo") -> Any:
    page = browser.new_context(viewport=DESK).new_page()
    page.goto(f"{base}{path}")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"**{path}")
    return page


def test_reception_prints_a_ticket_on_the_desk_printer(server, browser, printer):
    page = signed_in(browser, server["base"], "/counter/reception", "letan", PASSWORD)
    page.select_option("#printer", str(server["printer_id"]))
    page.click(".rc-field[data-service='1']")
    page.fill("#note", "Cụ 80 tuổi, nghe kém")
    page.click("#issue-print")
    page.wait_for_selector("#result-print:has-text('Đã in phiếu')", timeout=15000)
    label = page.inner_text("#result-label")
    page.screenshot(path="/tmp/desk_reception_printed.png")
    [slip] = read_qr(decode(printer.wait_for_jobs(1)[0]).page())
    assert "/t/" in slip and "?k=" in slip
    ticket = requests.get(f"{server['base']}/api/v1/tickets/{slip.split('/t/')[1].split('?')[0]}",
                          headers=token(server["base"], "clerk1"), timeout=30).json()
    assert (ticket["label"], ticket["source"], ticket["note"]) == (label, "reception", "Cụ 80 tuổi, nghe kém")
    page.context.close()


def test_reception_shows_the_qr_on_screen(server, browser):
    page = signed_in(browser, server["base"], "/counter/reception", "letan", PASSWORD)
    page.click(".rc-field[data-service='1']")
    page.check("input[name=priority][value=elderly]")
    page.click("#issue-qr")
    assert "lý do" in page.inner_text("#rc-message").lower()  # a priority needs its reason
    page.fill("#priority-reason", "82 tuổi")
    page.click("#issue-qr")
    until(page, "document.getElementById('result-qr-img').naturalWidth > 0")
    box = page.locator("#result-qr-img").bounding_box()
    assert box and box["y"] >= 0 and box["y"] + box["height"] <= DESK["height"]  # on screen, no scroll
    page.screenshot(path="/tmp/desk_reception_qr.png")
    shot = Image.open(io.BytesIO(page.locator("#result-qr-img").screenshot())).convert("L")
    found = zxingcpp.read_barcodes(shot)
    assert [f.text for f in found] == [page.get_attribute("#result-link", "href")]
    assert "/t/" in found[0].text
    page.context.close()


def test_workstation_finds_a_number_and_calls_it_out_of_order(server, browser):
    base = server["base"]
    clerk = token(base, "clerk1")
    labels = [post(base, clerk, "/tickets", {"service_id": 1}, 201)["label"] for _ in range(3)]
    page = signed_in(browser, base, "/counter/", "clerk1")
    page.wait_for_selector("#picker:not([hidden]) .pick-card, #desk:not([hidden])")
    if page.is_visible("#picker"):
        page.click(".pick-card[data-counter-id='1']")
    page.wait_for_selector("#desk:not([hidden])")
    page.fill("#find-q", labels[-1])
    page.fill("#find-reason", "Người khuyết tật")
    page.click("#find button[type=submit]")
    hit = page.locator(".moves-hit", has_text=labels[-1])
    hit.wait_for()
    assert "Đang chờ" in hit.inner_text()
    page.screenshot(path="/tmp/desk_find.png")
    hit.locator("button", has_text="Gọi ngay").click()
    until(page, f"document.getElementById('current-label').textContent === {labels[-1]!r}")
    page.screenshot(path="/tmp/desk_find_called.png")
    page.context.close()


def test_manager_pauses_a_counter_from_the_dashboard(server, browser):
    base = server["base"]
    post(base, token(base, "clerk2"), "/counters/2/open")
    page = signed_in(browser, base, "/manager/", "manager")
    row = page.locator("#desk-counters tr[data-counter='2']")
    row.locator("button", has_text="Tạm dừng").click()
    until(page, "(document.querySelector(\"#desk-counters tr[data-counter='2'] .desk-state\") || {})"
                ".textContent?.startsWith('Tạm dừng')")
    page.screenshot(path="/tmp/desk_manager_paused.png")
    counters = requests.get(f"{base}/api/v1/counters", timeout=30).json()["counters"]
    assert [c["state"] for c in counters if c["id"] == 2] == ["paused"]
    page.context.close()


def test_wait_alert_reaches_a_counters_socket(server):
    from sqlalchemy import update

    from onestop.queueing.models import Ticket

    base = server["base"]
    clerk = token(base, "clerk3")
    arrived: list[dict[str, Any]] = []
    seen = threading.Event()
    sio = socketio.Client(reconnection=False)

    @sio.on("queue.wait_alert", namespace="/counter")
    def _alert(payload: dict[str, Any]) -> None:
        arrived.append(payload)
        if any(a["label"] == ticket["label"] for a in payload["alerts"]):
            seen.set()

    ticket = post(base, clerk, "/tickets", {"service_id": 2}, 201)
    sio.connect(base, namespaces=["/counter"], transports=["websocket"],
                auth={"token": clerk["Authorization"].split()[1]}, wait_timeout=30)
    try:
        with server["engine"].begin() as conn:  # it joined the queue 40 minutes ago
            conn.execute(update(Ticket).where(Ticket.id == ticket["id"]).values(
                queue_at=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=40)))
        started = time.monotonic()
        assert seen.wait(10), arrived
        assert time.monotonic() - started < 5
    finally:
        sio.disconnect()
    alert = next(a for p in arrived for a in p["alerts"] if a["label"] == ticket["label"])
    assert alert["waited_minutes"] >= 40 and alert["threshold"] == 30 and alert["service_id"] == 2


