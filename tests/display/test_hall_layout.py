"""The hall display in Chromium with a big centre: 16 fields, 12 counters, 6 recent calls.

At 1920x1080, 1366x768 and portrait 1080x1920 every field's waiting count and every
counter must be on screen, whole (inside the viewport, not cut off by any box that hides
its overflow). The "now calling" banner dims once its ticket has left the counter or the
counter pauses or closes, and recent calls say which were missed, transferred or parked.
Screenshots go to ``$ONESTOP_SCREENSHOTS`` when it is set (to look at them).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.display.test_browser import Api, Server, open_page

EXTRA_FIELDS = [  # six more fields, with long names, for 16 in all
    ("QLDT", "Quản lý đô thị và Xây dựng", "M"), ("TNMT", "Tài nguyên và Môi trường", "N"),
    ("TCKH", "Tài chính – Kế hoạch", "P"), ("CT", "Công Thương", "Q"),
    ("DTTG", "Dân tộc – Tôn giáo", "R"), ("TTR", "Thanh tra – Tiếp công dân", "S"),
]
VIEWPORTS = [(1920, 1080), (1366, 768), (1080, 1920)]
SHOTS = os.environ.get("ONESTOP_SCREENSHOTS")

# every element matched by the selector: its box inside the viewport and inside every
# ancestor that clips (overflow not visible), and its text not cut short (no ellipsis)
HIDDEN_PARTS = """(selector) => {
  const bad = [];
  const eps = 0.5;
  const outside = (r, b) => r.left < b.left - eps || r.top < b.top - eps
    || r.right > b.right + eps || r.bottom > b.bottom + eps;
  for (const el of document.querySelectorAll(selector)) {
    const r = el.getBoundingClientRect();
    const name = `${selector} "${el.textContent.trim()}"`;
    if (!el.textContent.trim()) continue;  // an idle counter's empty label
    if (r.width < 1 || r.height < 1) { bad.push(`${name}: no box`); continue; }
    if (outside(r, {left: 0, top: 0, right: innerWidth, bottom: innerHeight})) {
      bad.push(`${name}: outside the viewport`); continue;
    }
    if (el.scrollWidth > el.clientWidth + 1) {
      bad.push(`${name}: text cut`); continue;
    }
    for (let a = el.parentElement; a; a = a.parentElement) {
      const cs = getComputedStyle(a);
      if ((cs.overflowX !== "visible" || cs.overflowY !== "visible")
          && outside(r, a.getBoundingClientRect())) {
        bad.push(`${name}: clipped by ${a.tagName}.${a.className}`); break;
      }
    }
  }
  return bad;
}"""


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory, browser: Any) -> Iterator[Server]:
    """The demo centre grown to 16 fields and 12 counters, 6 calls made, people waiting
    in every field."""
    srv = Server(tmp_path_factory.mktemp("hall"))
    srv.env["ONESTOP_TICKET_RATE_LIMIT"] = "1000 per minute"  # 32 tickets from one token
    srv.start()
    srv.unit_settings(announcement_repeat=1, display_notice="Quý công dân vui lòng giữ trật tự.")
    try:
        for code, name, prefix in EXTRA_FIELDS:
            srv.cli("service", "add", "--code", code, "--name", name, "--prefix", prefix,
                    "--days", "1,2,3,4,5,6,7")
        for number, code in zip(range(9, 13), ("QLDT", "TNMT", "TCKH", "CT"), strict=True):
            srv.cli("counter", "add", "--number", str(number), "--services", f"{code},DTTG,TTR")
        api = Api(srv.base)
        fields = requests.get(f"{srv.base}/api/v1/services", timeout=5).json()["services"]
        assert len(fields) == 16
        for field in fields:
            for _ in range(2):
                api.issue(field["id"])
        counters = requests.get(f"{srv.base}/api/v1/counters", headers=api.headers,
                                timeout=5).json()["counters"]
        assert len(counters) == 12
        for counter in counters:
            api.post(f"/counters/{counter['id']}/open")
        for counter in counters[6:]:
            api.post(f"/counters/{counter['id']}/call-next")
        yield srv
    finally:
        srv.stop()


def hall_page(browser: Any, server: Server, size: tuple[int, int], query: str = "?voice=chime") -> Any:
    outside: list[str] = []
    page = open_page(browser, f"{server.base}/display/{query}", server.base, outside, size)
    page.wait_for_function("() => document.querySelectorAll('#waiting li').length === 16"
                           " && document.querySelectorAll('#rows .row').length === 12"
                           " && document.querySelectorAll('#recent li').length === 6")
    page.evaluate("() => document.fonts.ready")
    page.wait_for_timeout(500)  # the page fits its lists to the screen once the fonts are in
    assert outside == []
    return page


@pytest.mark.parametrize("size", VIEWPORTS, ids=lambda s: f"{s[0]}x{s[1]}")
def test_every_field_and_counter_is_on_screen(big: Server, browser: Any, size: tuple[int, int]) -> None:
    page = hall_page(browser, big, size)
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"hall-{size[0]}x{size[1]}.png"))
    bad: list[str] = []
    for selector in ("#waiting .w-count", "#rows .row .c-num", "#rows .row .c-label", "#recent .r-label",
                     "#recent .r-counter", "#called-label", "#called-counter"):
        bad += page.evaluate(HIDDEN_PARTS, selector)
    assert bad == [], "\n".join(bad)
    serving = page.eval_on_selector_all("#rows .row .c-label", "els => els.map(e => e.textContent)")
    assert sum(1 for label in serving if label) == 6
    # readable from a few metres: counts and labels stay big
    sizes = page.eval_on_selector_all(
        "#waiting .w-count, #rows .c-label",
        "els => els.map(e => parseFloat(getComputedStyle(e).fontSize))")
    assert min(sizes) >= 0.014 * min(size), sizes
    page.close()


def test_banner_dims_and_recent_calls_say_how_calls_ended(big: Server, browser: Any) -> None:
    """Counter 6 calls six citizens in turn: parked, finished, missed, transferred, then
    the counter pauses, then closes on one. The banner must never keep inviting someone
    to a counter that has moved on, and the recent calls say which calls came to nothing."""
    page = hall_page(browser, big, (1920, 1080))
    api = Api(big.base)
    for _ in range(6):
        api.issue(5)  # Đăng ký kinh doanh, served at counter 6
    banner = "() => document.getElementById('called').dataset.over"

    def call() -> str:
        label = str(api.post("/counters/6/call-next")["label"])
        page.wait_for_function("""(label) => document.getElementById('called-label').textContent === label
          && document.getElementById('called').dataset.over === '0'""", arg=label, timeout=15000)
        assert label in page.inner_text("#called-text")  # "Xin mời công dân có số thứ tự ..."
        return label

    def after(action: str, **body: Any) -> tuple[str, str, str]:
        api.post(f"/counters/6/{action}", **body)
        page.wait_for_function(f"{banner} === '1'", timeout=5000)
        return (page.inner_text("#called-status") if page.is_visible("#called-status") else "",
                page.inner_text("#called-text"), page.inner_text("#called-label"))

    def recent(label: str) -> str:
        return str(page.inner_text(f'#recent li:has(.r-label:text-is("{label}"))'))

    parked = call()
    status, text, shown = after("park", note="chờ bổ sung giấy tờ")
    assert (status, shown) == ("Tạm giữ", parked) and "Xin mời" not in text
    page.wait_for_function("(l) => document.querySelector('#recent li.is-parked')?.textContent.includes(l)",
                           arg=parked)
    page.reload()  # a display that connects now gets the same from its snapshot
    page.wait_for_function("() => document.getElementById('hall').dataset.snapshots >= 1")
    assert page.get_attribute("#called", "data-over") == "1" and "Tạm giữ" in recent(parked)
    finished = call()
    assert after("finish", outcome="served")[0] == ""
    assert "Vắng mặt" not in recent(finished) and "Đã chuyển" not in recent(finished)
    missed = call()
    assert after("skip")[0] == "Vắng mặt"
    assert "Vắng mặt" in recent(missed)
    transferred = call()
    assert after("transfer", service_id=1)[0] == "Đã chuyển"
    assert "Đã chuyển" in recent(transferred)
    call()
    assert after("pause", reason="Nghỉ giữa giờ")[0] == "Tạm dừng"
    api.post("/counters/6/resume")
    page.wait_for_function(f"{banner} === '0'", timeout=5000)  # still called there: current again
    closed_on = page.inner_text("#called-label")
    assert after("close", parked="requeue")[0] == "Không làm việc"
    page.wait_for_function("(l) => document.querySelector('#recent li.is-missed')?.textContent.includes(l)"
                           " && true", arg=closed_on)
    assert page.locator("#called.flash").count() == 0  # a dimmed call never blinks
    if SHOTS:
        page.screenshot(path=str(Path(SHOTS) / "hall-banner-closed.png"))
    # a display that connects now gets the same from its snapshot
    page.reload()
    page.wait_for_function("() => document.getElementById('hall').dataset.snapshots >= 1")
    assert page.get_attribute("#called", "data-over") == "1"
    assert "Vắng mặt" in recent(closed_on) and "Vắng mặt" in recent(missed)
    assert "Đã chuyển" in recent(transferred)
    assert "Tạm giữ" not in recent(parked)  # the close put it back in its queue
    page.close()


@pytest.mark.parametrize("size", VIEWPORTS, ids=lambda s: f"{s[0]}x{s[1]}")
def test_with_a_media_pane_every_field_and_counter_is_still_on_screen(big: Server, browser: Any,
                                                                     size: tuple[int, int]) -> None:
    """A playlist adds the media pane (issue 23) beside the calls: the counters, their numbers
    and the waiting counts stay whole and big enough to read from 5 m."""
    from tests.media import samples

    api = Api(big.base)
    res = requests.post(f"{big.base}/api/v1/media", headers=api.headers, timeout=10,
                        files={"file": ("lich.png", samples.image("PNG", (1280, 720), "#0f766e"))},
                        data={"title": "Lịch làm việc"})
    assert res.status_code == 201, res.text
    api.post("/playlists", items=[{"media_id": res.json()["id"], "seconds": 30}, {"kind": "qr_cards"}])
    page = hall_page(browser, big, size)
    page.wait_for_function("() => document.getElementById('hall').classList.contains('has-media')"
                           " && document.querySelector('#media-stage img')?.complete")
    page.wait_for_timeout(300)  # the lists fit themselves to the narrower column
    if SHOTS:
        page.screenshot(path=str(Path(SHOTS) / f"hall-media-{size[0]}x{size[1]}.png"))
    bad: list[str] = []
    for selector in ("#waiting .w-count", "#rows .row .c-num", "#rows .row .c-label", "#recent .r-label",
                     "#called-label", "#called-counter", "#media-stage img"):
        bad += page.evaluate(HIDDEN_PARTS.replace(
            "if (!el.textContent.trim()) continue;",
            "if (!el.textContent.trim() && el.tagName !== 'IMG') continue;"), selector)
    assert bad == [], "\n".join(bad)
    sizes = page.eval_on_selector_all(
        "#waiting .w-count, #rows .c-label",
        "els => els.map(e => parseFloat(getComputedStyle(e).fontSize))")
    # 5 m: a number at least ~2.5 cm tall on a 43" TV (1080 px ~ 53 cm): 50 px at 1080p
    # the numbers being served (a closed or paused counter's "Không làm việc" is smaller by
    # design, and which counters are open depends on the module's earlier tests)
    labels = page.eval_on_selector_all("#rows .row:not(.is-closed):not(.is-paused) .c-label",
                                       "els => els.map(e => parseFloat(getComputedStyle(e).fontSize))")
    assert labels, "no counter serving a number on the display"
    assert min(sizes) >= 0.014 * min(size), sizes
    assert min(labels) >= 0.035 * min(size), labels
    box = page.eval_on_selector("#media-stage", "e => e.getBoundingClientRect().width")
    assert box >= 0.25 * min(size)  # a pane worth looking at
    page.close()
