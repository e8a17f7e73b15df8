"""Report exports: XLSX (openpyxl), CSV and PDF (fpdf2), from one list of tables.

What a person reads is the same in the page and in every export: names in Vietnamese
alphabetical order (``textsort.vi_key``: Đ after D), rating levels best to worst with
"Không đánh giá" last, and figures rounded half up (``textsort.round_half_up``: minutes
and percentages to one decimal). The CSV is for a Vietnamese-locale spreadsheet: UTF-8
with a BOM, ``;`` between fields and ``,`` before decimals (a Vietnamese Excel reads ``,``
as the decimal mark, so a comma-separated file would split "2,3" in two); the reports page
says so beside the link.

Every text cell goes through :func:`safe_cell`: a text a spreadsheet would evaluate (it
starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return) gets a leading
apostrophe, so a counter or clerk named ``=HYPERLINK(...)`` stays a name (CSV / formula
injection). Numbers stay numbers. Labels are Vietnamese msgids marked with ``N_``; the
caller passes ``translate`` (the web layer's ``gettext``).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from onestop.ratings import scales
from onestop.textsort import round_half_up, vi_key

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
Translate = Callable[[str], str]


def N_(text: str) -> str:
    """Mark a text for the translation catalogue without translating it here."""
    return text


def safe_cell(value: Any) -> Any:
    """The value as a spreadsheet cell: texts that would be taken for a formula get a
    leading apostrophe; numbers and None pass unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


@dataclass(frozen=True)
class Column:
    label: str  # msgid
    key: str
    kind: str = "int"  # int, minutes, share, text


@dataclass(frozen=True)
class Table:
    title: str  # already translated
    columns: Sequence[Column]
    rows: Sequence[Sequence[Any]]


TICKET_COLUMNS: tuple[Column, ...] = (
    Column(N_("Số phiếu cấp"), "issued"), Column(N_("Đã phục vụ"), "served"),
    Column(N_("Vắng mặt"), "missed"), Column(N_("Chuyển"), "transferred"),
    Column(N_("Chờ TB (phút)"), "avg_wait_minutes", "minutes"),
    Column(N_("Chờ P90 (phút)"), "p90_wait_minutes", "minutes"),
    Column(N_("Phục vụ TB (phút)"), "avg_service_minutes", "minutes"),
    Column(N_("Phục vụ P90 (phút)"), "p90_service_minutes", "minutes"),
    Column(N_("Tỷ lệ chờ đạt chuẩn"), "service_level", "share"),
)
BREAKDOWNS = (("service", N_("Theo lĩnh vực"), N_("Lĩnh vực")),
              ("counter", N_("Theo quầy"), N_("Quầy")),
              ("clerk", N_("Theo cán bộ"), N_("Cán bộ")))
DOSSIER_ROWS = (("received", N_("Hồ sơ tiếp nhận")), ("finished", N_("Hồ sơ đã có kết quả")),
                ("early", N_("Trước hạn")), ("on_time", N_("Đúng hạn")), ("late", N_("Trễ hạn")),
                ("on_time_rate", N_("Tỷ lệ đúng hạn")), ("overdue", N_("Đang quá hạn")),
                ("apologies", N_("Phiếu xin lỗi đã phát hành")))
BOOKING_COLUMNS = (Column(N_("Đặt lịch hẹn"), "made"), Column(N_("Đã đến"), "checked_in"),
                   Column(N_("Không đến"), "no_show"), Column(N_("Đã huỷ"), "cancelled"),
                   Column(N_("Lấy số trực tuyến"), "remote_tickets"))
ARRIVAL_ROWS = (("booked", N_("Công dân đặt lịch hẹn")), ("walk_in", N_("Công dân đến trực tiếp")),
                ("remote", N_("Công dân lấy số trực tuyến")))
WEEKDAYS = (N_("Thứ Hai"), N_("Thứ Ba"), N_("Thứ Tư"), N_("Thứ Năm"), N_("Thứ Sáu"),
            N_("Thứ Bảy"), N_("Chủ nhật"))


