"""ESC/POS encoding: raster jobs (the default) decode back pixel for pixel; TCVN-3 text mode."""

from __future__ import annotations

import unicodedata

import pytest
from PIL import Image, ImageChops, ImageDraw

from hardware.printing.escpos import (
    EPSON_TCVN3,
    REALTIME_PATTERN,
    TextLine,
    TextProfile,
    defuse_realtime,
    encode_line,
    raster_bytes,
    raster_job,
    text_job,
    ticket_job,
)
from hardware.printing.fakeprinter import decode
from hardware.printing.render import TicketSlip, render_ticket
from hardware.printing.tcvn3 import TCVN3_CAPITALS, TCVN3_TABLE, encode_tcvn3, tcvn3_segments
from tests.hardware.conftest import QR_URL, read_qr


def sample_image(width: int, height: int) -> Image.Image:
    image = Image.new("1", (width, height), 1)
    draw = ImageDraw.Draw(image)
    draw.rectangle((3, 3, width - 10, 40), fill=0)
    draw.ellipse((20, 60, width - 20, height - 20), outline=0, width=5)
    return image


def same_pixels(a: Image.Image, b: Image.Image) -> bool:
    return a.size == b.size and ImageChops.difference(a.convert("L"), b.convert("L")).getbbox() is None


def test_raster_job_is_init_gs_v_0_feed_cut(slip: TicketSlip) -> None:
    image = render_ticket(slip)
    job = raster_job(image)
    assert job.startswith(b"\x1b@\x1dv0\x00")
    xb, height = int.from_bytes(job[6:8], "little"), int.from_bytes(job[8:10], "little")
    assert (xb, height) == (576 // 8, image.height)
    decoded = decode(job)
    assert decoded.initialized and decoded.truncated == b""
    assert [c.raw for c in decoded.cuts] == [b"\x1dV\x00"]
    assert job.endswith(b"\x1bd\x06\x1dV\x00")
    page = decoded.page()
    assert page is not None and same_pixels(page, image)
    assert read_qr(page) == [QR_URL]


def test_tall_images_are_split_into_blocks_and_restacked() -> None:
    image = sample_image(576, 2100)
    decoded = decode(raster_job(image))
    assert [block.height for block in decoded.rasters] == [960, 960, 180]
    page = decoded.page()
    assert page is not None and same_pixels(page, image)


def test_58mm_and_odd_widths() -> None:
    image = sample_image(384, 300)
    page = decode(raster_job(image)).page()
    assert page is not None and page.width == 384 and same_pixels(page, image)
    odd = decode(raster_job(sample_image(100, 80))).page()
    assert odd is not None and odd.width == 104  # padded to whole bytes, white


def test_wider_than_80mm_is_refused() -> None:
    with pytest.raises(Exception, match="640"):
        raster_job(Image.new("1", (640, 10), 1))


def test_realtime_command_bytes_are_removed_from_images() -> None:
    image = Image.new("1", (576, 4), 1)
    for x in (3, 8 + 5, 16 + 7):  # byte 0 = 0x10, byte 1 = 0x04, byte 2 = 0x01: DLE EOT 1
        image.putpixel((x, 1), 0)
    for x in (200 + 3, 208 + 5, 216 + 5):  # 0x10 0x04 0x04 across bytes 25..27
        image.putpixel((x, 2), 0)
    assert REALTIME_PATTERN.search(raster_bytes(image))
    defused, changed = defuse_realtime(image)
    assert changed == 2 and not REALTIME_PATTERN.search(raster_bytes(defused))
    diff = ImageChops.difference(image.convert("L"), defused.convert("L"))
    assert sum(1 for v in diff.getdata() if v) == 2  # one dot each
    page = decode(raster_job(image)).page()
    assert page is not None and same_pixels(page, defused)
    assert not REALTIME_PATTERN.search(decode(raster_job(image)).of("raster")[0].raw[8:])


def test_partial_cut_and_no_cut() -> None:
    image = sample_image(384, 100)
    assert decode(raster_job(image, cut="partial")).cuts[0].raw == b"\x1dV\x01"
    assert decode(raster_job(image, cut="none")).cuts == []


# -- TCVN-3 text mode ---------------------------------------------------------------------


def test_tcvn3_encodes_dang_ky_khai_sinh() -> None:
    assert encode_tcvn3("Đăng ký khai sinh") == b"\xa7\xa8ng k\xfd khai sinh"
    assert encode_tcvn3("Hộ tịch") == b"H\xe9 t\xdech"
    assert encode_tcvn3("Được giải quyết") == b"\xa7\xad\xeec gi\xb6i quy\xd5t"


def test_tcvn3_table_is_the_standard_one() -> None:
    assert len(TCVN3_TABLE) == 74 and len(set(TCVN3_TABLE.values())) == 74
    assert len(TCVN3_CAPITALS) == 60
    assert min(TCVN3_TABLE.values()) == 0xA1 and max(TCVN3_TABLE.values()) == 0xFE
    spot = {"à": 0xB5, "á": 0xB8, "ạ": 0xB9, "ặ": 0xC6, "ấ": 0xCA, "ẹ": 0xD1, "ĩ": 0xDC, "ò": 0xDF,
            "ỏ": 0xE1, "ơ": 0xAC, "ợ": 0xEE, "ù": 0xEF, "ủ": 0xF1, "ự": 0xF9, "ỵ": 0xFE, "Ơ": 0xA5}
    assert {ch: TCVN3_TABLE[ch] for ch in spot} == spot


def test_tcvn3_capitals_and_unknown_characters() -> None:
    # toned capitals go to the capital page, at their lowercase letter's code
    assert tcvn3_segments("PHIẾU SỐ") == [(False, b"PHI"), (True, b"\xd5U S\xe8")]
    assert encode_tcvn3("PHIẾU") == b"PHI\xd5U"  # one page: lowercase stand-in
    assert encode_tcvn3("Tư pháp – Hộ tịch") == b"T\xad ph\xb8p - H\xe9 t\xdech"
    assert encode_tcvn3("漢") == b"?"
    with pytest.raises(UnicodeEncodeError):
        encode_tcvn3("漢", errors="strict")
    assert encode_tcvn3(unicodedata.normalize("NFD", "Đăng ký")) == b"\xa7\xa8ng k\xfd"


def test_text_job_selects_the_tcvn3_code_page() -> None:
    job = text_job([TextLine("Đăng ký khai sinh", bold=True), "PHIẾU"], qr_url=QR_URL)
    assert job.startswith(b"\x1b@")
    assert b"\x1bt\x1e\xa7\xa8ng k\xfd khai sinh\n" in job
    assert b"\x1bt\x1ePHI\x1bt\x1f\xd5U\n" in job
    decoded = decode(job)
    assert decoded.of("qr") and decoded.cuts
    one_page = encode_line(TextLine("PHIẾU"), TextProfile("tcvn3-one-page", 30, None))
    assert one_page.endswith(b"\x1bt\x1ePHI\x1bt\x1e\xd5U\n")


def test_ticket_job_is_raster_unless_text_mode_is_asked_for(slip: TicketSlip) -> None:
    raster = decode(ticket_job(slip))
    assert len(raster.rasters) == 1 and not raster.of("codepage")
    text = decode(ticket_job(slip, text_profile=EPSON_TCVN3))
    assert not text.rasters and text.of("codepage")
    assert b"A1025" in text.text and b"S\xe8 ng\xad\xeai \xaeang ch\xea" in text.text
    assert b"H\xe9 t\xdech" in text.text
