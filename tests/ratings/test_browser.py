"""The rating tablet in Debian's Chromium against a real server: paired with a one-time
code, asked live when the clerk finishes, "Không hài lòng" with a reason and a comment typed
on the on-screen keyboard, and the timeout that records "not rated"."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.conftest import SECRET
from tests.livesrv import ONESTOP, demo_server

LIVE_MS = 5000
pytestmark = pytest.mark.browser


class Live:
    def __init__(self, base: str, data_dir: Path) -> None:
        self.base, self.data_dir = base, data_dir
        self.db = data_dir / "onestop.sqlite3"
        res = requests.post(f"{base}/api/v1/auth/token", json={"username": "clerk3", "password": "demo"},
                            timeout=5)
        self.clerk = {"Authorization": f"Bearer {res.json()['token']}"}

    def cli(self, *args: str) -> str:
        env = {**os.environ, "ONESTOP_SECRET_KEY": SECRET, "ONESTOP_DATA_DIR": str(self.data_dir)}
        env.pop("ONESTOP_DATABASE_URL", None)
        return subprocess.run([ONESTOP, *args], env=env, capture_output=True, text=True,
                              check=True).stdout

    def post(self, path: str, body: Any = None) -> dict[str, Any]:
        res = requests.post(f"{self.base}/api/v1{path}", json=body, headers=self.clerk, timeout=5)
        assert res.status_code in (200, 201), res.text
        return dict(res.json())

    def serve_one(self) -> dict[str, Any]:
        ticket = self.post("/tickets", {"service_id": 2})  # Đất đai, served at counter 3
        assert self.post("/counters/3/call-next")["id"] == ticket["id"]
        self.post("/counters/3/finish", {"outcome": "served"})
        return ticket

    def unit_setting(self, **values: Any) -> None:
        with sqlite3.connect(self.db) as con:
            (raw,) = con.execute("SELECT settings FROM units ORDER BY id LIMIT 1").fetchone()
            settings = {**json.loads(raw or "{}"), **values}
            con.execute("UPDATE units SET settings = ?", (json.dumps(settings),))

    def rating(self, ticket_id: int, wait: float = 5.0) -> tuple[Any, ...] | None:
        deadline = time.monotonic() + wait
        while True:
            with sqlite3.connect(self.db) as con:
                row = con.execute("SELECT level, source, reasons, comment, score FROM ratings "
                                  "WHERE ticket_id = ?", (ticket_id,)).fetchone()
            if row is not None or time.monotonic() > deadline:
                return tuple(row) if row else None
            time.sleep(0.1)


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory, browser: Any) -> Iterator[Live]:
    data_dir = tmp_path_factory.mktemp("tablet")
    with demo_server(data_dir) as base:
        srv = Live(base, data_dir)
        srv.post("/counters/3/open")
        yield srv


@pytest.fixture(scope="module")
def page(live: Live, browser: Any) -> Iterator[Any]:
    device = json.loads(live.cli("device", "add", "--kind", "tablet", "--counter", "3",
                                 "--name", "Máy đánh giá quầy 3", "--json"))
    context = browser.new_context(viewport={"width": 1280, "height": 800}, has_touch=True)
    tab = context.new_page()
    outside: list[str] = []
    problems: list[str] = []
    tab.on("request", lambda r: outside.append(r.url) if not r.url.startswith(live.base) else None)
    tab.on("pageerror", lambda e: problems.append(str(e)))
    tab.goto(f"{live.base}/counter/tablet")
    assert tab.locator("#tablet-pair").is_visible()  # not paired yet
    tab.goto(f"{live.base}/counter/tablet/pair?code={device['pairing_code']}")
    tab.wait_for_url(f"{live.base}/counter/tablet", timeout=LIVE_MS)
    tab.wait_for_selector("#tablet[data-connected='1']", timeout=LIVE_MS)
    tab.wait_for_function("() => window.__heartbeats >= 1", timeout=LIVE_MS)  # alive
    yield tab
    assert outside == [] and problems == []
    context.close()


def test_dissatisfied_with_a_reason_and_a_typed_comment(live: Live, page: Any) -> None:
    assert page.inner_text("#idle-number") == "3"
    assert page.inner_text("#idle-clerk").strip() not in ("", "Quầy chưa có cán bộ làm việc")
    ticket = live.serve_one()
    page.wait_for_selector("[data-level=dissatisfied]", state="visible", timeout=LIVE_MS)
    buttons = page.locator("#levels [data-level]")
    assert buttons.all_inner_texts() == ["Rất hài lòng", "Hài lòng", "Không hài lòng"]
    box = buttons.first.bounding_box()
    assert box is not None and box["height"] >= 120
    assert page.inner_text("#rate-label") == ticket["label"]

    page.tap("[data-level=dissatisfied]")
    page.wait_for_selector("#screen-reason", state="visible")
    page.tap("#reason-send")  # nothing chosen yet: asked for a reason, nothing sent
    assert "lý do" in page.inner_text("#reason-error")
    page.tap("[data-reason='Thời gian chờ lâu']")
    for key in ["c", "h", "ơ", "grave", "space", "l", "â", "u"]:
        page.tap(f"#keyboard [data-key='{key}']")
    assert page.input_value("#comment") == "chờ lâu"
    page.tap("#reason-send")
    page.wait_for_selector("#tablet[data-screen=thanks]", timeout=LIVE_MS)
    level, source, reasons, comment, score = live.rating(ticket["id"]) or (None,) * 5
    assert (level, source, json.loads(reasons), comment, score) == (
        "dissatisfied", "tablet", ["Thời gian chờ lâu"], "chờ lâu", 1)
    page.wait_for_selector("#tablet[data-screen=idle]", timeout=LIVE_MS)  # after 3 s of thanks


def test_vietnamese_tones_land_on_the_right_vowel(page: Any) -> None:
    cases = {("hoa", "grave"): "hòa", ("nguyên", "tilde"): "nguyễn", ("qua", "acute"): "quá",
             ("gia", "acute"): "giá", ("ngươi", "grave"): "người", ("thuy", "hook"): "thủy",
             ("Toan", "acute"): "Toán", ("ý kiên", "acute"): "ý kiến", ("cua", "hook"): "của",
             ("hóa", "dot"): "họa", ("123", "acute"): None}
    for (text, tone), expected in cases.items():
        assert page.evaluate("([t, m]) => window.__tablet.applyTone(t, m)", [text, tone]) == expected


def test_no_answer_records_not_rated(live: Live, page: Any) -> None:
    live.unit_setting(rating_timeout_seconds=2)
    ticket = live.serve_one()
    page.wait_for_selector("[data-level=very_satisfied]", state="visible", timeout=LIVE_MS)
    assert "giây" in page.inner_text("#screen-rate [data-countdown]")
    page.wait_for_selector("#tablet[data-screen=idle]", timeout=LIVE_MS)
    assert live.rating(ticket["id"]) == ("not_rated", "timeout", "[]", "", 0)