def level_order() -> list[str]:
    """Every rating level code, best to worst (the five-level scale holds the three-level
    one's codes in the same order), then ``not_rated``."""
    codes: list[str] = []
    for scale in sorted(scales.SCALES.values(), key=len, reverse=True):
        codes += [level.code for level in scale if level.code not in codes]
    return [*codes, scales.NOT_RATED]


def ordered_levels(by_level: dict[str, int]) -> dict[str, int]:
    """``by_level`` in :func:`level_order` (unknown codes after, as found)."""
    order = level_order()
    rank = {code: i for i, code in enumerate(order)}
    return {code: by_level[code] for code in sorted(by_level, key=lambda c: rank.get(c, len(order)))}


def tables(report: dict[str, Any], names: dict[str, dict[int, str]], level_labels: dict[str, str],
           translate: Translate) -> list[Table]:
    """The report as tables: summary, one per breakdown, ratings, dossiers, heat map."""
    t = translate
    out = [Table(t(N_("Tổng hợp")), [Column(t(N_("Toàn đơn vị")), "name", "text"),
                                     *(Column(t(c.label), c.key, c.kind) for c in TICKET_COLUMNS)],
                 [[report["unit"]["name"], *_values(report["summary"])]])]
    for dim, title, head in BREAKDOWNS:
        rows = [[names.get(dim, {}).get(int(key), f"#{key}"), *_values(figures)]
                for key, figures in report["breakdown"][dim].items()]
        rows.sort(key=lambda r: vi_key(str(r[0])))
        out.append(Table(t(title), [Column(t(head), "name", "text"),
                                    *(Column(t(c.label), c.key, c.kind) for c in TICKET_COLUMNS)],
                         rows))
    ratings = report["ratings"]
    rating_rows: list[list[Any]] = [[level_labels.get(code, code), n]
                                    for code, n in ordered_levels(ratings["by_level"]).items()]
    rating_rows.append([t(N_("Tỷ lệ hài lòng")), ratings["satisfaction_rate"]])
    out.append(Table(t(N_("Đánh giá mức độ hài lòng")),
                     [Column(t(N_("Mức đánh giá")), "level", "text"), Column(t(N_("Số lượt")), "n", "mixed")],
                     rating_rows))
    if report.get("dossiers"):
        dossiers = report["dossiers"]
        out.append(Table(t(N_("Hồ sơ")), [Column(t(N_("Chỉ tiêu")), "name", "text"),
                                          Column(t(N_("Số lượng")), "n", "mixed")],
                         [[t(label), dossiers.get(key)] for key, label in DOSSIER_ROWS]))
    out += _booking_tables(report, names, t)
    heat_cols = [Column(t(N_("Ngày")), "day", "text"),
                 *(Column(f"{h}h", str(h)) for h in range(24))]
    out.append(Table(t(N_("Số phiếu cấp theo giờ")), heat_cols,
                     [[t(day), *report["heatmap"][i]] for i, day in enumerate(WEEKDAYS)]))
    return out


def _booking_tables(report: dict[str, Any], names: dict[str, dict[int, str]], t: Translate) -> list[Table]:
    """Bookings and numbers from a phone per day and field, then the waits by arrival."""
    out = []
    bookings = report.get("bookings")
    if bookings is not None:
        fields = names.get("service", {})
        rows = [[_dmy(row["date"]), fields.get(int(row["service_id"]), f"#{row['service_id']}"),
                 *(row.get(c.key) for c in BOOKING_COLUMNS)] for row in bookings["daily"]]
        out.append(Table(t(N_("Lịch hẹn, lấy số trực tuyến")),
                         [Column(t(N_("Ngày")), "date", "text"), Column(t(N_("Lĩnh vực")), "name", "text"),
                          *(Column(t(c.label), c.key, c.kind) for c in BOOKING_COLUMNS)], rows))
    waits = report.get("waits_by_arrival") or {}
    out.append(Table(t(N_("Thời gian chờ theo cách đến")),
                     [Column(t(N_("Cách đến")), "name", "text"), Column(t(N_("Số lượt gọi")), "count"),
                      Column(t(N_("Chờ TB (phút)")), "avg_wait_minutes", "minutes"),
                      Column(t(N_("Chờ P90 (phút)")), "p90_wait_minutes", "minutes")],
                     [[t(label), *(waits.get(key, {}).get(k) for k in ("count", "avg_wait_minutes",
                                                                      "p90_wait_minutes"))]
                      for key, label in ARRIVAL_ROWS]))
    return out


