"""The dossier desk in Debian's Chromium against a real server: a clerk finds a dossier by
the applicant's name typed without diacritics and takes it from received to returned by
clicking, with a supplement (BM.02, then a new BM.01) and an apology (BM.04) on the way, each
form read back; then the tracking book at 1366 px wide with no cell cut."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from tests.counter.conftest import pdf_text
from tests.livesrv import demo_server

pytestmark = pytest.mark.browser

NAME = "Nguyễn Thị Ánh Tuyết"
SAME_DAY = "1.001193"  # due the day of receipt: an apology is always due
WAIT_MS = 15000  # two shared cores


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, browser: Any) -> Iterator[str]:
    with demo_server(tmp_path_factory.mktemp("desk")) as base:
        yield base


def _receive(base: str) -> str:
    token = requests.post(f"{base}/api/v1/auth/token", json={"username": "clerk1", "password": "demo"},
                          timeout=10).json()["token"]
    body = {"procedure_code": SAME_DAY,
            "applicant": {"name": NAME, "id_number": "001203004005", "phone": "0912345678"},
            "documents": [{"name": "Tờ khai đăng ký khai sinh", "count": 1}]}
    res = requests.post(f"{base}/api/v1/dossiers", json=body, headers={"Authorization": f"Bearer {token}"},
                        timeout=10)
    assert res.status_code == 201, res.text
    return str(res.json()["code"])


def _done(page: Any, text: str) -> None:
    page.wait_for_selector("#dd-done", timeout=WAIT_MS)
    assert text in page.inner_text("#dd-done")


def _form(page: Any, base: str, form_id: str) -> str:
    """The text of one of the dossier's PDFs (the one the last action asks to print stands
    out), fetched with the page's session."""
    link = page.locator(f"#dd-forms a[data-form='{form_id}']")
    assert "btn-go" in (link.get_attribute("class") or "")
    res = page.request.get(base + link.get_attribute("href"))
    assert res.status == 200 and res.headers["content-type"] == "application/pdf"
    return pdf_text(res.body())


def _open(page: Any, summary: str) -> None:
    page.locator("summary", has_text=summary).click()


def _due_date(page: Any) -> str:
    """The appointment in force as the page shows it: '07/12/2026'."""
    found = re.search(r"\d{2}/\d{2}/\d{4}", page.inner_text("#dossier-due strong"))
    assert found
    return found.group(0)


def _spelled(date: str) -> str:
    """'07/12/2026' as BM.01 prints it: 'ngày 07 tháng 12 năm 2026'."""
    day, month, year = date.split("/")
    return f"ngày {day} tháng {month} năm {year}"


def test_a_dossier_from_received_to_returned_by_clicking(server: str, browser: Any) -> None:
    base = server
    code = _receive(base)
    problems: list[str] = []
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="vi-VN")
    page = context.new_page()
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.goto(f"{base}/counter/dossiers")
    assert "/login" in page.url
    page.fill("input[name=username]", "clerk1")
    page.fill("input[name=password]", "demo")
    page.click("button[type=submit]")
    page.wait_for_selector("#dd-search", timeout=WAIT_MS)

    page.fill("input[name=q]", "nguyen thi anh tuyet")
    page.get_by_role("button", name="Tìm").click()
    page.wait_for_selector("#dd-results", timeout=WAIT_MS)
    page.get_by_role("link", name=code).click()
    page.wait_for_selector("#dossier-code", timeout=WAIT_MS)
    assert page.inner_text("#dossier-state") == "Đã tiếp nhận"

    page.get_by_role("button", name="Bắt đầu giải quyết").click()
    _done(page, "Đang giải quyết")
    assert page.inner_text("#dossier-state") == "Đang giải quyết"

    _open(page, "Yêu cầu bổ sung hồ sơ (BM.02)")
    page.fill("textarea[name=items]", "Bản sao giấy chứng nhận kết hôn\nGiấy xác nhận cư trú")
    page.fill("form[data-action=supplement] input[name=reason]", "Thiếu giấy tờ chứng minh quan hệ")
    page.get_by_role("button", name="Yêu cầu bổ sung", exact=True).click()
    _done(page, "BM.02")
    text = _form(page, base, "supplement")
    assert "Bản sao giấy chứng nhận kết hôn" in text and "Giấy xác nhận cư trú" in text
    assert "Thiếu giấy tờ chứng minh quan hệ" in text and code in text

    page.get_by_role("button", name="Đã nhận hồ sơ bổ sung").click()
    _done(page, "BM.01")
    assert _spelled(_due_date(page)) in _form(page, base, "receipt")  # the new appointment, printed
    assert page.locator("#dd-timeline li", has_text="Nhận hồ sơ bổ sung").count() == 1

    _open(page, "Xin lỗi và hẹn lại ngày trả kết quả (BM.04)")
    before = _due_date(page)
    page.fill("input[name=working_days]", "2")
    page.fill("form[data-action=apologise] input[name=reason]", "Chờ xác minh của cơ quan khác")
    page.get_by_role("button", name="Lập phiếu xin lỗi").click()
    _done(page, "BM.04")
    after = _due_date(page)
    assert after != before
    text = _form(page, base, "apology")
    assert f"17:00 ngày {after}" in text and "Chờ xác minh của cơ quan khác" in text

    _open(page, "Đã có kết quả")
    page.fill("input[name=place]", "Quầy số 3, Bộ phận Một cửa")
    page.get_by_role("button", name="Ghi nhận có kết quả").click()
    _done(page, "có kết quả")
    assert page.inner_text("#dossier-state") == "Đã có kết quả"

    page.get_by_label("Người khác nhận thay").check()
    page.fill("input[name=name]", "Lê Văn Cường")
    page.fill("input[name=id_number]", "001090012345")
    page.fill("input[name=authorisation]", "Chồng, giấy ủy quyền số 12/UQ")
    page.get_by_role("button", name="Xác nhận trả kết quả").click()
    _done(page, "Đã trả kết quả")
    assert page.inner_text("#dossier-state") == "Đã trả kết quả"
    timeline = page.inner_text("#dd-timeline")
    assert "Lê Văn Cường, CCCD 001090012345 — Chồng, giấy ủy quyền số 12/UQ" in timeline
    assert "Nơi nhận kết quả: Quầy số 3, Bộ phận Một cửa" in timeline
    assert page.locator("#dd-actions form").count() == 0

    # the tracking book at 1366 px: no cell cut, no column pushed out of sight
    page.goto(f"{base}/counter/book?service_id=1")
    page.wait_for_selector("table.book", timeout=WAIT_MS)
    cut = page.evaluate("""() => [...document.querySelectorAll('table.book th, table.book td')]
        .filter(c => c.scrollWidth > c.clientWidth + 1).map(c => c.textContent.trim())""")
    assert cut == []
    wrap = page.evaluate("() => { const w = document.querySelector('.book-wrap');"
                         " return [w.scrollWidth, w.clientWidth]; }")
    assert wrap[0] <= wrap[1], f"the book is wider than the page at 1366 px: {wrap}"
    assert code in page.inner_text("table.book")
    assert problems == []
    context.close()
