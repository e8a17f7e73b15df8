"""The clerk workstation in Debian's Chromium against a real server: sign in, open a
counter, see a ticket arrive live, call it (button and keyboard), receive a dossier, fetch
its receipt, finish."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.counter.conftest import pdf_text
from tests.livesrv import demo_server

NAME = "Nguyễn Thị Ánh Tuyết"
LIVE_MS = 5000  # well under the page's 30 s safety resync: only the socket can be this quick

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, browser: Any) -> Iterator[str]:
    with demo_server(tmp_path_factory.mktemp("counter")) as base:
        yield base


def _token(base: str, username: str) -> dict[str, str]:
    res = requests.post(f"{base}/api/v1/auth/token", json={"username": username, "password": "demo"},
                        timeout=5)
    return {"Authorization": f"Bearer {res.json()['token']}"}


def _issue(base: str, headers: dict[str, str]) -> dict[str, Any]:
    res = requests.post(f"{base}/api/v1/tickets", json={"service_id": 1}, headers=headers, timeout=5)
    assert res.status_code == 201, res.text
    return dict(res.json())


def _sign_in(page: Any, base: str, username: str) -> None:
    page.goto(f"{base}/counter/")
    assert "/login" in page.url  # anonymous: sent to sign in first
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "demo")
    page.click("button[type=submit]")
    page.wait_for_selector("#picker:not([hidden]) .pick-card")


def _label_is(page: Any, label: str) -> None:
    page.wait_for_function(f"() => document.getElementById('current-label').textContent === {label!r}",
                           timeout=LIVE_MS)
    page.wait_for_selector("#actions [data-act='recall']:not([disabled])")  # the action is over


def test_clerk_calls_receives_a_dossier_and_finishes(server: str, browser: Any, tmp_path: Path) -> None:
    base = server
    outside: list[str] = []
    problems: list[str] = []
    context = browser.new_context(viewport={"width": 1366, "height": 768})
    page = context.new_page()
    page.on("request", lambda r: outside.append(r.url) if not r.url.startswith(base) else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    _sign_in(page, base, "clerk1")
    page.click(".pick-card[data-counter-id='1']")
    page.wait_for_selector("#desk:not([hidden])")
    page.wait_for_selector("#link-state[data-connected='1']", timeout=LIVE_MS)

    clerk = _token(base, "clerk1")
    first = _issue(base, clerk)
    page.wait_for_selector(f"#waiting .chip:text-is('{first['label']}')", timeout=LIVE_MS)
    second = _issue(base, clerk)
    page.wait_for_selector(f"#waiting .chip:text-is('{second['label']}')", timeout=LIVE_MS)

    page.get_by_role("button", name=re.compile("^Gọi tiếp")).click()
    _label_is(page, first["label"])
    page.keyboard.press("n")  # the shortcut shown on the button: the first is finished, next called
    _label_is(page, second["label"])
    assert "Tư pháp – Hộ tịch" in page.inner_text("#current-service")

    page.keyboard.press("t")
    page.wait_for_selector("#intake:not([hidden])")
    page.fill("#proc-q", "dang ky khai sinh")  # no diacritics typed
    page.click(".proc-item[data-code='1.001193']")
    page.click("tr.doc >> nth=0 >> input[type=checkbox]")
    page.fill("input[name=name]", NAME)
    page.fill("input[name=id_number]", "0012030")  # too short: refused on the page
    page.fill("input[name=phone]", "0912 345 678")
    page.click("#intake-submit")
    page.wait_for_selector("#err-id_number:not([hidden])")
    page.fill("input[name=id_number]", "001203004005")
    page.click("#intake-submit")
    page.wait_for_selector("#intake-done:not([hidden])", timeout=LIVE_MS)
    code = page.inner_text("#done-code")
    assert re.fullmatch(r"H56\.12\.3-\d{6}-\d{4}", code), code
    assert re.fullmatch(r"\d{2}/\d{2}/\d{4} \d{2}:\d{2}", page.inner_text("#done-appointment"))
    page.screenshot(path=str(tmp_path / "intake-done.png"))

    href = page.get_attribute("#receipt-link", "href")
    assert href == f"/api/v1/dossiers/{code}/receipt.pdf"
    pdf = page.request.get(base + href)  # with the page's session cookie
    assert pdf.ok and pdf.headers["content-type"] == "application/pdf"
    text = pdf_text(pdf.body())
    assert code in text and NAME in text

    page.click("#done-finish")
    page.wait_for_selector("#current.is-empty", timeout=LIVE_MS)
    ticket = requests.get(f"{base}/api/v1/tickets/{second['id']}", timeout=5).json()
    assert ticket["state"] == "done"
    assert page.inner_text("#today-served") == "2"

    # another clerk cannot take counter 1
    other = browser.new_context(viewport={"width": 1920, "height": 1080}).new_page()
    _sign_in(other, base, "clerk2")
    other.click(".pick-card[data-counter-id='1']")
    other.wait_for_selector(".pick-card[data-counter-id='1'] .pick-error:text('Quầy đang có cán bộ khác')")
    other.context.close()
    context.close()
    assert outside == [], f"requests left the server: {outside}"
    assert problems == []


CARD = ("001303004005|012345678|Nguyễn Thị Ánh Tuyết|01022003|Nữ|"
        "Số 2, đường Lê Lợi, Phường Hoàn Kiếm, Hà Nội|15082021")


def test_a_scanned_id_card_fills_the_applicant_and_a_bad_read_nothing(server: str, browser: Any) -> None:
    """The USB scanner types the CCCD's QR into whatever field has the focus, then Enter:
    the page asks the server, fills name, ID number and address, submits nothing and leaves
    the focused field as it was; a truncated read is refused with its reason."""
    base = server
    problems: list[str] = []
    context = browser.new_context(viewport={"width": 1366, "height": 768})
    page = context.new_page()
    page.on("pageerror", lambda e: problems.append(str(e)))
    _sign_in(page, base, "clerk3")
    page.click(".pick-card[data-counter-id='3']")
    page.wait_for_selector("#desk:not([hidden])")
    page.click("#actions [data-act='intake']:not([disabled])")
    page.wait_for_selector("#intake:not([hidden])")
    page.wait_for_function("document.activeElement.id === 'proc-q'")

    def scan(text: str) -> None:  # as tests/kiosk/test_lookup_screen.py: fast keys, then Enter
        page.keyboard.type(text, delay=5)
        page.keyboard.press("Enter")

    scan(CARD.rsplit("|", 1)[0])  # the read stopped before the issue date
    page.wait_for_selector("#cccd-msg.is-bad")
    assert "bị thiếu" in page.inner_text("#cccd-msg")
    for field in ("name", "id_number", "address"):
        assert page.input_value(f"input[name={field}]") == ""
    assert page.input_value("#proc-q") == ""  # nothing of the scan stayed where it was typed

    page.click("input[name=phone]")
    page.fill("input[name=phone]", "0912 345 678")
    scan(CARD)
    page.wait_for_selector("#cccd-msg.is-ok")
    assert page.input_value("input[name=name]") == "Nguyễn Thị Ánh Tuyết"
    assert page.input_value("input[name=id_number]") == "001303004005"
    assert page.input_value("input[name=address]") == "Số 2, đường Lê Lợi, Phường Hoàn Kiếm, Hà Nội"
    assert page.input_value("input[name=phone]") == "0912 345 678"  # the field typed into, as it was
    assert page.is_hidden("#err-form") and page.is_hidden("#intake-done")  # the Enter submitted nothing
    context.close()
    assert problems == []
