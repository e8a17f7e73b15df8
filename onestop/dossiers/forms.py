"""The one-stop legal forms as A4 PDFs in Vietnamese (fpdf2, a Unicode TrueType font embedded).

- BM.01 Giấy tiếp nhận hồ sơ và hẹn trả kết quả;
- BM.02 Phiếu yêu cầu bổ sung, hoàn thiện hồ sơ;
- BM.03 Phiếu từ chối tiếp nhận giải quyết hồ sơ;
- BM.04 Phiếu xin lỗi và hẹn lại ngày trả kết quả.

Each carries the QR of Thông tư 01/2023/TT-VPCP, Điều 26 in the top-left corner of its first
page: the lookup URL plus the data the circular lists (:func:`qr_text`, docs/qr-codes.md).

The layout follows the forms of the one-stop regulations (national heading on the right,
the unit on the left, title, numbered contents, signature places). Inputs are plain
dataclasses, so the module knows nothing of the database or Flask: callers copy what the
Dossier model holds into :class:`UnitInfo` / :class:`DossierInfo`.

Every text from the outside is normalised to NFC, stripped of control and format
characters, shortened past :data:`MAX_FIELD` characters, and any character the font cannot
draw (an emoji, say) becomes "?". A PDF is not HTML: ``<script>`` is printed literally.
Times are shown in the unit's timezone, 24 h; a naive datetime is taken as UTC (the
project's convention for stored times).
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from urllib.parse import quote_plus, urlencode
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import qrcode
from fpdf import FPDF
from fpdf.enums import Align, TableHeadingsDisplay, XPos, YPos
from fpdf.fonts import FontFace
from qrcode.constants import ERROR_CORRECT_M

from onestop.dossiers.fonts import PdfFontFamily, charset, find_pdf_fonts
from onestop.dossiers.models import DOCUMENT_FORMS

log = logging.getLogger(__name__)

DEFAULT_TIMEZONE = "Asia/Ho_Chi_Minh"
#: Longest text kept from one field; beyond it the text is cut and ends with "…".
MAX_FIELD = 2000
NATION = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
MOTTO = "Độc lập - Tự do - Hạnh phúc"
SIGN_HINT = "(Ký và ghi rõ họ tên)"

_FAMILY = "form"
_BODY_PT = 11.5
_LINE = 5.6  # mm per body line
_LEFT, _TOP, _RIGHT, _BOTTOM = 25.0, 15.0, 15.0, 18.0
_HEAD_PT = 10.0
# The QR (Thông tư 01/2023/TT-VPCP, Điều 26; docs/qr-codes.md): in the top-left corner of the
# first page, QR_MM square with its 4-module quiet zone (TCVN 7322:2009 / ISO/IEC 18004), its
# text at most QR_MAX_TEXT characters (what the kiosk's scanner path reads, lookup.js).
QR_MM = 30.0
QR_GAP = 3.0
QR_MAX_TEXT = 300
#: "Tên hệ thống thông tin cung cấp dữ liệu" in the QR.
QR_SYSTEM = "onestop"
#: "Tên giấy tờ được xuất bản" in the QR: ASCII, so that a USB scanner can type it.
QR_FORM_NAMES = {
    "BM.01": "Giay tiep nhan ho so va hen tra ket qua",
    "BM.02": "Phieu yeu cau bo sung, hoan thien ho so",
    "BM.03": "Phieu tu choi tiep nhan giai quyet ho so",
    "BM.04": "Phieu xin loi va hen lai ngay tra ket qua",
}
# fpdf2 replaces its page-count alias ("{nb}" by default) in *every* text it prints; a
# private-use alias cannot come from outside because clean() drops private-use characters.
_NB_ALIAS = "\ue000nb\ue000"


@dataclass(frozen=True, kw_only=True)
class UnitInfo:
    """The unit (đơn vị) issuing the form.

    ``place`` is the place name of the date line ("Hòa Bình, ngày … tháng … năm …");
    ``phone`` is printed on BM.02 for questions.
    """

    name: str
    parent_name: str = ""
    address: str = ""
    code: str = ""
    place: str = ""
    phone: str = ""
    timezone: str = DEFAULT_TIMEZONE


@dataclass(frozen=True, kw_only=True)
class DossierInfo:
    """What the forms print about one dossier (hồ sơ).

    ``documents`` holds (document name, number of copies[, form]) tuples; a bare name (one
    copy) or a mapping with "name", "count" and "form" (a ``DOCUMENT_FORMS`` code such as
    ``ban_sao``, printed in the "Hình thức" column) is accepted too. ``sets`` is the number of sets of the
    dossier (bộ). ``legal_days`` is the legal processing time in working days (0 = within
    the day, None = left blank). ``number_in_book`` and ``book_volume`` are the entry in the
    dossier register (Sổ theo dõi hồ sơ); ``number_in_book`` is also the "Số:" of the heading.
    ``lookup_url`` and ``procedure_code`` go into the QR (:func:`qr_text`).
    """

    code: str
    procedure_name: str
    applicant_name: str
    received_at: dt.datetime
    number_in_book: str | int = ""
    book_volume: str | int = ""
    service_name: str = ""
    applicant_id_number: str = ""
    applicant_phone: str = ""
    applicant_email: str = ""
    applicant_address: str = ""
    on_behalf_of: str = ""
    documents: Sequence[tuple[str, int] | str | Mapping[str, object]] = field(default_factory=tuple)
    sets: int = 1
    legal_days: int | None = None
    appointment_at: dt.datetime | None = None
    return_place: str = ""
    clerk_name: str = ""
    lookup_url: str = ""
    procedure_code: str = ""


# --------------------------------------------------------------------------- text helpers


def clean(value: object, *, multiline: bool = False, limit: int = MAX_FIELD) -> str:
    """``value`` as printable NFC text: control/format characters dropped, cut at ``limit``.

    Line breaks survive only when ``multiline``; tabs and other breaks become spaces.
    """
    text = unicodedata.normalize("NFC", "" if value is None else str(value))
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    out: list[str] = []
    for ch in text:
        if ch == "\n" and multiline:
            out.append(ch)
        elif ch in "\t\n\v\f\u2028\u2029\x85":
            out.append(" ")
        elif unicodedata.category(ch) not in {"Cc", "Cf", "Cs", "Co", "Cn"}:
            out.append(ch)
    lines = [" ".join(line.split()) for line in "".join(out).split("\n")]
    text = "\n".join(lines).strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _local(when: dt.datetime, tz: ZoneInfo) -> dt.datetime:
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return when.astimezone(tz)


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name or DEFAULT_TIMEZONE)
    except (ZoneInfoNotFoundError, ValueError):
        log.warning("unknown timezone %r; printing in %s", name, DEFAULT_TIMEZONE)
        return ZoneInfo(DEFAULT_TIMEZONE)


def clock_phrase(when: dt.datetime) -> str:
    """'08 giờ 05 phút, ngày 23 tháng 11 năm 2026' (already local)."""
    return f"{when:%H} giờ {when:%M} phút, ngày {when:%d} tháng {when:%m} năm {when:%Y}"


def date_phrase(when: dt.datetime) -> str:
    """'ngày 23 tháng 11 năm 2026' (already local)."""
    return f"ngày {when:%d} tháng {when:%m} năm {when:%Y}"


def dmy_hm(when: dt.datetime) -> str:
    """'08:05 ngày 23/11/2026' (already local)."""
    return f"{when:%H:%M} ngày {when:%d/%m/%Y}"


# --------------------------------------------------------------------------- the PDF


class _FormPdf(FPDF):
    """A4 portrait with a footer naming the form, the dossier code and the page."""

    def __init__(self, fonts: PdfFontFamily, form_id: str, code: str) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        self.form_id = form_id
        self.dossier_code = code
        self.set_margins(_LEFT, _TOP, _RIGHT)
        self.set_auto_page_break(True, margin=_BOTTOM)
        self.add_font(_FAMILY, "", fonts.regular)
        self.add_font(_FAMILY, "B", fonts.bold)
        self.add_font(_FAMILY, "I", fonts.italic or fonts.regular)
        self._drawable = charset(fonts.regular) & charset(fonts.bold) & charset(fonts.italic or fonts.regular)
        self.alias_nb_pages(_NB_ALIAS)
        self.set_creator("onestop")
        self.set_text_color(0)
        self.set_draw_color(0)

    def txt(self, value: object, *, multiline: bool = False) -> str:
        """Clean ``value`` and replace what the font cannot draw with '?'."""
        text = clean(value, multiline=multiline)
        return "".join(c if c == "\n" or ord(c) in self._drawable else "?" for c in text)

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(_FAMILY, "", 8)
        self.set_text_color(90)
        code = self.txt(self.dossier_code)
        self.cell(0, 4, f"{self.form_id} · Mã hồ sơ: {code} · Trang {self.page_no()}/{_NB_ALIAS}",
                  align=Align.C)
        self.set_text_color(0)

    @property
    def width(self) -> float:
        return self.w - self.l_margin - self.r_margin

    def room(self) -> float:
        return self.page_break_trigger - self.get_y()

    def keep(self, height: float) -> None:
        """Start a new page unless ``height`` mm still fit on this one."""
        if self.room() < height:
            self.add_page()


def _new_pdf(form_id: str, title: str, dossier: DossierInfo) -> _FormPdf:
    pdf = _FormPdf(find_pdf_fonts(), form_id, dossier.code)
    pdf.set_title(f"{form_id} {title} – {pdf.txt(dossier.code)}")
    pdf.add_page()
    return pdf


def _column(pdf: _FormPdf, x: float, w: float, lines: Sequence[tuple[str, str, float]]) -> float:
    """Centred lines (text, style, size) in a column starting at the current y; returns the bottom y."""
    y = pdf.get_y()
    for text, style, size in lines:
        pdf.set_xy(x, y)
        pdf.set_font(_FAMILY, style, size)
        pdf.multi_cell(w, size * 0.45, text, align=Align.C)
        y = pdf.get_y()
    return y


def _rule(pdf: _FormPdf, cx: float, y: float, length: float) -> None:
    pdf.set_line_width(0.3)
    pdf.line(cx - length / 2, y, cx + length / 2, y)


def _heading(pdf: _FormPdf, unit: UnitInfo, number: str, at: dt.datetime, qr: str = "") -> None:
    """The two-column heading: unit left, national heading right; then number and date line.

    With a ``qr`` text, the QR takes the top-left corner (TT 01/2023/TT-VPCP, Điều 26) and
    the unit's column moves to its right, narrower; the national heading keeps its width."""
    left_x, left_w, gap = pdf.l_margin, 74.0, 2.0
    qr_end = 0.0
    if qr:  # the national heading and the date line still on one line each (90 mm)
        qr_end = _qr_corner(pdf, qr)
        left_x = pdf.l_margin + QR_MM + QR_GAP
        left_w = pdf.w - pdf.r_margin - 90.0 - gap - left_x
    right_x = left_x + left_w + gap
    right_w = pdf.w - pdf.r_margin - right_x
    top = pdf.get_y()
    left = [(pdf.txt(unit.parent_name).upper(), "", _HEAD_PT)] if clean(unit.parent_name) else []
    left.append((pdf.txt(unit.name).upper(), "B", _HEAD_PT))
    left_end = _column(pdf, left_x, left_w, left)
    pdf.set_y(top)
    right_end = _column(pdf, right_x, right_w, [(NATION, "B", _HEAD_PT), (MOTTO, "B", _HEAD_PT + 1)])
    pdf.set_font(_FAMILY, "B", _HEAD_PT + 1)
    _rule(pdf, right_x + right_w / 2, right_end + 1.2, pdf.get_string_width(MOTTO))
    _rule(pdf, left_x + left_w / 2, left_end + 1.2, 25)
    pdf.set_y(max(left_end, right_end) + 3)
    row = pdf.get_y()
    pdf.set_font(_FAMILY, "", _BODY_PT)
    pdf.set_x(left_x)
    pdf.multi_cell(left_w, _LINE, f"Số: {pdf.txt(number) or '……'}", align=Align.C)
    left_end = pdf.get_y()
    place = pdf.txt(unit.place)
    pdf.set_xy(right_x, row)
    pdf.set_font(_FAMILY, "I", _BODY_PT)
    pdf.multi_cell(right_w, _LINE, f"{place}, {date_phrase(at)}" if place else date_phrase(at).capitalize(),
                   align=Align.C)
    pdf.set_y(max(left_end, pdf.get_y(), qr_end) + 5)
    pdf.set_x(pdf.l_margin)


