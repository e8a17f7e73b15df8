"""What a Vietnamese manager reads in the API answers and in every export: names in
Vietnamese order (Đ after D, not after Y), the same rounding as the page (2.25 -> 2,3),
rating levels best to worst, and a CSV that a Vietnamese-locale spreadsheet opens."""

from __future__ import annotations

import csv
import io
from typing import Any

from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import select

from onestop.extensions import db
from onestop.reports.exports import number
from onestop.textsort import round_half_up, vi_key
from onestop.units.models import Unit
from tests.conftest import bearer, token_for
from tests.reports.locale_data import EXPECTED_ORDER, MONDAY, seed


def seeded(app: Any, client: Any) -> tuple[dict[str, str], str]:
    with app.app_context():
        seed(db.session(), db.session.scalars(select(Unit)).one().id)
        db.session.commit()
    return bearer(token_for(client, "manager")), f"from={MONDAY}&to={MONDAY}"


def test_vi_key_puts_d_stroke_between_d_and_e():
    names = ["Em", "Đinh", "Zô", "Dương", "Đặng", "Dung", "Ánh", "Anh", "Ưu", "Uyên"]
    assert sorted(names, key=vi_key) == ["Anh", "Ánh", "Dung", "Dương", "Đặng", "Đinh", "Em", "Uyên",
                                         "Ưu", "Zô"]


def test_one_rounding_rule():
    values = (2.25, 2.15, 2.35, -2.25, 0.05, 2.2)
    assert [round_half_up(v, 1) for v in values] == [2.3, 2.2, 2.4, -2.3, 0.1, 2.2]
    assert number(2.25, 1) == "2,3" and number(1234.45, 1) == "1.234,5"


def test_names_sort_in_vietnamese_order_in_the_api_and_every_export(app, client):
    manager, period = seeded(app, client)
    rows = client.get(f"/api/v1/reports/breakdown?by=service&{period}", headers=manager).get_json()["rows"]
    assert [r["name"] for r in rows] == EXPECTED_ORDER
    data = client.get(f"/api/v1/reports/data?{period}", headers=manager).get_json()
    assert [r["name"] for r in data["breakdown"]["service"]] == EXPECTED_ORDER

    book = load_workbook(io.BytesIO(client.get(f"/api/v1/reports/export?format=xlsx&{period}",
                                               headers=manager).data))
    sheet = book["Theo lĩnh vực"]
    assert [r[0].value for r in sheet.iter_rows(min_row=5) if r[0].value] == EXPECTED_ORDER

    lines = csv_rows(client, manager, period)
    start = next(i for i, r in enumerate(lines) if r == ["Theo lĩnh vực"]) + 2
    assert [r[0] for r in lines[start:start + len(EXPECTED_ORDER)]] == EXPECTED_ORDER

    text = pdf_text(client, manager, period)
    where = [text.index(name, text.index("Theo lĩnh vực")) for name in EXPECTED_ORDER]
    assert where == sorted(where)


def csv_rows(client: Any, manager: dict[str, str], period: str) -> list[list[str]]:
    res = client.get(f"/api/v1/reports/export?format=csv&{period}", headers=manager)
    assert res.status_code == 200 and res.data.startswith("\ufeff".encode())
    return list(csv.reader(io.StringIO(res.data.decode("utf-8-sig")), delimiter=";"))


def pdf_text(client: Any, manager: dict[str, str], period: str) -> str:
    res = client.get(f"/api/v1/reports/export?format=pdf&{period}", headers=manager)
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(res.data)).pages)


def test_exports_round_as_the_page_does(app, client):
    manager, period = seeded(app, client)
    rows = client.get(f"/api/v1/reports/breakdown?by=service&{period}", headers=manager).get_json()["rows"]
    land = next(r for r in rows if r["name"] == "Đất đai")
    assert land["avg_wait_minutes"] == 2.25  # the API keeps its precision; people read 2,3

    book = load_workbook(io.BytesIO(client.get(f"/api/v1/reports/export?format=xlsx&{period}",
                                               headers=manager).data))
    sheet = book["Theo lĩnh vực"]
    header = [c.value for c in sheet[4]]
    row = next(r for r in sheet.iter_rows(min_row=5) if r[0].value == "Đất đai")
    cell = row[header.index("Chờ TB (phút)")]
    assert cell.value == 2.3 and cell.number_format == "0.0"

    lines = csv_rows(client, manager, period)
    head = next(r for r in lines if r and r[0] == "Lĩnh vực")
    line = next(r for r in lines if r and r[0] == "Đất đai")
    assert line[head.index("Chờ TB (phút)")] == "2,3"

    text = pdf_text(client, manager, period)
    assert "2,3" in text[text.index("Đất đai", text.index("Theo lĩnh vực")):]


def test_a_csv_for_a_vietnamese_spreadsheet(app, client):
    manager, period = seeded(app, client)
    lines = csv_rows(client, manager, period)
    # every table row has as many fields as its header: the ";" split nothing in two
    head = next(r for r in lines if r and r[0] == "Lĩnh vực")
    assert len(head) == 10 and all(len(r) == 10 for r in lines if r and r[0] in EXPECTED_ORDER)
    summary_head = next(r for r in lines if r and r[0] == "Toàn đơn vị")
    share = lines[lines.index(summary_head) + 1][summary_head.index("Tỷ lệ chờ đạt chuẩn")]
    assert share == "100,0 %"


def test_rating_levels_best_to_worst_with_not_rated_last(app, client):
    manager, period = seeded(app, client)
    data = client.get(f"/api/v1/reports/data?{period}", headers=manager).get_json()
    assert list(data["ratings"]["by_level"]) == ["very_satisfied", "satisfied", "dissatisfied", "not_rated"]
    assert data["level_order"][-1] == "not_rated" and data["level_order"][0] == "very_satisfied"
    summary = client.get(f"/api/v1/reports/summary?{period}", headers=manager).get_json()
    assert list(summary["ratings"]["by_level"]) == ["very_satisfied", "satisfied", "dissatisfied",
                                                    "not_rated"]
    book = load_workbook(io.BytesIO(client.get(f"/api/v1/reports/export?format=xlsx&{period}",
                                               headers=manager).data))
    sheet = book["Đánh giá mức độ hài lòng"]
    assert [r[0].value for r in sheet.iter_rows(min_row=5)] == [
        "Rất hài lòng", "Hài lòng", "Không hài lòng", "Không đánh giá", "Tỷ lệ hài lòng"]