def _dmy(iso: str) -> str:
    return f"{iso[8:10]}/{iso[5:7]}/{iso[:4]}"


def _values(figures: dict[str, Any]) -> list[Any]:
    return [figures.get(c.key) for c in TICKET_COLUMNS]


def _kind(column: Column, value: Any) -> str:
    if column.kind == "mixed":
        return "share" if isinstance(value, float) else "int"
    return column.kind


def xlsx(title: str, subtitle: str, parts: Sequence[Table]) -> bytes:
    """One sheet per table, a title and subtitle on each; numbers stay numbers."""
    from openpyxl import Workbook
    from openpyxl.styles import Font, PatternFill
    from openpyxl.utils import get_column_letter

    book = Workbook()
    book.remove(book.active)  # type: ignore[arg-type]
    used: set[str] = set()
    for part in parts:
        name = _sheet_name(part.title, used)
        sheet = book.create_sheet(name)
        sheet.append([safe_cell(title)])
        sheet.append([safe_cell(subtitle)])
        sheet.append([safe_cell(part.title)])
        sheet.append([safe_cell(c.label) for c in part.columns])
        sheet["A1"].font = Font(bold=True, size=14)
        for col in range(1, len(part.columns) + 1):
            cell = sheet.cell(row=4, column=col)
            cell.font = Font(bold=True)
            cell.fill = PatternFill("solid", fgColor="E8EEF4")
        sheet.column_dimensions["A"].width = 32
        for col in range(2, len(part.columns) + 1):
            sheet.column_dimensions[get_column_letter(col)].width = 14
        for row in part.rows:
            sheet.append([safe_cell(shown_value(c, v)) for c, v in zip(part.columns, row, strict=True)])
            for col, (column, value) in enumerate(zip(part.columns, row, strict=True), start=1):
                kind = _kind(column, value)
                if kind == "share" and value is not None:
                    sheet.cell(row=sheet.max_row, column=col).number_format = "0.0%"
                elif kind == "minutes" and value is not None:
                    sheet.cell(row=sheet.max_row, column=col).number_format = "0.0"
        sheet.freeze_panes = "B5"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _sheet_name(title: str, used: set[str]) -> str:
    base = "".join(c for c in title if c not in "[]:*?/\\")[:28] or "Sheet"
    name, n = base, 2
    while name in used:
        name, n = f"{base[:26]} {n}", n + 1
    used.add(name)
    return name


CSV_DELIMITER = ";"  # the list separator of a Vietnamese-locale spreadsheet ("," is its decimal mark)


def shown_value(column: Column, value: Any) -> Any:
    """The number as the page shows it: minutes to 0.1, a share to 0.1 % (half up); counts
    and texts unchanged. XLSX keeps it a number (its format shows the same digits)."""
    kind = _kind(column, value)
    if value is None or isinstance(value, bool) or not isinstance(value, int | float):
        return value
    if kind == "minutes":
        return round_half_up(value, 1)
    if kind == "share":
        shown = round_half_up(value * 100, 1)
        return None if shown is None else round(shown / 100, 6)
    return value


def _csv_cell(column: Column, value: Any) -> Any:
    """A CSV field: numbers with "," before decimals (the same digits as the page), shares
    as a percentage number, texts protected against formulas."""
    if value is None:
        return ""
    kind = _kind(column, value)
    if kind == "minutes" and isinstance(value, int | float):
        return number(value, 1)
    if kind == "share" and isinstance(value, int | float):
        return number(value * 100, 1) + " %"
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value).replace(".", ",")
    return safe_cell(value)


