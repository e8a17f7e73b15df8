"""Closing a counter in Debian's Chromium: an in-page dialog (never the browser's native
confirm) says what happens to the called ticket and to each parked one, and the clerk
chooses where the parked tickets go."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from tests.counter.test_browser import _issue, _label_is, _sign_in, _token
from tests.livesrv import demo_server

pytestmark = pytest.mark.browser
LIVE_MS = 5000


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, browser: Any) -> Iterator[str]:
    with demo_server(tmp_path_factory.mktemp("counter-close")) as base:
        yield base


def _ticket(base: str, ticket_id: int) -> dict[str, Any]:
    return dict(requests.get(f"{base}/api/v1/tickets/{ticket_id}", timeout=5).json())


def test_close_dialog_lists_what_happens_and_moves_parked_tickets(server: str, browser: Any) -> None:
    base = server
    clerk1, clerk2 = _token(base, "clerk1"), _token(base, "clerk2")
    res = requests.post(f"{base}/api/v1/counters/2/open", headers=clerk2, timeout=5)
    assert res.status_code == 200, res.text
    parked, called = _issue(base, clerk1), _issue(base, clerk1)

    context = browser.new_context(viewport={"width": 1366, "height": 768})
    page = context.new_page()
    native: list[str] = []
    problems: list[str] = []
    page.on("dialog", lambda d: (native.append(d.message), d.dismiss()))
    page.on("pageerror", lambda e: problems.append(str(e)))
    _sign_in(page, base, "clerk1")
    page.click(".pick-card[data-counter-id='1']")
    page.wait_for_selector("#desk:not([hidden])")

    page.get_by_role("button", name=re.compile("^Gọi tiếp")).click()
    _label_is(page, parked["label"])
    page.keyboard.press("g")
    page.fill("#park-note", "Đi sao chụp giấy tờ")
    page.click("#dlg-park button[value=ok]")
    page.wait_for_selector("#parked-total:text-is('1')", timeout=LIVE_MS)
    page.get_by_role("button", name=re.compile("^Gọi tiếp")).click()
    _label_is(page, called["label"])

    page.click("#close-counter")
    dialog = page.get_by_role("dialog", name=re.compile("Đóng quầy"))
    dialog.wait_for(timeout=LIVE_MS)
    effects = page.inner_text("#close-effects")
    assert called["label"] in effects and "Vắng mặt" in effects
    listed = page.inner_text("#close-parked-list")
    assert parked["label"] in listed and "xếp lại hàng chờ" in listed and "Đi sao chụp" in listed
    # Esc: nothing happens
    page.keyboard.press("Escape")
    dialog.wait_for(state="hidden", timeout=LIVE_MS)
    assert _ticket(base, called["id"])["state"] == "called"

    page.click("#close-counter")
    dialog.wait_for(timeout=LIVE_MS)
    page.get_by_label(re.compile("Chuyển sang quầy khác")).check()
    page.select_option("#close-to-counter", "2")
    page.wait_for_selector("#close-parked-list:has-text('tạm giữ tại quầy 2')")
    page.click("#close-confirm")
    page.wait_for_selector("#picker:not([hidden])", timeout=LIVE_MS)
    assert "Đã đóng quầy 1" in page.inner_text("#message")

    missed, moved = _ticket(base, called["id"]), _ticket(base, parked["id"])
    assert missed["state"] == "missed"
    assert moved["state"] == "parked" and moved["counter"]["number"] == 2
    counters = requests.get(f"{base}/api/v1/counters", timeout=5).json()["counters"]
    assert counters[0]["state"] == "closed"
    assert native == [], f"native dialogs: {native}"
    assert problems == []
    context.close()
