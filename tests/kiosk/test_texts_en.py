"""Issue 17, item 13: the citizen's words. English counts agree with the number ("1 person
waiting", "2 people waiting"), the citizen is "Quý công dân" (never "bạn"), and Sunday is
spelled one way ("Chủ nhật")."""

from __future__ import annotations

import html
import re
from pathlib import Path

from kiosk import texts
from tests.api.helpers import add_device
from tests.conftest import bearer

ROOT = Path(__file__).resolve().parents[2]


def _tile(page: str, service_id: int) -> str:
    for block in re.findall(r'<button type="button" class="tile .*?</button>', page, re.S):
        if f'data-service-id="{service_id}"' in block:
            return html.unescape(block)
    raise AssertionError(service_id)


def test_english_counts_agree_with_the_number(app):
    client = app.test_client()
    client.set_cookie("lang", "en")
    tile = _tile(client.get("/kiosk/").get_data(as_text=True), 1)
    assert re.search(r">0</b>\s*<span[^>]*>people waiting<", tile.replace("\xa0", " ")), tile
    # the word follows the number when the script refreshes it
    assert 'data-one="person waiting"' in tile and 'data-other="people waiting"' in tile
    token = add_device(app, "kiosk")
    assert client.post("/api/v1/tickets", json={"service_id": 1}, headers=bearer(token)).status_code == 201
    tile = _tile(client.get("/kiosk/").get_data(as_text=True), 1)
    assert re.search(r">1</b>\s*<span[^>]*>person waiting<", tile.replace("\xa0", " ")), tile
    field = html.unescape(client.get("/kiosk/field/1").get_data(as_text=True))
    assert 'data-one="person ahead of you" data-other="people ahead of you"' in field
    found = html.unescape(client.get("/kiosk/procedures?q=khai%20sinh&partial=1").get_data(as_text=True))
    count = re.search(r'<p class="results-count">([^<]+)</p>', found)
    assert count and re.fullmatch(r"1 procedure found|\d+ procedures found", count.group(1)), count
    with app.test_request_context("/?lang=en"):
        assert texts.processing_text(1) == "1 working day"
        assert texts.processing_text(3) == "3 working days"
    with app.test_request_context("/"):
        assert texts.processing_text(1) == "1 ngày làm việc"


def _citizen_sources() -> list[Path]:
    """What a citizen reads: kiosk and phone pages, the hall, the rating tablet, the slip."""
    roots = [ROOT / "kiosk", ROOT / "queue_display", ROOT / "hardware",
             ROOT / "counter" / "templates" / "counter"]
    files = [p for r in roots for p in r.rglob("*") if p.suffix in {".py", ".html", ".js"}]
    files += [ROOT / "counter" / "tablet.py", ROOT / "counter" / "static" / "counter" / "tablet.js",
              ROOT / "onestop" / "lookup_pages.py"]
    files += list((ROOT / "onestop" / "templates").rglob("*.html"))
    clerk_only = {"workstation.html", "book.html", "_intake.html"}
    return [p for p in files if p.exists() and p.name not in clerk_only and "vendor" not in p.parts]


def test_the_citizen_is_quy_cong_dan_and_sunday_is_chu_nhat():
    sources = _citizen_sources()
    assert len(sources) > 20
    you = [f"{p.relative_to(ROOT)}:{n}" for p in sources
           for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
           if re.search(r"(?<![\w])[Bb]ạn(?![\w])", line)]
    assert you == []
    everywhere = [p for d in ("onestop", "kiosk", "counter", "queue_display", "hardware")
                  for p in (ROOT / d).rglob("*") if p.suffix in {".py", ".html", ".js"}
                  and "vendor" not in p.parts]
    sunday = [str(p.relative_to(ROOT)) for p in everywhere if "Chủ Nhật" in p.read_text(encoding="utf-8")]
    assert sunday == []
