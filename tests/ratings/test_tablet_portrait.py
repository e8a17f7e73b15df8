"""The rating tablet held upright (800x1280) in Chromium against a real server: the levels
carry a face as well as the word, the reasons screen is one column with keys of at least
48 px, all on screen, and the "choose a reason" error goes as soon as a reason is chosen.
Screenshots go to ``$ONESTOP_SCREENSHOTS`` when it is set."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.livesrv import demo_server
from tests.ratings.test_browser import LIVE_MS, Live

pytestmark = pytest.mark.browser
SIZE = {"width": 800, "height": 1280}
SHOTS = os.environ.get("ONESTOP_SCREENSHOTS")


@pytest.fixture(scope="module")
def upright(tmp_path_factory: pytest.TempPathFactory, browser: Any) -> Iterator[tuple[Live, Any]]:
    data_dir = tmp_path_factory.mktemp("tablet-portrait")
    with demo_server(data_dir) as base:
        live = Live(base, data_dir)
        live.post("/counters/3/open")
        device = json.loads(live.cli("device", "add", "--kind", "tablet", "--counter", "3",
                                     "--name", "Máy đánh giá quầy 3", "--json"))
        context = browser.new_context(viewport=SIZE, has_touch=True)
        page = context.new_page()
        problems: list[str] = []
        page.on("pageerror", lambda e: problems.append(str(e)))
        page.goto(f"{base}/counter/tablet/pair?code={device['pairing_code']}")
        page.wait_for_url(f"{base}/counter/tablet", timeout=LIVE_MS)
        page.wait_for_selector("#tablet[data-connected='1']", timeout=LIVE_MS)
        yield live, page
        assert problems == []
        context.close()


def boxes(page: Any, selector: str) -> list[dict[str, float]]:
    found = [page.locator(selector).nth(i).bounding_box() for i in range(page.locator(selector).count())]
    assert found and all(b is not None for b in found), selector
    return found


def on_screen(box: dict[str, float]) -> bool:
    return (box["x"] >= 0 and box["y"] >= 0 and box["x"] + box["width"] <= SIZE["width"] + 0.5
            and box["y"] + box["height"] <= SIZE["height"] + 0.5)


def shot(page: Any, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / name))


def test_levels_carry_a_face_and_the_word(upright: tuple[Live, Any]) -> None:
    live, page = upright
    live.serve_one()
    page.wait_for_selector("[data-level=dissatisfied]", state="visible", timeout=LIVE_MS)
    shot(page, "tablet-portrait-levels.png")
    buttons = page.locator("#levels [data-level]")
    assert buttons.all_inner_texts() == ["Rất hài lòng", "Hài lòng", "Không hài lòng"]
    for i in range(3):
        button = buttons.nth(i)
        icon = button.locator("svg.t-face")
        assert icon.count() == 1 and icon.get_attribute("aria-hidden") == "true"
        size = icon.bounding_box()
        assert size is not None and size["width"] >= 64 and size["height"] >= 64
        assert on_screen(button.bounding_box())
    # the faces differ: smiling for the good levels, frowning for the bad one
    moods = [buttons.nth(i).locator("svg").get_attribute("class") for i in range(3)]
    assert len(set(moods)) == 3 and "frown" in (moods[2] or "")
    page.tap("[data-level=satisfied]")
    page.wait_for_selector("#tablet[data-screen=thanks]", timeout=LIVE_MS)
    page.wait_for_selector("#tablet[data-screen=idle]", timeout=LIVE_MS)


def test_reasons_screen_is_one_column_with_big_keys(upright: tuple[Live, Any]) -> None:
    live, page = upright
    ticket = live.serve_one()
    page.wait_for_selector("[data-level=dissatisfied]", state="visible", timeout=LIVE_MS)
    page.tap("[data-level=dissatisfied]")
    page.wait_for_selector("#screen-reason", state="visible")
    shot(page, "tablet-portrait-reasons.png")
    chips = boxes(page, "#reasons [data-reason]")
    assert len(chips) == 5
    assert len({round(c["x"]) for c in chips}) == 1  # one column: every reason at the same x
    keys = boxes(page, "#keyboard .t-key")
    assert all(k["width"] >= 48 and k["height"] >= 48 for k in keys), [
        (round(k["width"]), round(k["height"])) for k in keys if min(k["width"], k["height"]) < 48]
    comment = page.locator("#comment").bounding_box()
    assert comment is not None and comment["y"] >= chips[-1]["y"] + chips[-1]["height"]  # below
    send = page.locator("#reason-send").bounding_box()
    everything = [*chips, *keys, comment, send, page.locator("#reason-back").bounding_box()]
    assert all(on_screen(b) for b in everything)
    assert all(min(b["width"], b["height"]) >= 48 for b in [*chips, send])

    page.tap("#reason-send")  # nothing chosen: asked for a reason
    assert "lý do" in page.inner_text("#reason-error")
    page.tap("[data-reason='Thời gian chờ lâu']")
    assert page.inner_text("#reason-error") == ""  # at once, before anything is sent
    assert live.rating(ticket["id"], wait=0) is None
    page.tap("#reason-send")
    page.wait_for_selector("#tablet[data-screen=thanks]", timeout=LIVE_MS)
    level, _source, reasons, _comment, _score = live.rating(ticket["id"]) or (None,) * 5
    assert (level, json.loads(reasons)) == ("dissatisfied", ["Thời gian chờ lâu"])
