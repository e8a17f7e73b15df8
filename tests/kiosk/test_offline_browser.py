"""Issue 17, item 9: the kiosk never shows a browser error page.

A real server in a subprocess, Debian's Chromium on every kiosk screen; the server is killed
under the open pages, each page is tapped (a link, a tile, the ticket button, a search), and
each must show the in-page "reconnecting" overlay and stay where it is (no chrome-error://
page). The server comes back on the same port and data: every screen goes home by itself.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.conftest import SECRET, free_port
from tests.livesrv import ONESTOP, wait_healthy

KIOSK = {"width": 1080, "height": 1920}
OVERLAY_TEXT = "Hệ thống đang kết nối lại, xin vui lòng chờ"


class Server:
    """``onestop demo`` on a fixed port and data dir, that can be killed and started again."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        env = {**os.environ, "ONESTOP_SECRET_KEY": SECRET, "ONESTOP_DATA_DIR": str(self.data_dir),
               "ONESTOP_GRACEFUL_TIMEOUT_S": "1"}
        env.pop("ONESTOP_DATABASE_URL", None)
        with (self.data_dir / "server.log").open("ab") as log:
            self.proc = subprocess.Popen([ONESTOP, "demo", "--always-open", "--port", str(self.port),
                                          "--history-weeks", "0"], env=env, stdout=log,
                                         stderr=subprocess.STDOUT, start_new_session=True)
        wait_healthy(self.base, self.proc)

    def kill(self) -> None:
        """As a power cut or a crash would: no goodbye to the open pages."""
        assert self.proc is not None
        os.killpg(self.proc.pid, signal.SIGKILL)  # the server and any worker it forked
        self.proc.wait(timeout=10)
        with pytest.raises(requests.ConnectionError):
            requests.get(f"{self.base}/healthz", timeout=2)


@pytest.fixture
def server(tmp_path: Path, cheap_password_hashing: None) -> Iterator[tuple[Server, str]]:
    token = _prepare(tmp_path)
    live = Server(tmp_path)
    live.start()
    try:
        yield live, token
    finally:
        if live.proc is not None and live.proc.poll() is None:
            os.killpg(live.proc.pid, signal.SIGTERM)
            live.proc.wait(timeout=10)


def _prepare(data_dir: Path) -> str:
    """The demo centre and a kiosk device (its token is the page's cookie: a paired kiosk)."""
    from sqlalchemy.orm import Session

    from onestop import demo
    from onestop.accounts.engine import add_device
    from onestop.db import make_engine, utcnow
    from onestop.migrate import upgrade

    url = f"sqlite:///{data_dir / 'onestop.sqlite3'}"
    upgrade(url)
    engine = make_engine(url)
    with Session(engine) as session:
        unit = demo.load(session)
        unit.settings = {"kiosk_idle_seconds": 600}  # no idle trip home: only the return counts
        _device, token, _code = add_device(session, unit, "kiosk", "Ki-ốt sảnh", now=utcnow())
        session.commit()
    engine.dispose()
    return token


# screen -> what a citizen taps there once the server is gone. Forced: a screen whose own
# refresh already met the dead server shows the overlay before the tap, and the tap then
# lands on the overlay (a wait for the button to be clickable would never end)
SCREENS: dict[str, Any] = {
    "/kiosk/": lambda page: page.get_by_role("button", name="Tư pháp – Hộ tịch").click(force=True),
    "/kiosk/field/1": lambda page: page.click("#go", force=True),
    "/kiosk/procedures": lambda page: page.locator("#results a.row").first.click(force=True),
    "/kiosk/procedures/1": lambda page: page.click("a.k-btn-go", force=True),
    "/kiosk/lookup": lambda page: page.click("a.k-btn-back", force=True),
    "/kiosk/pair": lambda page: page.click("a.k-btn-back", force=True),
}


def test_every_kiosk_screen_waits_in_page_for_the_server_and_goes_home(server, browser):
    live, token = server
    context = browser.new_context(viewport=KIOSK)
    context.add_cookies([{"name": "onestop_device", "value": token, "url": live.base}])
    pages = {}
    for path in SCREENS:
        page = context.new_page()
        page.goto(live.base + path)
        assert page.is_hidden("#k-offline")
        pages[path] = page
    pages["/kiosk/procedures"].wait_for_selector("#results a.row")

    live.kill()
    for path, tap in SCREENS.items():
        page = pages[path]
        tap(page)
        page.wait_for_selector("#k-offline", state="visible", timeout=8000)
        assert OVERLAY_TEXT in page.inner_text("#k-offline"), path
        assert "The system is reconnecting, please wait" in page.inner_text("#k-offline")
        page.wait_for_timeout(300)  # a navigation would have started by now
        assert page.url == live.base + path, (path, page.url)  # never chrome-error://
        # the overlay swallows taps: nothing behind it can be reached
        box = page.locator("#k-offline").bounding_box()
        assert box and box["width"] >= KIOSK["width"] and box["height"] >= KIOSK["height"]
    pages["/kiosk/"].screenshot(path="/tmp/kiosk_offline.png")

    time.sleep(1)
    live.start()
    for path, page in pages.items():
        page.wait_for_selector("#k-offline", state="hidden", timeout=15000)  # a fresh page
        assert page.url == live.base + "/kiosk/", (path, page.url)
        page.wait_for_selector("#tiles .tile")
    context.close()


def test_a_quiet_screen_notices_by_itself(server, browser):
    """Nobody taps: within a few seconds the overlay is up anyway (no stale screen that
    fails only when a citizen finally touches it)."""
    live, token = server
    context = browser.new_context(viewport=KIOSK)
    context.add_cookies([{"name": "onestop_device", "value": token, "url": live.base}])
    page = context.new_page()
    page.goto(live.base + "/kiosk/procedures")
    live.kill()
    page.wait_for_selector("#k-offline", state="visible", timeout=12000)
    assert page.url == live.base + "/kiosk/procedures"
    live.start()
    page.wait_for_url(live.base + "/kiosk/", timeout=15000)
    page.wait_for_selector("#tiles .tile")
    assert page.is_hidden("#k-offline")
    context.close()