def csv_bytes(title: str, subtitle: str, parts: Sequence[Table]) -> bytes:
    """All tables in one CSV for a Vietnamese-locale spreadsheet (module docstring): UTF-8
    with a BOM, ``;`` between fields, decimal commas, one blank line between tables, each
    introduced by its title row."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=CSV_DELIMITER, lineterminator="\r\n")
    writer.writerow([safe_cell(title)])
    writer.writerow([safe_cell(subtitle)])
    for part in parts:
        writer.writerow([])
        writer.writerow([safe_cell(part.title)])
        writer.writerow([safe_cell(c.label) for c in part.columns])
        for row in part.rows:
            writer.writerow([_csv_cell(c, v) for c, v in zip(part.columns, row, strict=True)])
    return buffer.getvalue().encode("utf-8-sig")


def number(value: Any, decimals: int = 0) -> str:
    """Vietnamese number text: "." between thousands, "," before decimals; "—" for none."""
    if value is None:
        return "—"
    text = f"{round_half_up(value, decimals):,.{decimals}f}"
    return text.replace(",", " ").replace(".", ",").replace(" ", ".")


def _cell_text(column: Column, value: Any) -> str:
    kind = _kind(column, value)
    if kind == "text":
        return str(value)
    if kind == "share":
        return "—" if value is None else number(value * 100, 1) + " %"
    if kind == "minutes":
        return number(value, 1)
    return number(value)


def pdf(title: str, subtitle: str, parts: Sequence[Table], footer: str) -> bytes:
    """A4 landscape: the title, then each table (fpdf2 ``table``), in a Vietnamese font."""
    from fpdf import FPDF
    from fpdf.fonts import FontFace

    from onestop.dossiers.fonts import charset, find_pdf_fonts

    fonts = find_pdf_fonts()
    drawable = charset(fonts.regular) & charset(fonts.bold)

    def clean(value: str) -> str:
        return "".join(c if ord(c) in drawable else "?" for c in value.replace("\n", " "))

    doc = FPDF(orientation="L", unit="mm", format="A4")
    doc.add_font("Report", "", fonts.regular)
    doc.add_font("Report", "B", fonts.bold)
    doc.set_title(clean(title))
    doc.set_creator("onestop")
    doc.set_auto_page_break(True, margin=12)
    doc.add_page()
    doc.set_font("Report", "B", 14)
    doc.multi_cell(0, 7, clean(title), new_x="LMARGIN", new_y="NEXT")
    doc.set_font("Report", "", 10)
    doc.multi_cell(0, 5, clean(subtitle), new_x="LMARGIN", new_y="NEXT")
    for part in parts:
        wide = len(part.columns) > 12
        if doc.will_page_break(30):  # keep a table's title with its first rows
            doc.add_page()
        doc.ln(3)
        doc.set_font("Report", "B", 11)
        doc.multi_cell(0, 6, clean(part.title), new_x="LMARGIN", new_y="NEXT")
        doc.set_font("Report", "", 6 if wide else 8)
        first = 22 if wide else 60
        rest = (doc.epw - first) / max(1, len(part.columns) - 1)
        with doc.table(col_widths=(first, *([rest] * (len(part.columns) - 1))),
                       headings_style=FontFace(emphasis="BOLD", fill_color=(232, 238, 244)),
                       line_height=4 if wide else 5,
                       text_align=tuple("LEFT" if c.kind == "text" else "RIGHT" for c in part.columns),
                       ) as table:
            table.row([clean(c.label) for c in part.columns])
            for row in part.rows:
                table.row([clean(_cell_text(c, v)) for c, v in zip(part.columns, row, strict=True)])
    doc.ln(3)
    doc.set_font("Report", "", 8)
    doc.multi_cell(0, 4, clean(footer), new_x="LMARGIN", new_y="NEXT")
    return bytes(doc.output())
