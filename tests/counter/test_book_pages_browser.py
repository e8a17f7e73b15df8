"""The tracking book page in Debian's Chromium against a real server: 50 lines a page, the
Vietnamese paging controls keep the field and year, no script or style refused by the CSP."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from tests.counter.conftest import SAME_DAY
from tests.livesrv import demo_server

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, browser: Any) -> Iterator[str]:
    with demo_server(tmp_path_factory.mktemp("book-pages")) as base:
        token = requests.post(f"{base}/api/v1/auth/token", json={"username": "clerk1", "password": "demo"},
                              timeout=10).json()["token"]
        for i in range(1, 56):
            res = requests.post(f"{base}/api/v1/dossiers", headers={"Authorization": f"Bearer {token}"},
                                timeout=10, json={
                                    "procedure_code": SAME_DAY,
                                    "applicant": {"name": f"Nguyễn Văn {i}", "id_number": "001203004005",
                                                  "phone": "0912345678"}})
            assert res.status_code == 201, res.text
        yield base


def _lines(page: Any) -> list[int]:
    return [int(t) for t in page.locator("table.book tbody td.num").all_inner_texts()]


def test_the_clerk_pages_through_a_book_of_55_lines(server: str, browser: Any) -> None:
    context = browser.new_context(viewport={"width": 1366, "height": 768})
    page = context.new_page()
    refused: list[str] = []
    page.on("console", lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None)
    page.goto(f"{server}/counter/book?service_id=1")
    page.fill("input[name=username]", "clerk2")
    page.fill("input[name=password]", "demo")
    page.click("button[type=submit]")
    page.wait_for_selector("table.book")
    assert _lines(page) == list(range(1, 51))
    nav = page.locator("#book-pages")
    assert "Dòng 1–50 trong 55 · trang 1/2" in nav.inner_text()
    box = nav.bounding_box()
    assert box is not None and box["x"] + box["width"] <= 1366  # on screen, not clipped
    page.get_by_role("link", name="Trang sau ›").click()
    page.wait_for_url("**page=2**")
    assert "service_id=1" in page.url and "year=" in page.url
    assert _lines(page) == [51, 52, 53, 54, 55]
    assert page.locator("select[name=service_id]").input_value() == "1"  # the field still chosen
    page.get_by_role("link", name="‹ Trang trước").click()
    page.wait_for_url("**page=1**")
    assert _lines(page)[:3] == [1, 2, 3]
    assert not refused, refused
    context.close()
