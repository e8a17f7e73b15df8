"""Issue 17, item 15: a newcomer's first ten minutes with ``onestop demo``.

The demo registers a kiosk, a hall display, a counter display and a tablet for counter 1 and
prints their pairing codes and pairing URLs; each URL, opened in Chromium, pairs its screen.
Running it again reuses the devices (new codes, nothing piles up). Every page is linked
from ``/`` and answers; the pairing pages name the admin page; a loopback public address is
warned about.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from onestop import demo
from onestop.accounts.models import Device
from onestop.db import make_engine
from tests.backoffice.conftest import signed_in
from tests.conftest import SECRET, free_port
from tests.livesrv import ONESTOP, wait_healthy

DEVICE_LINE = re.compile(r"^\s+(?P<label>.+?/ (?:kiosk|hall display|counter display|tablet))\s+"
                         r"(?P<code>[A-Z0-9]{8})\s+(?P<url>http://\S+)$", re.M)


@contextmanager
def run_demo(data_dir: Path, port: int, **env: str) -> Iterator[tuple[str, str]]:
    """``onestop demo`` as a newcomer runs it; yields (base URL, what it printed)."""
    environ = {**os.environ, "ONESTOP_SECRET_KEY": SECRET, "ONESTOP_GRACEFUL_TIMEOUT_S": "1", **env}
    for name in ("ONESTOP_DATABASE_URL", "ONESTOP_DATA_DIR", "ONESTOP_PUBLIC_BASE_URL"):
        if name not in env:
            environ.pop(name, None)
    out = data_dir / f"demo-{time.monotonic_ns()}.out"
    with out.open("wb") as log:
        proc = subprocess.Popen([ONESTOP, "demo", "--port", str(port), "--data-dir", str(data_dir),
                                 "--history-weeks", "0", "--always-open"], env=environ, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(base, proc, timeout=60)
        yield base, out.read_text(encoding="utf-8")
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=15)


def devices_in(data_dir: Path) -> list[Device]:
    engine = make_engine(f"sqlite:///{data_dir / 'onestop.sqlite3'}")
    with Session(engine) as session:
        rows = list(session.scalars(select(Device).order_by(Device.id)))
        session.expunge_all()
    engine.dispose()
    return rows


def printed_devices(output: str) -> dict[str, tuple[str, str]]:
    return {m["label"].split(" / ")[-1]: (m["code"], m["url"]) for m in DEVICE_LINE.finditer(output)}


def test_demo_prints_pairing_urls_that_pair_each_screen(tmp_path: Path, browser: Any) -> None:
    port = free_port()
    with run_demo(tmp_path, port) as (base, output):
        for path in ("/kiosk/procedures", "/display/counter/1", "/counter/tablet", "/lookup/",
                     "/counter/book", "/manager/staffing", "/admin/printers", "/admin/devices"):
            assert f"{base}{path}\n" in output, path
        shown = printed_devices(output)
        assert sorted(shown) == ["counter display", "hall display", "kiosk", "tablet"], output
        assert shown["kiosk"][1] == f"{base}/kiosk/pair?code={shown['kiosk'][0]}"
        assert shown["tablet"][1] == f"{base}/counter/tablet/pair?code={shown['tablet'][0]}"
        assert "Quản trị → Thiết bị" in output
        # nobody set ONESTOP_PUBLIC_BASE_URL: the QR codes would point at 127.0.0.1
        assert "CẢNH BÁO / WARNING: ONESTOP_PUBLIC_BASE_URL = http://127.0.0.1:" in output
        assert "will not open on a phone" in output

        landing = {"kiosk": f"{base}/kiosk/", "hall display": f"{base}/display/",
                   "counter display": f"{base}/display/counter/1", "tablet": f"{base}/counter/tablet"}
        kiosk_context = None
        for what, (_code, url) in shown.items():
            context = browser.new_context(viewport={"width": 1080, "height": 1920})
            page = context.new_page()
            page.goto(url)
            page.wait_for_url(landing[what], timeout=15000)
            if what == "kiosk":
                assert page.get_attribute("#kiosk", "data-paired") == "1"
                kiosk_context = context
            else:
                context.close()
        devices = devices_in(tmp_path)
        assert sorted(d.kind for d in devices) == ["counter-display", "display", "kiosk", "tablet"]
        assert all(d.pairing_code_hash is None and d.last_seen_at for d in devices)  # all paired
        counter_bound = {d.kind: d.counter_id for d in devices}
        assert counter_bound["tablet"] and counter_bound["tablet"] == counter_bound["counter-display"]

    # the next `make demo` on the same data: the same four devices, fresh codes, and the kiosk
    # paired a minute ago is still paired
    with run_demo(tmp_path, port) as (base, output):
        again = printed_devices(output)
        assert sorted(again) == sorted(shown)
        assert all(again[k][0] != shown[k][0] for k in shown)
        assert [d.id for d in devices_in(tmp_path)] == [d.id for d in devices]
        assert kiosk_context is not None
        page = kiosk_context.new_page()
        page.goto(f"{base}/kiosk/")
        assert page.get_attribute("#kiosk", "data-paired") == "1"
        kiosk_context.close()
    engine = make_engine(f"sqlite:///{tmp_path / 'onestop.sqlite3'}")
    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(Device)) == 4
    engine.dispose()


def test_no_warning_with_a_lan_address(tmp_path: Path) -> None:
    with run_demo(tmp_path, free_port(), ONESTOP_PUBLIC_BASE_URL="http://192.168.1.10:8000") as (_b, out):
        assert "WARNING" not in out and "CẢNH BÁO" not in out
    assert demo.loopback_warning("http://localhost:8000")
    assert demo.loopback_warning("http://[::1]:8000")
    assert demo.loopback_warning("http://0.0.0.0:8000")
    assert not demo.loopback_warning("https://motcua.example.gov.vn")


# every page a newcomer looks for, and who must be signed in to see it (None: a device page
# or a public one)
PAGES = {
    "/kiosk/procedures": None, "/display/counter/1": None, "/counter/tablet": None,
    "/lookup/": None, "/kiosk/lookup": None, "/counter/book": "clerk1", "/counter/dossiers": "clerk1",
    "/manager/staffing": "manager", "/admin/printers": "admin", "/admin/devices": "admin",
    "/kiosk/pair": None, "/display/pair": None, "/counter/tablet/pair": None,
}


def test_every_page_is_linked_from_home_and_answers(app: Any) -> None:
    home = app.test_client().get("/").get_data(as_text=True)
    links = set(re.findall(r'<a href="([^"]+)"', home))
    assert set(PAGES) <= links, set(PAGES) - links
    for path in sorted(links):
        user = PAGES.get(path)
        if path in ("/counter/", "/manager/", "/manager/reports", "/admin/"):
            user = {"/counter/": "clerk1", "/admin/": "admin"}.get(path, "manager")
        client = signed_in(app, user) if user else app.test_client()
        res = client.get(path, follow_redirects=True)
        assert res.status_code == 200, (path, res.status_code)


@pytest.mark.parametrize("path", ["/kiosk/pair", "/display/pair", "/counter/tablet/pair"])
def test_pairing_pages_name_the_admin_page_and_the_command(app: Any, path: str) -> None:
    import html

    page = html.unescape(app.test_client().get(path).get_data(as_text=True))
    assert "Quản trị → Thiết bị (/admin/devices)" in page
    assert "onestop device add --kind" in page


def test_register_devices_is_idempotent(app: Any) -> None:
    from onestop.db import utcnow
    from tests.api.helpers import in_db, unit_of

    with in_db(app) as session:
        first = demo.register_devices(session, unit_of(session), now=utcnow())
    with in_db(app) as session:
        second = demo.register_devices(session, unit_of(session), now=utcnow())
        assert session.scalar(select(func.count()).select_from(Device)) == 4
    assert [d.name for d in first] == [d.name for d in second]
    assert all(a.code != b.code for a, b in zip(first, second, strict=True))
