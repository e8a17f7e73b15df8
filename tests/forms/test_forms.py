"""The legal forms BM.01 ... BM.04 as A4 PDFs: Vietnamese text, layout, QR, hostile input."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import re
from typing import Any

import pytest
from pypdf import PdfReader

from onestop.dossiers import forms
from onestop.dossiers.fonts import REQUIRED, find_pdf_fonts, missing
from onestop.dossiers.forms import (
    DossierInfo,
    UnitInfo,
    clean,
    render_bm01,
    render_bm02,
    render_bm03,
    render_bm04,
)
from tests.forms.conftest import CODE, LOOKUP, NAME, RECEIVED, TZ, page_count, pdf_text, rasterise

AT = dt.datetime(2026, 11, 24, 3, 0, tzinfo=dt.UTC)  # 10:00 local
NEW_APPOINTMENT = dt.datetime(2026, 11, 30, 8, 0, tzinfo=TZ)
A4_POINTS = (595.28, 841.89)


def _render_all(unit: UnitInfo, dossier: DossierInfo) -> dict[str, bytes]:
    return {
        "BM.01": render_bm01(unit, dossier),
        "BM.02": render_bm02(unit, dossier, ["Bản sao Giấy chứng nhận kết hôn"], "Thiếu giấy tờ",
                             "Trần Văn Bình", AT),
        "BM.03": render_bm03(unit, dossier, "Không thuộc thẩm quyền", "Trần Văn Bình", AT),
        "BM.04": render_bm04(unit, dossier, "Cần xác minh thêm", NEW_APPOINTMENT, AT),
    }


def test_bm01_is_a4_with_embedded_unicode_font(unit: UnitInfo, dossier: DossierInfo) -> None:
    data = render_bm01(unit, dossier)
    assert data.startswith(b"%PDF-")
    page = PdfReader(io.BytesIO(data)).pages[0]
    assert tuple(round(float(v), 2) for v in page.mediabox[2:]) == A4_POINTS
    fonts: Any = page["/Resources"]["/Font"]  # type: ignore[index]
    assert fonts
    for ref in fonts.values():
        font = ref.get_object()
        assert font["/Subtype"] == "/Type0"  # composite font: any Unicode character
        descriptor = font["/DescendantFonts"][0].get_object()["/FontDescriptor"].get_object()
        assert "/FontFile2" in descriptor  # the TrueType program is embedded, not referenced


def test_bm01_text_has_code_name_and_the_legal_wording(unit: UnitInfo, dossier: DossierInfo) -> None:
    text = pdf_text(render_bm01(unit, dossier))
    for expected in (
        CODE, NAME, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc",
        "ỦY BAN NHÂN DÂN XÃ HÒA BÌNH", "Hòa Bình, ngày 23 tháng 11 năm 2026", "Số: 125",
        "GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ", f"Mã hồ sơ: {CODE}",
        "Trung tâm Phục vụ hành chính công xã Hòa Bình tiếp nhận hồ sơ của: Ông/Bà",
        "001190012345", "Thôn Đồng Tâm, xã Hòa Bình, tỉnh Phú Thọ", "0912 345 678", "anhtuyet@example.vn",
        "Nội dung yêu cầu giải quyết: Đăng ký khai sinh", "Tờ khai đăng ký khai sinh (theo mẫu)",
        "Số lượng hồ sơ: 01 (bộ)", "Thời gian giải quyết hồ sơ theo quy định là: 3 ngày làm việc",
        # received 02:05 UTC -> 09:05 in Hà Nội
        "Thời gian nhận hồ sơ: 09 giờ 05 phút, ngày 23 tháng 11 năm 2026",
        "Thời gian trả kết quả giải quyết hồ sơ: 09 giờ 00 phút, ngày 26 tháng 11 năm 2026",
        "Đăng ký nhận kết quả tại: Quầy số 3", "Vào Sổ theo dõi hồ sơ, Quyển số: 03, Số thứ tự: 125",
        "NGƯỜI NỘP HỒ SƠ", "NGƯỜI TIẾP NHẬN HỒ SƠ", "(Ký và ghi rõ họ tên)", "Trần Văn Bình",
        "Quét mã để tra cứu tình trạng hồ sơ",
    ):
        assert expected in text, expected


def test_bm01_qr_reads_back_as_the_lookup_url(unit: UnitInfo, dossier: DossierInfo) -> None:
    import zxingcpp

    image = rasterise(render_bm01(unit, dossier)).convert("L")
    found = [code.text for code in zxingcpp.read_barcodes(image)]
    assert len(found) == 1 and found[0].startswith(LOOKUP + "#")  # TT 01/2023 data after '#'


def test_forms_without_lookup_url_have_no_qr(unit: UnitInfo, dossier: DossierInfo) -> None:
    import zxingcpp

    data = render_bm01(unit, dataclasses.replace(dossier, lookup_url=""))
    assert zxingcpp.read_barcodes(rasterise(data, scale=2).convert("L")) == []
    assert "Quét mã" not in pdf_text(data)


def test_bm02_bm03_bm04_titles_and_key_fields(unit: UnitInfo, dossier: DossierInfo) -> None:
    bm02 = pdf_text(render_bm02(unit, dossier, ["Bản sao Giấy chứng nhận kết hôn của cha, mẹ",
                                                "Giấy chứng sinh bản chính"],
                                "Hồ sơ thiếu giấy tờ chứng minh quan hệ cha, mẹ, con.", "Lê Thị Hoa", AT))
    for expected in ("PHIẾU YÊU CẦU BỔ SUNG, HOÀN THIỆN HỒ SƠ", CODE, NAME, "Đăng ký khai sinh",
                     "1. Bản sao Giấy chứng nhận kết hôn của cha, mẹ", "2. Giấy chứng sinh bản chính",
                     "Lý do: Hồ sơ thiếu giấy tờ chứng minh quan hệ cha, mẹ, con.", "NGƯỜI HƯỚNG DẪN",
                     "Lê Thị Hoa", "Ngày 23/11/2026", "Hòa Bình, ngày 24 tháng 11 năm 2026", "0210 3812 345"):
        assert expected in bm02, expected

    bm03 = pdf_text(render_bm03(unit, dossier, "Thủ tục không thuộc thẩm quyền giải quyết của xã.",
                                "Lê Thị Hoa", AT, legal_basis="Nghị định 118/2025/NĐ-CP"))
    for expected in ("PHIẾU TỪ CHỐI TIẾP NHẬN GIẢI QUYẾT HỒ SƠ", CODE, NAME, "Đăng ký khai sinh",
                     "Căn cứ Nghị định 118/2025/NĐ-CP",
                     "từ chối tiếp nhận, giải quyết hồ sơ này vì lý do sau:",
                     "Thủ tục không thuộc thẩm quyền giải quyết của xã.", "NGƯỜI TIẾP NHẬN HỒ SƠ",
                     "Lê Thị Hoa"):
        assert expected in bm03, expected

    bm04 = pdf_text(render_bm04(unit, dossier, "Cần xác minh thêm thông tin nơi cư trú.", NEW_APPOINTMENT,
                                AT, signer_name="Phạm Minh Đức"))
    for expected in ("PHIẾU XIN LỖI VÀ HẸN LẠI NGÀY TRẢ KẾT QUẢ", CODE, NAME, "Đăng ký khai sinh",
                     "Cần xác minh thêm thông tin nơi cư trú.", "09:00 ngày 26/11/2026",
                     "xin lỗi Ông/Bà", "08:00 ngày 30/11/2026", "THỦ TRƯỞNG CƠ QUAN, ĐƠN VỊ",
                     "Phạm Minh Đức"):
        assert expected in bm04, expected


@pytest.mark.parametrize("form", ["BM.01", "BM.02", "BM.03", "BM.04"])
def test_every_form_reads_back_its_qr_and_footer(unit: UnitInfo, dossier: DossierInfo, form: str) -> None:
    import zxingcpp

    data = _render_all(unit, dossier)[form]
    assert page_count(data) == 1
    assert f"{form} · Mã hồ sơ: {CODE} · Trang 1/1" in pdf_text(data)
    assert [c.text.split("#")[0] for c in zxingcpp.read_barcodes(rasterise(data).convert("L"))] == [LOOKUP]


def test_forty_documents_flow_onto_a_second_page(unit: UnitInfo, dossier: DossierInfo) -> None:
    tail = " kèm bản dịch có chứng thực sang tiếng Việt"
    documents = [(f"Giấy tờ mã GT{i:03d}" + tail * (i % 3), i % 4 + 1) for i in range(1, 41)]
    data = render_bm01(unit, dataclasses.replace(dossier, documents=documents))
    pages = page_count(data)
    assert pages >= 2
    text = pdf_text(data)
    assert re.findall(r"GT\d{3}", text) == [f"GT{i:03d}" for i in range(1, 41)]
    assert text.count("Tên giấy tờ") >= 2  # the table heading repeats on the next page
    assert f"Trang 1/{pages}" in text and f"Trang {pages}/{pages}" in text
    # the end of the form (signatures) comes after the last document
    assert text.index("GT040") < text.index("NGƯỜI TIẾP NHẬN HỒ SƠ")
    import zxingcpp

    assert [c.text.split("#")[0] for c in zxingcpp.read_barcodes(rasterise(data).convert("L"))] == [LOOKUP]


HOSTILE_NAME = "<script>alert('x')</script> Trần\x00\x07 Văn\u200b\u202e An 😀 {nb} [a](http://evil) **b**"


@pytest.mark.parametrize("form", ["BM.01", "BM.02", "BM.03", "BM.04"])
def test_markup_controls_emoji_and_long_text_do_not_crash(unit: UnitInfo, dossier: DossierInfo,
                                                          form: str) -> None:
    address = ("Số 12 ngõ 34 đường Nguyễn Trãi, phường Thanh Xuân Trung, " * 9)[:430] + "X" * 70
    assert len(address) == 500
    hostile = dataclasses.replace(dossier, applicant_name=HOSTILE_NAME, applicant_address=address,
                                  procedure_name="P" * 800, documents=[("D" * 300, 1), ("<b>bold</b>", 2)],
                                  on_behalf_of="Công ty TNHH \"A&B\" <i>", return_place="\t\r\n")
    hostile_unit = dataclasses.replace(unit, name="Trung tâm <u>X</u> " + "Y" * 150, place="",
                                       timezone="Bad/Zone")
    data = _render_all(hostile_unit, hostile)[form]
    reader = PdfReader(io.BytesIO(data))
    assert all("/Annots" not in page for page in reader.pages)  # no link was made from "[a](http://evil)"
    text = pdf_text(data)
    assert "<script>alert('x')</script> Trần Văn" in text  # printed literally, controls dropped
    assert "{nb}" in text and "[a](http://evil)" in text and "**b**" in text
    assert "\x00" not in text and "\u202e" not in text
    assert "An ?" in text  # the emoji has no glyph in the font: a visible "?" instead of nothing
    if form in ("BM.01", "BM.03"):
        flat = re.sub(r"\s", "", text)
        assert re.sub(r"\s", "", address) in flat


def test_decomposed_input_is_printed_precomposed(unit: UnitInfo, dossier: DossierInfo) -> None:
    nfd = "Nguye\u0302\u0303n Thi\u0323 A\u0301nh Tuye\u0302\u0301t"
    data = render_bm01(unit, dataclasses.replace(dossier, applicant_name=nfd))
    raw = re.sub(r"\s+", " ", "".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages))
    assert NAME in raw  # already NFC in the PDF, without normalising the extracted text


def test_minimal_dossier_prints_blanks(unit: UnitInfo) -> None:
    naive = dt.datetime(2026, 11, 23, 2, 5)  # naive: taken as UTC
    bare = DossierInfo(code="X-1", procedure_name="Chứng thực bản sao", applicant_name="Lò Văn Páo",
                       received_at=naive, legal_days=0)
    text = pdf_text(render_bm01(UnitInfo(name="UBND xã Mường Lay"), bare))
    assert "09 giờ 05 phút, ngày 23 tháng 11 năm 2026" in text
    assert "Ngày 23 tháng 11 năm 2026" in text  # no place name configured
    assert "quy định là: trong ngày" in text
    assert "(Không có giấy tờ kèm theo)" in text
    assert "…… giờ …… phút, ngày …… tháng …… năm ……" in text
    assert "Quyển số: ……, Số thứ tự: ……" in text


def test_documents_may_be_pairs_names_or_mappings(unit: UnitInfo, dossier: DossierInfo) -> None:
    documents: list[Any] = [("Tờ khai", 2), "Giấy chứng sinh", {"name": "Bản sao sổ hộ khẩu", "count": 3}]
    data = render_bm01(unit, dataclasses.replace(dossier, documents=documents))
    text = pdf_text(data)
    # no form recorded (documents received before the "Hình thức" column): a blank to fill in
    assert "1 Tờ khai …… 02" in text and "2 Giấy chứng sinh …… 01" in text
    assert "3 Bản sao sổ hộ khẩu …… 03" in text


def test_bm01_prints_how_each_document_was_handed_in(unit: UnitInfo, dossier: DossierInfo) -> None:
    documents: list[Any] = [{"name": "Tờ khai đăng ký khai sinh", "count": 1, "form": "ban_chinh"},
                            {"name": "Giấy chứng sinh", "count": 2, "form": "ban_sao"},
                            ("Giấy tờ tùy thân", 1, "ban_chup")]
    text = pdf_text(render_bm01(unit, dataclasses.replace(dossier, documents=documents)))
    assert "STT Tên giấy tờ Hình thức Số lượng (bản)" in text
    assert "1 Tờ khai đăng ký khai sinh Bản chính 01" in text
    assert "2 Giấy chứng sinh Bản sao 02" in text
    assert "3 Giấy tờ tùy thân Bản chụp 01" in text


def test_clean_strips_controls_and_caps_length() -> None:
    assert clean(" a\x00b\tc\r\nd\u200b ") == "ab c d"
    assert clean("a\r\nb", multiline=True) == "a\nb"
    assert clean(None) == ""
    assert clean(42) == "42"
    long = clean("x" * 5000)
    assert len(long) == forms.MAX_FIELD and long.endswith("…")


def test_pdf_font_covers_vietnamese() -> None:
    family = find_pdf_fonts()
    assert missing(REQUIRED, family.regular) == "" and missing(REQUIRED, family.bold) == ""
    # a configured font that lacks Vietnamese is skipped, not used
    mono = "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf"
    assert find_pdf_fonts((mono, mono)).regular != mono


def test_rendering_is_quick(unit: UnitInfo, dossier: DossierInfo) -> None:
    import time

    started = time.perf_counter()
    render_bm01(unit, dossier)
    assert time.perf_counter() - started < 2.0


def test_received_time_uses_the_unit_timezone(unit: UnitInfo, dossier: DossierInfo) -> None:
    bangkok = dataclasses.replace(unit, timezone="Asia/Bangkok")  # same offset: still 09:05
    assert "09 giờ 05 phút" in pdf_text(render_bm01(bangkok, dossier))
    utc = dataclasses.replace(unit, timezone="UTC")
    assert "02 giờ 05 phút, ngày 23 tháng 11 năm 2026" in pdf_text(render_bm01(utc, dossier))
    assert RECEIVED.tzinfo is dt.UTC
