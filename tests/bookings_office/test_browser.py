"""Real Chromium at an office PC's 1366x768 against a real demo server: a clerk books a slot
for a citizen who called, reads out the code, finds it in the day's list with the phone
masked, and cancels it from the list. Screenshot of the answer page in the test's tmp dir."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.livesrv import demo_server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with demo_server(tmp_path_factory.mktemp("bookings-office")) as base:
        yield base


def _first_day_with_slots(page: Any) -> str:
    """Show the field's free times day after day (the demo's clock is today's)."""
    for ahead in range(10):
        day = (dt.date.today() + dt.timedelta(days=ahead)).isoformat()
        page.fill("#pick-date", day)
        page.click("#show-slots")
        page.wait_for_load_state()
        if page.locator("#on-behalf").count():
            return day
        assert page.locator("#no-slots").is_visible()
    raise AssertionError("no free time in the next 10 days")


def test_a_clerk_books_for_a_citizen_on_the_phone_and_cancels_it(server: str, browser: Any,
                                                                  tmp_path: Path) -> None:
    page = browser.new_page(viewport={"width": 1366, "height": 768})
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if "Content Security Policy" in m.text else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on("request", lambda r: problems.append(r.url) if not r.url.startswith(server) else None)
    page.goto(f"{server}/admin/bookings/new")
    page.fill("input[name=username]", "clerk1")
    page.fill("input[name=password]", "demo")
    page.click("button[type=submit]")
    page.wait_for_url(f"{server}/admin/bookings/new")
    # a clerk's menu holds the bookings only (the rest of the back office is the admins')
    assert page.locator(".bo-nav li").all_inner_texts() == ["Lịch hẹn"]

    page.select_option("#pick-service", label="Tư pháp – Hộ tịch")
    day = _first_day_with_slots(page)
    first = page.locator("#start option").first
    slot_label = first.inner_text()
    assert "(còn " in slot_label and " chỗ)" in slot_label
    page.select_option("#start", index=0)
    page.fill("#phone", "0912 345 678")
    page.fill("#name", "Nguyễn Thị Lan")
    # the form fits the screen: no sideways scrolling, the button in view
    assert page.evaluate("document.documentElement.scrollWidth") <= 1366
    page.get_by_role("button", name="Đặt lịch", exact=True).click()
    code = page.locator("#booking-code").inner_text().strip()
    assert len(code) == 6 and code.isalnum()
    assert slot_label[:5] in page.inner_text("#booking-when")
    assert "Đọc cho công dân mã lịch hẹn:" in page.inner_text("#booking-done")
    page.screenshot(path=str(tmp_path / "booking-on-behalf-1366x768.png"))
    assert (tmp_path / "booking-on-behalf-1366x768.png").stat().st_size > 10_000

    page.get_by_role("link", name="Danh sách lịch hẹn").click()
    page.wait_for_url(f"{server}/admin/bookings?*day={day}*")
    row = page.locator(f"tr[data-code='{code}']")
    assert "+84 91*****78" in row.inner_text() and "0912" not in row.inner_text()
    assert row.locator("td.state").inner_text() == "Đã đặt"
    asked: list[str] = []

    def accept(dialog: Any) -> None:
        asked.append(dialog.message)
        dialog.accept()

    page.once("dialog", accept)
    row.get_by_role("button", name="Huỷ").click()
    page.wait_for_load_state()
    assert asked == [f"Huỷ lịch hẹn {code}?"]
    assert f"Đã huỷ lịch hẹn {code}." in page.inner_text(".flash")
    assert page.locator(f"tr[data-code='{code}'] td.state").inner_text() == "Đã huỷ"
    # printed: the tables only, without the menu, the filters and the buttons
    page.emulate_media(media="print")
    assert page.locator(f"tr[data-code='{code}']").is_visible()
    assert not page.locator(".bo-nav").is_visible() and not page.locator(".booking-filter").is_visible()
    assert not page.get_by_role("button", name="Huỷ").first.is_visible()
    assert not problems, problems


def test_the_managers_reports_page_shows_the_bookings_and_the_waits_by_arrival(server: str,
                                                                               browser: Any) -> None:
    """The demo books a few citizens for today: the month's report lists them per field and day."""
    page = browser.new_page(viewport={"width": 1366, "height": 768})
    problems: list[str] = []
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.goto(f"{server}/login?next=/manager/reports")
    page.fill("input[name=username]", "manager")
    page.fill("input[name=password]", "demo")
    page.click("button[type=submit]")
    page.wait_for_url(f"{server}/manager/reports")
    page.wait_for_selector("#bookings-table tr")
    today = dt.date.today().isoformat()
    row = page.locator(f"#bookings-table tr[data-date='{today}']").first
    cells = row.locator("td").all_inner_texts()
    assert cells[0] == dt.date.today().strftime("%d/%m/%Y") and cells[1]  # the day, the field's name
    made = int(cells[2])
    assert made >= 1 and int(page.inner_text("#bk-made")) >= made
    assert page.inner_text("#wa-walk_in-count") != "—"  # the waits' table filled in
    assert page.locator("#arrival-waits tr[data-kind=booked] th").inner_text() == "Công dân đặt lịch hẹn"
    assert not problems, problems
