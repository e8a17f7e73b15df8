"""The manager dashboard in real Chromium against a real server: live updates over Socket.IO."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from playwright.sync_api import expect

from tests.livesrv import demo_server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with demo_server(tmp_path_factory.mktemp("manager")) as base:
        yield base


def _bearer(base: str, username: str) -> dict[str, str]:
    res = requests.post(f"{base}/api/v1/auth/token", json={"username": username, "password": "demo"},
                        timeout=5)
    return {"Authorization": f"Bearer {res.json()['token']}"}


def _sign_in(page: Any, base: str, username: str) -> None:
    page.goto(f"{base}/login?next=/manager/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "demo")
    page.click("button[type=submit]")


def test_dashboard_updates_live(server: str, browser: Any) -> None:
    base = server
    page = browser.new_page(viewport={"width": 1366, "height": 768})
    outside: list[str] = []
    errors: list[str] = []
    page.on("request", lambda r: outside.append(r.url) if not r.url.startswith(base) else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    _sign_in(page, base, "manager")
    page.wait_for_url(f"{base}/manager/")
    page.wait_for_selector("#counter-list tr >> nth=7")
    assert page.locator("#counter-list tr").count() == 8
    assert page.inner_text("#counters-closed") == "8"
    expect(page.locator("#live-status")).to_have_class(re.compile(r"\bok\b"))
    assert page.inner_text("#served-today") == "0"

    manager, clerk = _bearer(base, "manager"), _bearer(base, "clerk1")
    counters = requests.get(f"{base}/api/v1/counters", timeout=5).json()
    counters = counters["counters"] if isinstance(counters, dict) else counters
    one = next(c for c in counters if c["number"] == 1)
    assert requests.post(f"{base}/api/v1/counters/{one['id']}/open", headers=clerk, timeout=5).ok
    expect(page.locator("#counters-open")).to_have_text("1")
    assert requests.post(f"{base}/api/v1/tickets", json={"service_id": one["service_ids"][0]},
                         headers=manager, timeout=5).status_code == 201
    expect(page.locator("#waiting-total")).to_have_text("1")
    assert requests.post(f"{base}/api/v1/counters/{one['id']}/call-next", headers=clerk, timeout=5).ok
    assert requests.post(f"{base}/api/v1/counters/{one['id']}/finish", json={"outcome": "served"},
                         headers=clerk, timeout=5).ok
    # no reload, no polling interval reached: the socket event brought it
    expect(page.locator("#served-today")).to_have_text("1", timeout=10000)
    assert page.inner_text("#waiting-total") == "0"
    assert "Quầy 1" in page.inner_text("#counter-list")
    assert not outside and not errors

    # the reports page draws its tables and charts for the current month
    page.goto(f"{base}/manager/reports")
    # (the demo may hold a history: any count, written with "." between thousands)
    expect(page.locator("#r-served")).to_have_text(re.compile(r"^[1-9]\d{0,2}(\.\d{3})*$"))
    assert page.inner_text("#report-period").count("/") == 4  # dd/mm/yyyy – dd/mm/yyyy
    assert page.locator("#heatmap td.heat").count() > 0
    expect(page.locator("#chart-daily")).to_have_attribute("style", re.compile("height"))  # drawn
    href = page.get_attribute("#export-xlsx", "href") or ""
    assert href.startswith("/api/v1/reports/export?") and "format=xlsx" in href
    page.click("button[data-preset=year]")
    expect(page.locator("#date-from")).to_have_value(re.compile(r"^01/01/\d{4}$"))
    page.goto(f"{base}/manager/staffing")
    page.wait_for_selector(".staffing-field")
    assert not outside and not errors
    page.close()
