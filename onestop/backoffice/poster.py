"""The A4 poster posted at the entrance: a number from the phone and bookings, by QR.

Two QR codes, each with a big Vietnamese caption and a short English line under it: the
public page ``{base}/q/`` (take a number on the phone, issue 20 item 5) and ``{base}/book/``
(book a time). fpdf2 with the Unicode font of the dossier forms (``onestop.dossiers.fonts``);
the QRs are the forms' PNGs (error correction M, 4-module quiet zone), large enough to be
read from a metre away. No Flask and no database here: the view passes the texts.
"""

from __future__ import annotations

import io

from fpdf import FPDF
from fpdf.enums import Align, XPos, YPos

from onestop.dossiers.fonts import find_pdf_fonts
from onestop.dossiers.forms import clean, qr_png

TITLE = "LẤY SỐ THỨ TỰ VÀ ĐẶT LỊCH HẸN BẰNG ĐIỆN THOẠI"
SUBTITLE = "Take a number or book a time with your phone"
QR_MM = 78.0
_FAMILY = "poster"


def poster_urls(base_url: str) -> tuple[str, str]:
    """The addresses the QRs carry: the number-from-the-phone page and the booking page."""
    base = base_url.rstrip("/")
    return f"{base}/q/", f"{base}/book/"


def render_poster(unit_name: str, base_url: str) -> bytes:
    """The poster as PDF bytes (one A4 page, portrait)."""
    fonts = find_pdf_fonts()
    pdf = FPDF(orientation="P", unit="mm", format="A4")
    pdf.set_margins(15, 15, 15)
    pdf.set_auto_page_break(False)
    pdf.add_font(_FAMILY, "", fonts.regular)
    pdf.add_font(_FAMILY, "B", fonts.bold)
    pdf.set_creator("onestop")
    pdf.set_title(TITLE)
    pdf.add_page()
    width = pdf.w - pdf.l_margin - pdf.r_margin
    pdf.set_font(_FAMILY, "", 15)
    pdf.multi_cell(width, 8, clean(unit_name, limit=200).upper(), align=Align.C,
                   new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(3)
    pdf.set_font(_FAMILY, "B", 26)
    pdf.multi_cell(width, 12, TITLE, align=Align.C, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(_FAMILY, "", 14)
    pdf.multi_cell(width, 7, SUBTITLE, align=Align.C, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    queue_url, book_url = poster_urls(base_url)
    top = pdf.get_y() + 8
    _block(pdf, top, "1. LẤY SỐ NGAY", "Quét mã để lấy số thứ tự trên điện thoại, "
           "không cần xếp hàng tại ki-ốt.", "Take a number now", queue_url)
    _block(pdf, top + 112, "2. ĐẶT LỊCH HẸN", "Quét mã để chọn ngày, giờ đến làm thủ tục.",
           "Book a time for another day", book_url)
    return bytes(pdf.output())


def _block(pdf: FPDF, top: float, heading: str, line: str, english: str, url: str) -> None:
    """One QR on the left, its caption on the right, the address in small print under it."""
    left = pdf.l_margin
    pdf.image(io.BytesIO(qr_png(url, box_size=10)), x=left, y=top, w=QR_MM, h=QR_MM)
    text_x = left + QR_MM + 8
    text_w = pdf.w - pdf.r_margin - text_x
    y = top + 8
    for text, style, size, height, grey in ((heading, "B", 26, 12, 0), (line, "", 17, 8.5, 0),
                                            (english, "", 12, 6, 80)):
        pdf.set_xy(text_x, y)
        pdf.set_font(_FAMILY, style, size)
        pdf.set_text_color(grey)
        pdf.multi_cell(text_w, height, text, align=Align.L, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        y = pdf.get_y() + 3
    pdf.set_text_color(80)
    pdf.set_xy(left, top + QR_MM + 2)
    pdf.set_font(_FAMILY, "", 10)
    pdf.cell(QR_MM, 5, url, align=Align.C)
    pdf.set_text_color(0)
