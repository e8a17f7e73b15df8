"""The hall and counter displays in Debian's Chromium against a real server process.

Audio really plays (headless Chromium has a null audio sink; the autoplay flag is the one
systemd/onestop-display-browser.service uses). Announcements are read back from the
page's test hook ``window.__announcements``.
"""

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

from hardware.voice import spoken_sentence
from tests.conftest import SECRET, free_port
from tests.livesrv import ONESTOP, wait_healthy


class Server:
    """``onestop demo`` on a fixed port and data dir, so it can be killed and restarted."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir, self.port = data_dir, free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = {**os.environ, "ONESTOP_SECRET_KEY": SECRET, "ONESTOP_DATA_DIR": str(data_dir)}
        self.env.pop("ONESTOP_DATABASE_URL", None)
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with (self.data_dir / "server.log").open("ab") as log:
            self.proc = subprocess.Popen([ONESTOP, "demo", "--always-open", "--port", str(self.port),
                                          "--history-weeks", "0"],
                                         env=self.env, stdout=log, stderr=subprocess.STDOUT)
        wait_healthy(self.base, self.proc)

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.proc = None

    def cli(self, *args: str) -> str:
        return subprocess.run([ONESTOP, *args], env=self.env, capture_output=True, text=True,
                              check=True).stdout

    def unit_settings(self, **settings: Any) -> None:
        with sqlite3.connect(self.data_dir / "onestop.sqlite3") as con:
            con.execute("UPDATE units SET settings = ?", (json.dumps(settings),))


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, browser: Any) -> Iterator[Server]:
    srv = Server(tmp_path_factory.mktemp("display"))
    srv.start()
    srv.unit_settings(announcement_repeat=1, display_notice="Quý công dân vui lòng giữ trật tự.")
    try:
        yield srv
    finally:
        srv.stop()


class Api:
    def __init__(self, base: str) -> None:
        self.base = base
        res = requests.post(f"{base}/api/v1/auth/token", json={"username": "admin", "password": "demo"},
                            timeout=5)
        self.headers = {"Authorization": f"Bearer {res.json()['token']}"}

    def post(self, path: str, **body: Any) -> dict[str, Any]:
        res = requests.post(f"{self.base}/api/v1{path}", json=body or None, headers=self.headers, timeout=5)
        assert res.status_code in (200, 201), res.text
        return dict(res.json())

    def issue(self, service_id: int) -> dict[str, Any]:
        return self.post("/tickets", service_id=service_id)


def open_page(browser: Any, url: str, base: str, outside: list[str], size: tuple[int, int]) -> Any:
    page = browser.new_page(viewport={"width": size[0], "height": size[1]})
    page.on("request", lambda r: outside.append(r.url) if not r.url.startswith(base) else None)
    page.goto(url)
    page.wait_for_function("() => document.querySelector('[data-snapshots]')?.dataset.snapshots >= 1")
    return page


def hall(browser: Any, server: Server, outside: list[str], query: str = "") -> Any:
    page = open_page(browser, f"{server.base}/display/{query}", server.base, outside, (1920, 1080))
    # what the banner showed, in order (the highlight follows the audio)
    page.evaluate("""window.__banner = [];
      const label = document.getElementById('called-label');
      new MutationObserver(() => window.__banner.push(label.textContent))
        .observe(label, {childList: true, characterData: true, subtree: true});""")
    return page


def announcements(page: Any) -> list[dict[str, Any]]:
    return list(page.evaluate("window.__announcements"))


def test_a_call_is_shown_highlighted_and_announced(server: Server, browser: Any) -> None:
    outside: list[str] = []
    page = hall(browser, server, outside)
    assert page.text_content("#unit-name") == "Trung tâm Phục vụ hành chính công xã Hòa Bình"
    # the notice comes with the display's configuration, fetched beside the first snapshot
    page.wait_for_function("() => document.getElementById('notice-text').textContent"
                           ".includes('giữ trật tự')", timeout=5000)
    assert page.is_visible("#notice")
    assert len(page.inner_text("#clock-date").split(", ")[-1]) == 10  # dd/mm/yyyy
    wavs: list[Any] = []
    page.on("response", lambda r: wavs.append(r) if "/display/voice.wav" in r.url else None)
    api = Api(server.base)
    api.post("/counters/1/open")
    ticket = api.issue(1)
    api.post("/counters/1/call-next")
    page.wait_for_function("() => window.__announcements.length === 1", timeout=5000)
    assert announcements(page)[0]["text"] == spoken_sentence(ticket["label"], 1)
    assert "quầy số 1" in page.inner_text("#called") and ticket["label"] in page.inner_text("#called")
    assert page.locator("#called.flash").count() == 1
    row = page.locator('.row.flash[data-counter-id="1"]')
    assert ticket["label"] in row.inner_text()
    page.wait_for_function("() => window.__announcements[0].voice !== null", timeout=15000)
    assert announcements(page)[0]["voice"] == "espeak"  # played to the end
    assert [r.status for r in wavs] == [200] and wavs[0].headers["content-type"] == "audio/wav"
    waiting = page.inner_text("#waiting")
    assert "Tư pháp – Hộ tịch" in waiting
    page.close()
    assert outside == [], f"requests left the server: {outside}"


def test_two_quick_calls_are_both_shown_and_announced_in_order(server: Server, browser: Any) -> None:
    outside: list[str] = []
    page = hall(browser, server, outside, "?voice=chime")
    api = Api(server.base)
    api.post("/counters/2/open")
    api.post("/counters/3/open")
    first, second = api.issue(1), api.issue(2)  # Tư pháp (counter 2), Đất đai (counter 3)
    api.post("/counters/2/call-next")
    time.sleep(0.1)
    api.post("/counters/3/call-next")
    page.wait_for_function("() => window.__announcements.length === 2", timeout=10000)
    said = announcements(page)
    assert [(a["label"], a["counter"]) for a in said] == [(first["label"], 2), (second["label"], 3)]
    assert said[0]["voice"] == "chime"  # the first had finished before the second began
    assert said[1]["at"] - said[0]["at"] >= 1400  # never overlapping: one chime is 1.4 s
    banner = page.evaluate("window.__banner")
    assert banner.index(first["label"]) < banner.index(second["label"])
    page.close()
    assert outside == []


def test_waiting_counts_follow_issues_and_calls(server: Server, browser: Any) -> None:
    """A call's new count comes with ticket.called itself (no queue.changed follows it on
    /display): the hall's waiting list must still go down with the call."""
    outside: list[str] = []
    page = hall(browser, server, outside, "?voice=chime")
    shown = """(want) => Object.entries(want).every(([sid, n]) =>
      document.querySelector(`#waiting li[data-service-id="${sid}"] .w-count`)?.textContent === String(n))"""

    def truth() -> dict[str, int]:
        res = requests.get(f"{server.base}/api/v1/display/state", timeout=5)
        return {str(w["service_id"]): w["waiting"] for w in res.json()["waiting"]}

    api = Api(server.base)
    api.post("/counters/6/open")  # Đăng ký kinh doanh (field 5), Văn hóa, Giáo dục
    api.issue(5)
    api.issue(5)
    page.wait_for_function(shown, arg=truth(), timeout=5000)  # issues: queue.changed
    before = truth()
    called = api.post("/counters/6/call-next")
    after = truth()
    sid = str(called["service_id"])
    assert after[sid] == before[sid] - 1
    page.wait_for_function(shown, arg=after, timeout=5000)  # the call: ticket.called's count
    api.post("/counters/6/call-next")  # the second one too: nothing left for later tests
    page.wait_for_function(shown, arg=truth(), timeout=5000)
    page.close()
    assert outside == []