def _title(pdf: _FormPdf, title: str, *subtitles: str) -> None:
    pdf.set_font(_FAMILY, "B", 13.5)
    pdf.multi_cell(pdf.width, 7, title, align=Align.C, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    for sub in subtitles:
        pdf.set_font(_FAMILY, "B" if sub.startswith("Mã hồ sơ") else "I", _BODY_PT)
        pdf.multi_cell(pdf.width, _LINE, sub, align=Align.C, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(4)


def _runs(pdf: _FormPdf, *runs: tuple[str, str], indent: float = 0.0, align: Align = Align.L) -> None:
    """One paragraph of (text, style) runs wrapping word by word (labels plain, values bold).

    A text region rather than ``write()``: ``write()`` splits a word that starts a new run
    when it does not fit the rest of the line ("N / guyễn"); markdown would turn outside
    text such as "[x](url)" into links.
    """
    pdf.set_font(_FAMILY, "", _BODY_PT)
    region = pdf.text_columns(text_align=align, line_height=_LINE / (_BODY_PT * 0.3528))
    with region, region.paragraph(indent=indent) as par:
        for text, style in runs:
            pdf.set_font(_FAMILY, style, _BODY_PT)
            par.write(text)
    pdf.set_x(pdf.l_margin)


def _field(pdf: _FormPdf, label: str, value: object, *, indent: float = 0.0) -> None:
    """'Label: value', the value in bold, or a dotted blank when there is none."""
    text = pdf.txt(value, multiline=True)
    _runs(pdf, (f"{label}: ", ""), (text or "……………………", "B" if text else ""), indent=indent)


def _para(pdf: _FormPdf, text: str, style: str = "", *, align: Align = Align.J, indent: float = 0.0) -> None:
    _runs(pdf, (text, style), indent=indent, align=align)


def _applicant(pdf: _FormPdf, unit: UnitInfo, dossier: DossierInfo) -> None:
    _runs(pdf, (f"{pdf.txt(unit.name)} tiếp nhận hồ sơ của: Ông/Bà ", ""),
          (pdf.txt(dossier.applicant_name) or "……………………", "B"))
    if clean(dossier.on_behalf_of):
        _field(pdf, "Nộp thay cho (tổ chức, cá nhân)", dossier.on_behalf_of)
    _field(pdf, "Số định danh cá nhân/CCCD", dossier.applicant_id_number)
    _field(pdf, "Địa chỉ", dossier.applicant_address)
    phone = pdf.txt(dossier.applicant_phone) or "……………"
    email = pdf.txt(dossier.applicant_email) or "……………"
    _runs(pdf, ("Số điện thoại: ", ""), (phone, "B"), ("    Email: ", ""), (email, "B"))


def _documents_table(pdf: _FormPdf, documents: Sequence[object]) -> None:
    """The numbered list of documents received with their copies; headings repeat on every page."""
    if not documents:
        _para(pdf, "(Không có giấy tờ kèm theo)", "I", indent=5)
        return
    pdf.set_font(_FAMILY, "", _BODY_PT - 1.5)
    widths = (12.0, pdf.width - 12.0 - 22.0 - 20.0, 22.0, 20.0)
    with pdf.table(col_widths=widths, text_align=(Align.C, Align.L, Align.C, Align.C), line_height=4.8,
                   headings_style=FontFace(emphasis="BOLD"), padding=(0.8, 1.5),
                   repeat_headings=TableHeadingsDisplay.ON_TOP_OF_EVERY_PAGE, v_align="TOP") as table:
        head = table.row()
        for text in ("STT", "Tên giấy tờ", "Hình thức", "Số lượng (bản)"):
            head.cell(text)
        for number, (name, count, form) in enumerate(map(_document, documents), start=1):
            row = table.row()
            row.cell(str(number))
            row.cell(pdf.txt(name) or "……")
            row.cell(_form(form))
            row.cell(_count(count))
    pdf.ln(2)


def _document(item: object) -> tuple[object, object, object]:
    """(name, copies, form) from a pair or triple, a bare name (1 copy) or a mapping with
    "name", "count" and "form"; the form is left blank when it was not recorded."""
    if isinstance(item, Mapping):
        return item.get("name", ""), item.get("count", 1), item.get("form", "")
    if isinstance(item, Sequence) and not isinstance(item, str) and len(item) >= 2:
        return item[0], item[1], item[2] if len(item) >= 3 else ""
    return item, 1, ""


def _form(value: object) -> str:
    """"Bản chính" / "Bản sao" / "Bản chụp" from the stored code (or a label as given)."""
    text = clean(value, limit=40)
    return DOCUMENT_FORMS.get(text, text) or "……"


def _count(value: object) -> str:
    try:
        number = int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return clean(value, limit=20) or "……"
    return f"{number:02d}" if 0 <= number < 10 else f"{number:,}".replace(",", ".")


def _signatures(pdf: _FormPdf, places: Sequence[tuple[str, str, str]]) -> None:
    """Signature places side by side: (title, hint, printed name); kept together on one page."""
    pdf.keep(42)
    pdf.ln(4)
    top = pdf.get_y()
    col = pdf.width / len(places)
    bottom = top
    for i, (title, hint, name) in enumerate(places):
        x = pdf.l_margin + i * col
        pdf.set_xy(x, top)
        _column(pdf, x, col, [(title, "B", _BODY_PT), (hint, "I", _BODY_PT - 1)])
        pdf.set_xy(x, pdf.get_y() + 18)
        pdf.set_font(_FAMILY, "B", _BODY_PT)
        pdf.multi_cell(col, _LINE, pdf.txt(name), align=Align.C)
        bottom = max(bottom, pdf.get_y())
    pdf.set_xy(pdf.l_margin, bottom + 4)


def qr_png(data: str, box_size: int = 8) -> bytes:
    """``data`` as a QR code PNG (error correction M, 4-module quiet zone), in memory."""
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, box_size=box_size, border=4)
    code.add_data(data)
    code.make(fit=True)
    image = code.make_image(fill_color="black", back_color="white")
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    return buf.getvalue()


def qr_text(form_id: str, dossier: DossierInfo, issued_at: dt.datetime, tz: ZoneInfo | str,
            due_at: dt.datetime | None = None) -> str:
    """What a form's QR carries: the lookup URL (a phone opens it, the kiosk's scanner reads
    its code and token), then after ``#`` the data TT 01/2023/TT-VPCP, Điều 26 asks for: the
    form's name (``doc``), the procedure's code (``proc``), the applicant's ID number
    (``id_number``), the system (``system``), when the form was issued (``issued``) and the
    appointment (``due``, on BM.01 and BM.04), times as ``yyyymmddThhmm+hhmm`` in the unit's zone.

    The fragment never reaches the server when a phone opens the URL (so the ID number is in
    no access log). Past :data:`QR_MAX_TEXT` characters the form's name shrinks to its code
    ("BM.01"), and past that again only the URL is kept. "" when there is no lookup URL."""
    url = clean(dossier.lookup_url, limit=1000)
    if not url:
        return ""
    zone = tz if isinstance(tz, ZoneInfo) else _zone(tz)
    def stamp(when: dt.datetime | None) -> str:
        return _local(when, zone).strftime("%Y%m%dT%H%M%z") if when else ""

    fields = [("doc", QR_FORM_NAMES.get(form_id, form_id)), ("proc", clean(dossier.procedure_code, limit=40)),
              ("id_number", clean(dossier.applicant_id_number, limit=20)), ("system", QR_SYSTEM),
              ("issued", stamp(issued_at)), ("due", stamp(due_at))]
    for name in (QR_FORM_NAMES.get(form_id, form_id), form_id):
        fields[0] = ("doc", name)
        text = f"{url}#{urlencode([(k, v) for k, v in fields if v], quote_via=quote_plus)}"
        if len(text) <= QR_MAX_TEXT:
            return text
    log.warning("QR text of %s too long for a scanner; printing the lookup URL alone", form_id)
    return url


def _qr_corner(pdf: _FormPdf, text: str) -> float:
    """The QR at the top-left corner of the page (inside the margins), its caption below;
    returns the bottom y."""
    x, top = pdf.l_margin, pdf.t_margin
    pdf.image(io.BytesIO(qr_png(text)), x=x, y=top, w=QR_MM, h=QR_MM)
    pdf.set_xy(x, top + QR_MM)
    pdf.set_font(_FAMILY, "I", 7)
    pdf.multi_cell(QR_MM, 3, "Quét mã để tra cứu tình trạng hồ sơ", align=Align.C)
    bottom = pdf.get_y()
    pdf.set_xy(pdf.l_margin, top)
    return bottom


def _finish(pdf: _FormPdf) -> bytes:
    return bytes(pdf.output())


def _register_line(pdf: _FormPdf, dossier: DossierInfo) -> None:
    volume = pdf.txt(dossier.book_volume) or "……"
    number = pdf.txt(dossier.number_in_book) or "……"
    _runs(pdf, ("Vào Sổ theo dõi hồ sơ, Quyển số: ", ""), (volume, "B"), (", Số thứ tự: ", ""), (number, "B"))


def _lookup_line(pdf: _FormPdf, dossier: DossierInfo) -> None:
    url = pdf.txt(clean(dossier.lookup_url, limit=1000))
    if url:
        pdf.set_font(_FAMILY, "I", 8.5)
        pdf.multi_cell(pdf.width, 4.2, f"Tra cứu tình trạng hồ sơ tại: {url}", align=Align.L,
                       new_x=XPos.LMARGIN, new_y=YPos.NEXT)


# --------------------------------------------------------------------------- the forms


def render_bm01(unit: UnitInfo, dossier: DossierInfo) -> bytes:
    """BM.01 Giấy tiếp nhận hồ sơ và hẹn trả kết quả, with the lookup QR, as PDF bytes."""
    tz = _zone(unit.timezone)
    received = _local(dossier.received_at, tz)
    pdf = _new_pdf("BM.01", "Giấy tiếp nhận hồ sơ và hẹn trả kết quả", dossier)
    _heading(pdf, unit, str(dossier.number_in_book), received,
             qr=qr_text("BM.01", dossier, received, tz, dossier.appointment_at))
    _title(pdf, "GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ", f"Mã hồ sơ: {pdf.txt(dossier.code)}")
    _applicant(pdf, unit, dossier)
    _field(pdf, "Nội dung yêu cầu giải quyết", dossier.procedure_name)
    if clean(dossier.service_name):
        _field(pdf, "Lĩnh vực", dossier.service_name)
    _runs(pdf, ("1. Thành phần hồ sơ nộp gồm:", ""))
    _documents_table(pdf, dossier.documents)
    _runs(pdf, ("2. Số lượng hồ sơ: ", ""), (_count(dossier.sets), "B"), (" (bộ)", ""))
    _runs(pdf, ("3. Thời gian giải quyết hồ sơ theo quy định là: ", ""), *_legal_time(dossier.legal_days))
    _runs(pdf, ("4. Thời gian nhận hồ sơ: ", ""), (clock_phrase(received), "B"))
    appointment = (clock_phrase(_local(dossier.appointment_at, tz)) if dossier.appointment_at
                   else "…… giờ …… phút, ngày …… tháng …… năm ……")
    _runs(pdf, ("5. Thời gian trả kết quả giải quyết hồ sơ: ", ""), (appointment, "B"))
    place = pdf.txt(dossier.return_place, multiline=True) or pdf.txt(unit.name)
    _runs(pdf, ("6. Đăng ký nhận kết quả tại: ", ""), (place, "B"))
    _register_line(pdf, dossier)
    _signatures(pdf, [("NGƯỜI NỘP HỒ SƠ", SIGN_HINT, dossier.applicant_name),
                      ("NGƯỜI TIẾP NHẬN HỒ SƠ", SIGN_HINT, dossier.clerk_name)])
    _lookup_line(pdf, dossier)
    return _finish(pdf)


def _legal_time(days: int | None) -> tuple[tuple[str, str], ...]:
    if days is None:
        return (("…… ngày làm việc", ""),)
    if days <= 0:
        return (("trong ngày", "B"),)
    return ((str(days), "B"), (" ngày làm việc", ""))


def _summary(pdf: _FormPdf, dossier: DossierInfo) -> None:
    _runs(pdf, ("Hồ sơ của: Ông/Bà ", ""), (pdf.txt(dossier.applicant_name) or "……………………", "B"))
    if clean(dossier.on_behalf_of):
        _field(pdf, "Nộp thay cho (tổ chức, cá nhân)", dossier.on_behalf_of)
    _field(pdf, "Nội dung yêu cầu giải quyết", dossier.procedure_name)
    _field(pdf, "Mã hồ sơ", dossier.code)


def _numbered(pdf: _FormPdf, items: Sequence[str]) -> None:
    """Items as a numbered list, wrapped lines aligned after the number."""
    texts = [pdf.txt(item, multiline=True) for item in items]
    texts = [t for t in texts if t] or ["……………………………………"]
    pdf.set_font(_FAMILY, "B", _BODY_PT)
    with pdf.text_columns(text_align=Align.L, line_height=_LINE / (_BODY_PT * 0.3528)) as cols:
        for number, text in enumerate(texts, start=1):
            with cols.paragraph(indent=12, bullet_string=f"{number}.", bullet_r_margin=2) as par:
                par.write(text)
    pdf.set_x(pdf.l_margin)


def render_bm02(unit: UnitInfo, dossier: DossierInfo, items: Sequence[str], reason: str,
                clerk_name: str, at: dt.datetime) -> bytes:
    """BM.02 Phiếu yêu cầu bổ sung, hoàn thiện hồ sơ: what to supplement, why, who guides."""
    tz = _zone(unit.timezone)
    now, received = _local(at, tz), _local(dossier.received_at, tz)
    pdf = _new_pdf("BM.02", "Phiếu yêu cầu bổ sung, hoàn thiện hồ sơ", dossier)
    _heading(pdf, unit, str(dossier.number_in_book), now, qr=qr_text("BM.02", dossier, now, tz))
    _title(pdf, "PHIẾU YÊU CẦU BỔ SUNG, HOÀN THIỆN HỒ SƠ")
    _summary(pdf, dossier)
    pdf.ln(1)
    _para(pdf, f"Ngày {received:%d/%m/%Y}, {pdf.txt(unit.name)} đã tiếp nhận hồ sơ của Ông/Bà. "
               "Sau khi xem xét, đối chiếu với quy định, đề nghị Ông/Bà bổ sung, hoàn thiện hồ sơ "
               "gồm những nội dung sau:")
    _numbered(pdf, items)
    _field(pdf, "Lý do", reason)
    contact = pdf.txt(clerk_name) or "người hướng dẫn"
    phone = pdf.txt(unit.phone)
    _para(pdf, "Trong quá trình bổ sung, hoàn thiện hồ sơ, nếu có vướng mắc, Ông/Bà vui lòng liên hệ "
               f"{contact}" + (f", số điện thoại {phone}," if phone else "") + " để được hướng dẫn.")
    _para(pdf, "Xin trân trọng cảm ơn!", "I")
    _signatures(pdf, [("", "", ""), ("NGƯỜI HƯỚNG DẪN", SIGN_HINT, clerk_name)])
    return _finish(pdf)


def render_bm03(unit: UnitInfo, dossier: DossierInfo, reason: str, clerk_name: str, at: dt.datetime,
                *, legal_basis: str = "") -> bytes:
    """BM.03 Phiếu từ chối tiếp nhận giải quyết hồ sơ: the reason (and optionally its legal basis)."""
    tz = _zone(unit.timezone)
    now = _local(at, tz)
    pdf = _new_pdf("BM.03", "Phiếu từ chối tiếp nhận giải quyết hồ sơ", dossier)
    _heading(pdf, unit, str(dossier.number_in_book), now, qr=qr_text("BM.03", dossier, now, tz))
    _title(pdf, "PHIẾU TỪ CHỐI TIẾP NHẬN GIẢI QUYẾT HỒ SƠ")
    _applicant(pdf, unit, dossier)
    _field(pdf, "Nội dung yêu cầu giải quyết", dossier.procedure_name)
    _field(pdf, "Mã hồ sơ", dossier.code)
    pdf.ln(1)
    basis = pdf.txt(legal_basis)
    lead = f"Căn cứ {basis}, " if basis else "Căn cứ quy định hiện hành, "
    _para(pdf, f"{lead}{pdf.txt(unit.name)} từ chối tiếp nhận, giải quyết hồ sơ này vì lý do sau:")
    _para(pdf, pdf.txt(reason, multiline=True) or "……………………………………", "B", align=Align.L, indent=5)
    _para(pdf, "Xin lỗi Ông/Bà vì sự bất tiện này!", "I")
    _signatures(pdf, [("", "", ""), ("NGƯỜI TIẾP NHẬN HỒ SƠ", SIGN_HINT, clerk_name)])
    return _finish(pdf)


def render_bm04(unit: UnitInfo, dossier: DossierInfo, reason: str, new_appointment: dt.datetime,
                at: dt.datetime, *, signer_title: str = "THỦ TRƯỞNG CƠ QUAN, ĐƠN VỊ",
                signer_name: str = "") -> bytes:
    """BM.04 Phiếu xin lỗi và hẹn lại ngày trả kết quả: why it is late and the new appointment."""
    tz = _zone(unit.timezone)
    now, received = _local(at, tz), _local(dossier.received_at, tz)
    new = _local(new_appointment, tz)
    pdf = _new_pdf("BM.04", "Phiếu xin lỗi và hẹn lại ngày trả kết quả", dossier)
    name, unit_name = pdf.txt(dossier.applicant_name) or "……………………", pdf.txt(unit.name)
    _heading(pdf, unit, str(dossier.number_in_book), now, qr=qr_text("BM.04", dossier, now, tz, new))
    _title(pdf, "PHIẾU XIN LỖI VÀ HẸN LẠI NGÀY TRẢ KẾT QUẢ")
    _runs(pdf, (f"Ngày {received:%d/%m/%Y}, {unit_name} tiếp nhận giải quyết hồ sơ của Ông/Bà ", ""),
          (name, "B"), (".", ""))
    _field(pdf, "Nội dung yêu cầu giải quyết", dossier.procedure_name)
    _field(pdf, "Mã hồ sơ", dossier.code)
    old = dmy_hm(_local(dossier.appointment_at, tz)) if dossier.appointment_at else ""
    _field(pdf, "Thời gian hẹn trả kết quả giải quyết hồ sơ", old)
    _para(pdf, f"Tuy nhiên đến nay, {unit_name} chưa trả kết quả giải quyết hồ sơ của Ông/Bà đúng hạn, "
               "vì lý do:")
    _para(pdf, pdf.txt(reason, multiline=True) or "……………………………………", "B", align=Align.L, indent=5)
    _runs(pdf, (f"Sự chậm trễ này đã gây phiền hà, tốn kém chi phí đi lại của Ông/Bà. {unit_name} "
                "xin lỗi Ông/Bà và sẽ trả kết quả giải quyết hồ sơ cho Ông/Bà vào lúc ", ""),
          (dmy_hm(new), "B"), (".", ""), align=Align.J)
    _para(pdf, "Xin trân trọng cảm ơn!", "I")
    _signatures(pdf, [("", "", ""), (pdf.txt(signer_title).upper(), "(Ký, ghi rõ họ tên và đóng dấu)",
                                     signer_name)])
    return _finish(pdf)
