"""The forms' QR as Thông tư 01/2023/TT-VPCP, Điều 26 wants it (docs/qr-codes.md).

Read back from the rendered page with zxing-cpp: in the top-left corner of the first page of
each of BM.01-BM.04, about 26 mm of symbol with its quiet zone; the text is the lookup URL (a
phone opens it, the kiosk's scanner path parses it) followed by the data the circular lists;
and from a real receipt, the decoded URL opens the dossier's lookup page."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from onestop.dossiers import forms
from onestop.dossiers.forms import DossierInfo, UnitInfo, render_bm01, render_bm02, render_bm03, render_bm04
from onestop.dossiers.lookup import parse_scanned
from tests.conftest import bearer, token_for
from tests.forms.conftest import CODE, LOOKUP, TZ, page_count, rasterise

AT = dt.datetime(2026, 11, 24, 3, 0, tzinfo=dt.UTC)  # 10:00 in Hà Nội
NEW_APPOINTMENT = dt.datetime(2026, 11, 30, 8, 0, tzinfo=TZ)
SCALE = 3.0
MM_PER_PX = 25.4 / (72 * SCALE)
KIOSK_LOOKUP_URL = re.compile(  # the kiosk's scan pattern (kiosk/static/kiosk/lookup.js)
    r"^https?://[^\s/?#]+(?:/[^\s?#]*)?/lookup/([^\s/?#]+)/?(?:\?([^\s#]*))?(?:#\S*)?$", re.I)


def _forms(unit: UnitInfo, dossier: DossierInfo) -> dict[str, bytes]:
    return {
        "BM.01": render_bm01(unit, dossier),
        "BM.02": render_bm02(unit, dossier, ["Giấy chứng sinh"], "Thiếu giấy tờ", "Lê Thị Hoa", AT),
        "BM.03": render_bm03(unit, dossier, "Không thuộc thẩm quyền", "Lê Thị Hoa", AT),
        "BM.04": render_bm04(unit, dossier, "Cần xác minh thêm", NEW_APPOINTMENT, AT),
    }


def _read(data: bytes, page: int = 0) -> list[Any]:
    import zxingcpp

    return list(zxingcpp.read_barcodes(rasterise(data, page=page, scale=SCALE).convert("L")))


@pytest.mark.parametrize("form", ["BM.01", "BM.02", "BM.03", "BM.04"])
def test_the_qr_sits_in_the_top_left_corner_at_its_size_and_carries_the_circulars_data(
        unit: UnitInfo, dossier: DossierInfo, form: str) -> None:
    dossier = dataclasses.replace(dossier, procedure_code="1.001193")
    data = _forms(unit, dossier)[form]
    found = _read(data)
    assert len(found) == 1
    corners = found[0].position
    xs = [p.x * MM_PER_PX for p in (corners.top_left, corners.top_right, corners.bottom_left)]
    ys = [p.y * MM_PER_PX for p in (corners.top_left, corners.top_right, corners.bottom_left)]
    left, top, side = min(xs), min(ys), max(xs) - min(xs)
    # top-left corner of the printable area (margins 25 mm left, 15 mm top), quiet zone inside
    assert 25.0 < left < 28.0 and 15.0 < top < 18.0, (left, top)
    assert 24.0 <= side <= forms.QR_MM and abs((max(ys) - min(ys)) - side) < 0.5, side
    assert left + side < 210 / 3 and top + side < 297 / 4  # the corner, not the middle

    text = found[0].text
    assert len(text) <= forms.QR_MAX_TEXT and text.isascii() and " " not in text
    url, _, fragment = text.partition("#")
    assert url == LOOKUP  # a phone opens the public lookup page
    data_ = {key: values[0] for key, values in parse_qs(fragment, strict_parsing=True).items()}
    expected = {"doc": forms.QR_FORM_NAMES[form], "proc": "1.001193", "id_number": "001190012345",
                "system": "onestop",
                "issued": "20261123T0905+0700" if form == "BM.01" else "20261124T1000+0700"}
    if form == "BM.01":
        expected["due"] = "20261126T0900+0700"  # the appointment (ngày hẹn trả kết quả)
    if form == "BM.04":
        expected["due"] = "20261130T0800+0700"  # the new appointment
    assert data_ == expected
    # the kiosk's scanner path reads the same code and token from it
    assert parse_scanned(text) == (CODE, "Zx81kQ2mAb")
    match = KIOSK_LOOKUP_URL.match(text)
    assert match and match.group(1) == CODE and parse_qs(match.group(2)) == {"k": ["Zx81kQ2mAb"]}


def test_the_qr_is_on_the_first_page_only(unit: UnitInfo, dossier: DossierInfo) -> None:
    documents = [(f"Giấy tờ số {i}", 1) for i in range(1, 41)]
    data = render_bm01(unit, dataclasses.replace(dossier, documents=documents))
    assert page_count(data) >= 2
    assert len(_read(data, page=0)) == 1 and _read(data, page=1) == []


def test_a_long_address_and_code_keep_the_text_readable_by_the_kiosk(dossier: DossierInfo) -> None:
    long_url = "https://motcua.trungtamphucvuhanhchinhcong.tinh.example.gov.vn/dich-vu-cong/tra-cuu-ho-so"
    code = "000.00.06.H56.12.3.4-261123-000042"
    dossier = dataclasses.replace(dossier, code=code, procedure_code="2.000986.000.00.00.H56",
                                  lookup_url=f"{long_url}/lookup/{code}?k=zx81kq2mabcd")
    text = forms.qr_text("BM.01", dossier, AT, "Asia/Ho_Chi_Minh", NEW_APPOINTMENT)
    assert len(text) <= forms.QR_MAX_TEXT
    assert "doc=BM.01&" in text  # the form's name shrank to its code to stay under the limit
    assert parse_scanned(text) == (code, "zx81kq2mabcd")
    huge = dataclasses.replace(dossier, lookup_url=f"{long_url}/{'x' * 200}/lookup/{code}?k=a")
    assert forms.qr_text("BM.01", huge, AT, "Asia/Ho_Chi_Minh") == huge.lookup_url  # the URL alone


def test_a_real_receipts_qr_opens_the_dossiers_lookup_page(client: Any) -> None:
    from tests.counter.conftest import receive

    clerk = token_for(client, "clerk1")
    dossier = receive(client, clerk)
    pdf = client.get(dossier["receipt_url"], headers=bearer(clerk))
    assert pdf.status_code == 200
    found = _read(pdf.data)
    assert len(found) == 1
    text = found[0].text
    assert text.startswith(dossier["lookup_url"] + "#")
    fields = parse_qs(text.partition("#")[2])
    assert fields["proc"] == ["1.001193"] and fields["id_number"] == ["001203004005"]
    parts = urlsplit(text)
    page = client.get(f"{parts.path}?{parts.query}")  # what the phone asks for: no fragment
    assert page.status_code == 200
    assert dossier["code"] in page.get_data(as_text=True)
