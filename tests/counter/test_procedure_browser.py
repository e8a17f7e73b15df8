"""In Debian's Chromium: a citizen picks a procedure at the kiosk; the clerk who calls the
ticket sees that procedure on the card and finds it already chosen in the dossier intake,
where the ID and phone numbers are checked as the server checks them and each document
says how it was handed in (BM.01's "Hình thức")."""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.counter.conftest import pdf_text
from tests.counter.test_browser import _label_is, _sign_in
from tests.livesrv import ONESTOP, demo_server

pytestmark = pytest.mark.browser
LIVE_MS = 5000


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, browser: Any) -> Iterator[tuple[str, Path]]:
    data_dir = tmp_path_factory.mktemp("counter-procedure")
    with demo_server(data_dir) as base:
        yield base, data_dir


def _kiosk_token(data_dir: Path) -> str:
    env = {**os.environ, "ONESTOP_DATA_DIR": str(data_dir)}
    env.pop("ONESTOP_DATABASE_URL", None)
    out = subprocess.run([ONESTOP, "device", "add", "--kind", "kiosk", "--name", "K", "--json"],
                         env=env, capture_output=True, text=True, check=True)
    return str(json.loads(out.stdout)["token"])


def test_procedure_from_kiosk_to_clerk_card_and_intake(server: tuple[str, Path], browser: Any) -> None:
    base, data_dir = server
    problems: list[str] = []
    kiosk = browser.new_context(viewport={"width": 1080, "height": 1920})
    kiosk.add_cookies([{"name": "onestop_device", "value": _kiosk_token(data_dir), "url": base}])
    page = kiosk.new_page()
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.goto(f"{base}/kiosk/field/1")
    page.get_by_role("radio", name="Đăng ký khai sinh").click()
    page.click("#go")
    page.wait_for_function("() => document.getElementById('t-number').textContent.length > 0")
    label = page.inner_text("#t-number").strip()
    kiosk.close()

    desk = browser.new_context(viewport={"width": 1366, "height": 768})
    clerk = desk.new_page()
    clerk.on("pageerror", lambda e: problems.append(str(e)))
    _sign_in(clerk, base, "clerk1")
    clerk.click(".pick-card[data-counter-id='1']")
    clerk.wait_for_selector("#desk:not([hidden])")
    clerk.get_by_role("button", name=re.compile("^Gọi tiếp")).click()
    _label_is(clerk, label)
    clerk.wait_for_selector("#current-procedure:not([hidden])")
    assert clerk.inner_text("#current-procedure-name") == "Đăng ký khai sinh"

    clerk.keyboard.press("t")
    clerk.wait_for_selector("#intake:not([hidden])")
    clerk.wait_for_selector("#proc-chosen:not([hidden])", timeout=LIVE_MS)
    assert clerk.inner_text("#proc-name") == "Đăng ký khai sinh"
    assert "1.001193" in clerk.inner_text("#proc-meta")
    names = clerk.locator("#docs tr.doc .doc-name").all_inner_texts()
    assert "Giấy chứng sinh" in names

    # item 14 on the page: how each document came (BM.01's "Hình thức"), the ID number and
    # the mobile number checked by the server's own patterns before anything is sent
    birth = clerk.locator("#docs tr.doc", has_text="Giấy chứng sinh")
    birth.locator("select.doc-form").select_option("ban_sao")
    assert birth.locator("input[type=checkbox]").is_checked()
    clerk.fill("input[name=name]", "Nguyễn Văn Đức")
    posts: list[str] = []
    clerk.on("request",
             lambda r: posts.append(r.url) if r.method == "POST" and "/dossiers" in r.url else None)
    for id_number, phone in (("12345678901", "0212 345 678"), ("0012030040", "091234567")):
        clerk.fill("input[name=id_number]", id_number)
        clerk.fill("input[name=phone]", phone)
        clerk.click("#intake-submit")
        clerk.wait_for_selector("#err-id_number:not([hidden])")
        assert "12 chữ số" in clerk.inner_text("#err-id_number")
        assert "Số điện thoại di động" in clerk.inner_text("#err-phone")
    assert posts == []  # refused on the page, as the server would
    clerk.fill("input[name=id_number]", "123456789")  # an old CMND
    clerk.fill("input[name=phone]", "+84 38 765 4321")
    clerk.click("#intake-submit")
    clerk.wait_for_selector("#intake-done:not([hidden])", timeout=LIVE_MS)
    code = clerk.inner_text("#done-code")
    dossier = clerk.request.get(f"{base}/api/v1/dossiers/{code}").json()
    assert dossier["applicant"]["phone"] == "0387654321"
    forms = {d["name"]: d["form"] for d in dossier["documents"]}
    assert forms["Giấy chứng sinh"] == "ban_sao"
    pdf = clerk.request.get(base + (clerk.get_attribute("#receipt-link", "href") or ""))
    assert "Giấy chứng sinh Bản sao" in pdf_text(pdf.body())
    desk.close()
    assert problems == []
