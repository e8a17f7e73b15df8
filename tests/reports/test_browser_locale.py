"""The manager pages in real Chromium whose own timezone is UTC: the dashboard clock shows
the unit's time; the reports page lists names in Vietnamese order, rounds as the exports
do, draws the rating levels best to worst with "Không đánh giá" grey, and says how its
CSV is separated."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect
from sqlalchemy import select
from sqlalchemy.orm import Session

from onestop.db import make_engine
from onestop.reports.exports import number
from onestop.units.models import Unit
from tests.livesrv import demo_server
from tests.reports.locale_data import EXPECTED_ORDER, MONDAY, seed

HANOI = ZoneInfo("Asia/Ho_Chi_Minh")
WAIT = 20000  # ms: two cores shared by the whole suite


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    data_dir: Path = tmp_path_factory.mktemp("manager-locale")
    with demo_server(data_dir) as base:
        engine = make_engine(f"sqlite:///{data_dir / 'onestop.sqlite3'}")
        with Session(engine) as session:
            seed(session, session.scalars(select(Unit).order_by(Unit.id)).first().id)  # type: ignore[union-attr]
            session.commit()
        engine.dispose()
        yield base


@pytest.fixture
def page(server: str, browser: Any) -> Iterator[Any]:
    context = browser.new_context(timezone_id="UTC", locale="en-US", viewport={"width": 1366, "height": 900})
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda e: errors.append(str(e)))
    tab.goto(f"{server}/login?next=/manager/")
    tab.fill("input[name=username]", "manager")
    tab.fill("input[name=password]", "demo")
    tab.click("button[type=submit]")
    tab.wait_for_url(f"{server}/manager/", timeout=WAIT)
    yield tab
    context.close()
    assert not errors


def test_the_dashboard_clock_is_the_units_time_in_a_utc_browser(page: Any) -> None:
    assert page.evaluate("Intl.DateTimeFormat().resolvedOptions().timeZone") in ("UTC", "Etc/UTC")
    expect(page.locator("#dashboard-time")).to_have_text(re.compile(r"^\d{2}:\d{2}:\d{2}$"), timeout=WAIT)
    shown = page.inner_text("#dashboard-time")
    now = dt.datetime.now(HANOI)
    clock = dt.datetime.combine(now.date(), dt.time.fromisoformat(shown), tzinfo=HANOI)
    gap = abs((now - clock).total_seconds())
    assert min(gap, 86400 - gap) < 120, (shown, now.time())


def test_reports_page_order_rounding_and_chart(server: str, page: Any) -> None:
    page.goto(f"{server}/manager/reports")
    expect(page.locator("#r-served")).not_to_have_text("—", timeout=WAIT)
    day = MONDAY.strftime("%d/%m/%Y")
    page.fill("#date-from", day)
    page.fill("#date-to", day)
    page.click("#report-form button[type=submit]")
    expect(page.locator("#report-period")).to_have_text(f"{day} – {day}", timeout=WAIT)
    rows = page.locator("#breakdown-service tr")
    expect(rows).to_have_count(len(EXPECTED_ORDER), timeout=WAIT)
    names = [rows.nth(i).locator("td").first.inner_text() for i in range(len(EXPECTED_ORDER))]
    assert names == EXPECTED_ORDER

    # 2.25 minutes: 2,3 on the page, as in the exports (Python's own format says 2.2)
    land = page.locator("#breakdown-service tr", has_text="Đất đai").locator("td")
    assert land.nth(5).inner_text() == "2,3" == number(2.25, 1)
    assert f"{2.25:.1f}" == "2.2"
    for value in (2.25, 0.15, 1.005, 12.250000000000002, 7.45, 3):
        assert page.evaluate(f"Manager.num({value}, 1)") == number(value, 1), value

    levels = page.locator("#ratings-table tr")
    assert [levels.nth(i).get_attribute("data-level") for i in range(levels.count())] == [
        "very_satisfied", "satisfied", "dissatisfied", "not_rated"]
    chart = page.evaluate("""() => { const c = Chart.getChart('chart-ratings');
        return { labels: c.data.labels, colors: c.data.datasets[0].backgroundColor }; }""")
    assert chart["labels"] == ["Rất hài lòng", "Hài lòng", "Không hài lòng", "Không đánh giá"]
    assert chart["colors"][-1] == "#9e9e9e" and len(set(chart["colors"])) == 4
    assert ";" in page.inner_text("#csv-note") and "UTF-8" in page.inner_text("#csv-note")
