"""Ticket and slip rendering: one black-and-white raster, 576 or 384 dots wide, QR readable."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from PIL import Image

from hardware.fonts import find_font, load_font
from hardware.printing.render import (
    Picture,
    Rule,
    Space,
    Text,
    TicketSlip,
    default_fonts,
    render_lines,
    render_ticket,
    ticket_lines,
    wrap_text,
)
from hardware.qr import make_qr
from tests.hardware.conftest import QR_URL, UNIT, read_qr

DEJAVU = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")


def black_fraction(image: Image.Image) -> float:
    histogram = image.convert("L").histogram()
    return histogram[0] / (image.width * image.height)


def test_ticket_80mm_is_one_576_dot_monochrome_image_with_a_readable_qr(slip: TicketSlip) -> None:
    image = render_ticket(slip)
    assert image.mode == "1"
    assert image.width == 576
    assert 500 < image.height < 1400
    assert read_qr(image) == [QR_URL]
    assert 0.03 < black_fraction(image) < 0.5


def test_ticket_58mm_is_384_dots_wide(slip58: TicketSlip) -> None:
    image = render_ticket(slip58)
    assert image.size[0] == 384
    assert read_qr(image) == [QR_URL]


def test_wording_and_local_time(slip: TicketSlip) -> None:
    words = ticket_lines(slip)
    assert words["title"] == "PHIẾU SỐ THỨ TỰ"
    assert words["ahead"] == "Số người đang chờ trước Quý công dân: 12"
    assert words["wait"] == "Thời gian chờ dự kiến: khoảng 35 phút"
    assert words["time"] == "09:05 23/11/2026"  # 02:05 UTC in Hà Nội
    many = dataclasses.replace(slip, waiting_ahead=1234, estimated_minutes=0)
    assert ticket_lines(many)["ahead"].endswith("1.234")
    assert ticket_lines(many)["wait"] == "Thời gian chờ dự kiến: dưới 1 phút"
    assert ticket_lines(dataclasses.replace(slip, estimated_minutes=None))["wait"] == ""


def test_no_qr_and_no_footer_make_a_shorter_ticket(slip: TicketSlip) -> None:
    bare = dataclasses.replace(slip, qr_url=None, footer="")
    assert render_ticket(bare).height < render_ticket(slip).height - 150
    assert read_qr(render_ticket(bare)) == []


def test_paper_width_is_checked(slip: TicketSlip) -> None:
    with pytest.raises(ValueError, match="paper_width"):
        dataclasses.replace(slip, paper_width=512)


def test_qr_rejects_non_ascii_payload() -> None:
    with pytest.raises(ValueError, match="ASCII"):
        make_qr("http://example/tra-cứu")


def test_qr_modules_are_whole_dots_with_a_quiet_zone() -> None:
    qr = make_qr(QR_URL, box_size=5)
    assert qr.mode == "1" and qr.width == qr.height and qr.width % 5 == 0
    assert qr.getpixel((0, 0)) == 255 and qr.getpixel((qr.width - 1, qr.height - 1)) == 255
    assert qr.getpixel((20, 20)) == 0  # first module of the finder pattern, after 4 quiet modules
    assert read_qr(qr) == [QR_URL]


def test_a_long_number_shrinks_to_fit(slip: TicketSlip) -> None:
    image = render_ticket(dataclasses.replace(slip, label="A123456789"))
    # the margins stay white: the label is fitted to the width, not clipped by it
    assert image.crop((0, 0, 8, image.height)).getextrema() == (255, 255)
    assert image.crop((568, 0, 576, image.height)).getextrema() == (255, 255)


def test_wrap_breaks_words_and_overlong_words() -> None:
    font = load_font(find_font(), 24)
    lines = wrap_text(UNIT, font, 300)
    assert len(lines) >= 2 and " ".join(lines) == UNIT
    assert all(font.length(line) <= 300 for line in lines)
    broken = wrap_text("x" * 200, font, 100)
    assert "".join(broken) == "x" * 200 and all(font.length(line) <= 100 for line in broken)


def test_render_lines_is_generic(slip: TicketSlip) -> None:
    blocks = [Text("GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ", 26, bold=True), Rule(2),
              Text("Mã hồ sơ: 000.00.06.H56-261123-0001", 22, align="left"), Space(20),
              Picture(make_qr(QR_URL, box_size=4)), Rule(1, dash=4)]
    image = render_lines(blocks, 576)
    assert image.mode == "1" and image.width == 576
    assert read_qr(image) == [QR_URL]
    with pytest.raises(ValueError, match="does not fit"):
        render_lines([Picture(Image.new("1", (600, 10), 1))], 576)


@pytest.mark.skipif(not DEJAVU.is_file(), reason="fonts-dejavu-core is not installed")
def test_dejavu_fallback_renders_too(slip: TicketSlip) -> None:
    dejavu = default_fonts(str(DEJAVU), "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf")
    assert dejavu.regular.paths == (str(DEJAVU),)
    image = render_ticket(slip, fonts=dejavu)
    assert image.width == 576 and read_qr(image) == [QR_URL]
