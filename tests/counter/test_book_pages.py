"""The tracking book page in pages of 50 lines, and the book and forms built in worker
processes (onestop/offload.py) with the same content as inline."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from typing import Any

import pytest
from openpyxl import load_workbook

from onestop import offload
from tests.conftest import bearer
from tests.counter.conftest import pdf_text, receive, sign_in


@pytest.fixture(autouse=True)
def _fresh_pool() -> Iterator[None]:
    yield
    offload.shutdown()


def _lines(page: str) -> list[int]:
    """The book's line numbers shown in the table, in order."""
    body = page.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return [int(n) for n in re.findall(r'<td class="num">(\d+)</td>', body)]


def test_the_book_page_shows_50_lines_a_page_and_keeps_its_filters(client, clerk, frozen):
    codes = [receive(client, clerk, name=f"Nguyễn Văn {i}")["code"] for i in range(1, 56)]
    sign_in(client, "clerk2")
    first = client.get("/counter/book?service_id=1&year=2026").get_data(as_text=True)
    assert _lines(first) == list(range(1, 51))
    assert "55 hồ sơ" in first  # the whole book, not the page
    assert "Dòng 1–50 trong 55 · trang 1/2" in first
    assert 'href="/counter/book?page=2&amp;service_id=1&amp;year=2026"' in first  # filters kept
    assert "Trang sau ›" in first and "‹ Trang trước" not in first
    second = client.get("/counter/book?page=2&service_id=1&year=2026").get_data(as_text=True)
    assert _lines(second) == [51, 52, 53, 54, 55]
    assert codes[-1] in second and codes[0] not in second
    assert "Dòng 51–55 trong 55 · trang 2/2" in second and "‹ Trang trước" in second
    assert "Trang sau ›" not in second
    assert _lines(client.get("/counter/book?page=99&service_id=1&year=2026").get_data(as_text=True)) == \
        [51, 52, 53, 54, 55]  # past the end: the last page
    every = client.get("/counter/book?page=2&service_id=&year=2026").get_data(as_text=True)
    assert 'href="/counter/book?page=1&amp;service_id=&amp;year=2026"' in every  # "all fields" kept
    english = client.get("/counter/book?service_id=1&year=2026&lang=en").get_data(as_text=True)
    assert "Lines 1–50 of 55 · page 1/2" in english and "Next page ›" in english


def test_a_short_book_has_no_paging(client, clerk, frozen):
    receive(client, clerk)
    sign_in(client, "clerk2")
    page = client.get("/counter/book?service_id=1&year=2026").get_data(as_text=True)
    assert _lines(page) == [1] and 'id="book-pages"' not in page


def _book(res: Any) -> list[tuple[Any, ...]]:
    assert res.status_code == 200, res.get_data(as_text=True)[:300]
    sheet = load_workbook(io.BytesIO(res.data)).active
    assert sheet is not None
    return [tuple(row) for row in sheet.iter_rows(values_only=True)]


def test_the_book_xlsx_and_the_forms_from_worker_processes(app, client, clerk, frozen):
    dossier = receive(client, clerk)
    receive(client, clerk, name="Lê Văn Bình")
    url = "/api/v1/dossiers/book.xlsx?service_id=1&year=2026"
    inline = _book(client.get(url, headers=bearer(clerk)))
    app.config.update(OFFLOAD_MODE="pool")
    pooled = _book(client.get(url, headers=bearer(clerk)))
    assert pooled == inline and len(pooled) == 6
    assert _book(client.get(url + "&lang=en", headers=bearer(clerk)))[3][0] == "Book no."
    receipt = client.get(f"/api/v1/dossiers/{dossier['code']}/receipt.pdf", headers=bearer(clerk))
    assert receipt.status_code == 200 and receipt.mimetype == "application/pdf"
    assert dossier["code"] in pdf_text(receipt.data)
    assert "GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ" in pdf_text(receipt.data)
