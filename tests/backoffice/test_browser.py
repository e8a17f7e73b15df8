"""Real Chromium against a real server: an admin edits a field's cap and reads the log."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.livesrv import demo_server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with demo_server(tmp_path_factory.mktemp("backoffice")) as base:
        yield base


def test_admin_edits_a_daily_cap_and_sees_the_audit_entry(server: str, browser: Any) -> None:
    page = browser.new_page(viewport={"width": 1366, "height": 900})
    problems: list[str] = []
    # a CSP refusal (inline script or style), a script error, or a request leaving the server
    page.on("console", lambda m: problems.append(m.text) if "Content Security Policy" in m.text else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on("request", lambda r: problems.append(r.url) if not r.url.startswith(server) else None)
    page.goto(f"{server}/admin/services")
    assert "/login" in page.url  # not signed in yet
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", "demo")
    page.click("button[type=submit]")
    page.wait_for_url(f"{server}/admin/services")

    # the section menu is one column down the left edge, under the unit's name
    boxes = [page.locator(".bo-nav li").nth(i).bounding_box() for i in range(3)]
    unit_box = page.locator(".bo-unit").bounding_box()
    assert all(b is not None for b in boxes) and unit_box is not None
    assert [b["x"] for b in boxes] == [boxes[0]["x"]] * 3  # type: ignore[index]
    assert unit_box["y"] < boxes[0]["y"] < boxes[1]["y"] < boxes[2]["y"]  # type: ignore[index]
    assert boxes[0]["width"] > 200  # type: ignore[index]

    page.get_by_role("row", name="Tư pháp – Hộ tịch").get_by_role("link", name="Sửa").click()
    page.fill("input[name=daily_cap]", "0")
    page.get_by_role("button", name="Lưu").click()
    assert page.locator(".field-error").inner_text() == "Số phiếu tối đa phải lớn hơn 0."
    page.fill("input[name=daily_cap]", "150")
    page.get_by_role("button", name="Lưu").click()
    page.wait_for_url(f"{server}/admin/services")
    assert "Đã lưu lĩnh vực." in page.inner_text(".flash")
    assert "150" in page.get_by_role("row", name="Tư pháp – Hộ tịch").inner_text()

    page.get_by_role("link", name="Nhật ký thay đổi").click()
    entry = page.locator("tr.audit-entry[data-entity=service]").first
    assert "Quản trị hệ thống" in entry.inner_text()
    assert entry.locator("td.before").inner_text() == "300"
    assert entry.locator("td.after").inner_text() == "150"

    # a destructive button asks first (static JS, no inline handler): dismissing keeps the account
    page.goto(f"{server}/admin/users")
    asked: list[str] = []

    def dismiss(dialog: Any) -> None:
        asked.append(dialog.message)
        dialog.dismiss()

    page.once("dialog", dismiss)
    page.get_by_role("row", name="clerk8").get_by_role("button", name="Khoá").click()
    assert asked and "clerk8" in asked[0]
    assert "Đang hoạt động" in page.get_by_role("row", name="clerk8").inner_text()
    assert not problems, problems


