"""Issue 6 end to end in Debian's Chromium against one real server: the clerk finishes at
counter 3 on the workstation page, the counter's tablet shows the rating screen at once,
the citizen taps, and the manager's dashboard (open in another window) shows the new
rating without a reload."""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from playwright.sync_api import expect

from tests.conftest import SECRET
from tests.livesrv import ONESTOP, demo_server

LIVE_MS = 10000
pytestmark = pytest.mark.browser


def _bearer(base: str, username: str) -> dict[str, str]:
    res = requests.post(f"{base}/api/v1/auth/token", json={"username": username, "password": "demo"},
                        timeout=5)
    return {"Authorization": f"Bearer {res.json()['token']}"}


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, browser: Any) -> Iterator[tuple[str, str]]:
    data_dir = tmp_path_factory.mktemp("e2e-rating")
    with demo_server(data_dir) as base:
        env = {**os.environ, "ONESTOP_SECRET_KEY": SECRET, "ONESTOP_DATA_DIR": str(data_dir)}
        env.pop("ONESTOP_DATABASE_URL", None)
        device = json.loads(subprocess.run(
            [ONESTOP, "device", "add", "--kind", "tablet", "--counter", "3", "--name", "Tablet 3",
             "--json"], env=env, capture_output=True, text=True, check=True).stdout)
        yield base, device["pairing_code"]


def _signed_in(browser: Any, base: str, username: str, page_path: str,
               problems: list[str]) -> tuple[Any, Any]:
    """A window of its own, signed in on the login page, on its way to ``page_path``."""
    context = browser.new_context(viewport={"width": 1366, "height": 768})
    page = context.new_page()
    page.on("pageerror", lambda e: problems.append(f"{username}: {e}"))
    page.goto(f"{base}/login?next={page_path}")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "demo")
    page.click("button[type=submit]")
    return context, page


def test_finish_then_tablet_then_dashboard(site: tuple[str, str], browser: Any) -> None:
    base, code = site
    problems: list[str] = []
    tablet_ctx = browser.new_context(viewport={"width": 1280, "height": 800}, has_touch=True)
    tablet = tablet_ctx.new_page()
    tablet.on("pageerror", lambda e: problems.append(f"tablet: {e}"))
    tablet.goto(f"{base}/counter/tablet/pair?code={code}")
    tablet.wait_for_url(f"{base}/counter/tablet", timeout=LIVE_MS)
    tablet.wait_for_selector("#tablet[data-connected='1']", timeout=LIVE_MS)

    manager_ctx, dash = _signed_in(browser, base, "manager", "/manager/", problems)
    dash.wait_for_url(f"{base}/manager/")
    expect(dash.locator("#satisfaction-today")).to_have_text("—")  # nobody rated today yet

    # the clerk works on the workstation page: sign in, take counter 3, call, finish
    clerk_ctx, desk = _signed_in(browser, base, "clerk3", "/counter/", problems)
    desk.click(".pick-card[data-counter-id='3']")
    desk.wait_for_selector("#link-state[data-connected='1']", timeout=LIVE_MS)
    ticket = requests.post(f"{base}/api/v1/tickets", json={"service_id": 2},  # the lobby kiosk
                           headers=_bearer(base, "clerk3"), timeout=5).json()
    desk.wait_for_selector(f"#waiting .chip:text-is('{ticket['label']}')", timeout=LIVE_MS)
    desk.get_by_role("button", name=re.compile("^Gọi tiếp")).click()
    expect(desk.locator("#current-label")).to_have_text(ticket["label"], timeout=LIVE_MS)
    desk.wait_for_selector("#actions [data-act='finish']:not([disabled])")
    desk.click("#actions [data-act='finish']")
    desk.click("#dlg-finish .choice-outcome[value='served']")

    tablet.wait_for_selector("[data-level=very_satisfied]", state="visible", timeout=LIVE_MS)
    assert tablet.inner_text("#rate-label") == ticket["label"]
    tablet.tap("[data-level=very_satisfied]")
    tablet.wait_for_selector("#tablet[data-screen=thanks]", timeout=LIVE_MS)

    # the dashboard learns it from rating.created: 1 of 1 rated satisfied
    expect(dash.locator("#ratings-today")).to_have_text("(1/1)", timeout=LIVE_MS)
    expect(dash.locator("#satisfaction-today")).to_contain_text("100")
    expect(dash.locator("#served-today")).to_have_text("1")
    assert problems == []
    tablet_ctx.close()
    manager_ctx.close()
    clerk_ctx.close()