def test_counter_display_follows_its_counter(server: Server, browser: Any) -> None:
    outside: list[str] = []
    code = json.loads(server.cli("device", "add", "--kind", "counter-display", "--name", "LED quầy 5",
                                 "--counter", "5", "--json"))["pairing_code"]
    page = browser.new_page(viewport={"width": 800, "height": 480})
    page.on("request", lambda r: outside.append(r.url) if not r.url.startswith(server.base) else None)
    page.goto(f"{server.base}/display/pair?code={code}")  # pairs, then opens its counter
    page.wait_for_url(f"{server.base}/display/counter/5", timeout=5000)
    page.wait_for_function("() => document.getElementById('counter-screen').dataset.snapshots >= 1")
    page.wait_for_function("() => window.__heartbeats >= 1", timeout=5000)  # a paired screen beats
    view = "() => document.getElementById('counter-screen').dataset.view === '{}'"
    page.wait_for_function(view.format("closed"))
    api = Api(server.base)
    api.post("/counters/5/open")
    page.wait_for_function(view.format("idle"))
    assert page.inner_text("#cs-status") == "Mời số tiếp theo"
    api.post("/counters/5/pause", reason="Nghỉ giữa giờ")
    page.wait_for_function(view.format("paused"))
    assert page.inner_text("#cs-status") == "Tạm dừng"
    api.post("/counters/5/resume")
    page.wait_for_function(view.format("idle"))
    ticket = api.issue(4)  # Kinh tế – Hạ tầng, served at counter 5
    api.post("/counters/5/call-next")
    page.wait_for_function(view.format("serving"))
    assert page.inner_text("#cs-label") == ticket["label"]
    api.post("/counters/5/finish", outcome="served")
    page.wait_for_function(view.format("idle"))
    page.close()
    assert outside == []


def test_display_recovers_after_a_server_restart_without_reannouncing(
        server: Server, browser: Any) -> None:
    outside: list[str] = []
    page = hall(browser, server, outside, "?voice=chime")
    api = Api(server.base)
    api.post("/counters/1/open")
    before = api.issue(1)
    api.post("/counters/1/call-next")
    page.wait_for_function("() => window.__announcements.length === 1", timeout=5000)
    assert page.inner_text('.row[data-counter-id="1"] .c-label') == before["label"]
    server.stop()
    page.wait_for_selector("#offline", state="visible", timeout=10000)
    server.cli("day-close")  # while it is down, the day's open tickets expire
    server.start()
    page.wait_for_function("() => document.getElementById('hall').dataset.snapshots >= 2", timeout=20000)
    page.wait_for_selector("#offline", state="hidden")
    assert page.inner_text('.row[data-counter-id="1"] .c-label') == ""  # no stale number
    assert page.inner_text('.row[data-counter-id="2"] .c-label') == ""
    time.sleep(0.5)
    assert len(announcements(page)) == 1  # the snapshot announces nothing
    api = Api(server.base)
    ticket = api.issue(1)
    api.post("/counters/1/call-next")
    page.wait_for_function("() => window.__announcements.length === 2", timeout=8000)
    assert announcements(page)[1]["label"] == ticket["label"]
    page.close()
    assert outside == []
