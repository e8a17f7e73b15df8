"""The tracking book (sổ theo dõi hồ sơ): one volume per field and year, in line order.

``book_rows`` reads the book of one field (or of every field) for a year; ``book_xlsx``
writes it as an Excel workbook with openpyxl. Texts are Vietnamese, marked with ``N_`` for
the catalogue; the caller passes ``translate`` (the web layer's ``gettext``). Any text cell
that a spreadsheet would take for a formula (it starts with ``=``, ``+``, ``-``, ``@``, a tab
or a carriage return) is written with a leading apostrophe, so that a name such as
``=HYPERLINK(...)`` typed at the desk stays a name (CSV/formula injection).
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, selectinload

from onestop.dossiers.engine import is_overdue
from onestop.dossiers.models import Dossier
from onestop.reports.exports import FORMULA_STARTS, safe_cell  # noqa: F401 - one rule
from onestop.units.models import Unit


def N_(text: str) -> str:
    """Mark a text for the translation catalogue without translating it here."""
    return text


STATE_LABELS: dict[str, str] = {
    "received": N_("Đã tiếp nhận"),
    "processing": N_("Đang giải quyết"),
    "supplement_requested": N_("Chờ bổ sung"),
    "ready": N_("Đã có kết quả"),
    "returned": N_("Đã trả kết quả"),
    "rejected": N_("Từ chối"),
    "withdrawn": N_("Đã rút"),
}
OVERDUE = N_("Quá hạn")
LATE = N_("Trả trễ hạn")
COLUMNS: tuple[tuple[str, float], ...] = (
    (N_("Quyển số"), 14), (N_("Số thứ tự"), 9), (N_("Mã hồ sơ"), 24), (N_("Người nộp hồ sơ"), 26),
    (N_("Thủ tục hành chính"), 44), (N_("Ngày tiếp nhận"), 17), (N_("Ngày hẹn trả kết quả"), 17),
    (N_("Trạng thái"), 17), (N_("Ngày trả kết quả"), 17), (N_("Quá hạn"), 13),
)
DATE_FORMAT = "DD/MM/YYYY HH:MM"
PAGE_SIZE = 50  # lines per page of the book page


@dataclass(frozen=True)
class BookRow:
    """One line of the book; times are the unit's local time."""

    volume: str
    line: int
    code: str
    applicant: str
    on_behalf_of: str
    procedure: str
    received_at: dt.datetime
    due_at: dt.datetime
    rescheduled: bool
    state: str
    returned_at: dt.datetime | None
    overdue: bool  # still with the office and past the appointment in force
    late: bool  # the result came after the appointment in force

    @property
    def flag(self) -> str:
        """The untranslated overdue mark: ``Quá hạn``, ``Trả trễ hạn`` or nothing."""
        return OVERDUE if self.overdue else LATE if self.late else ""


def _late(dossier: Dossier) -> bool:
    done = dossier.ready_at or (dossier.closed_at if dossier.state == "returned" else None)
    return done is not None and done > dossier.due_at


def book_row(dossier: Dossier, unit: Unit, now: dt.datetime) -> BookRow:
    returned = dossier.closed_at if dossier.state == "returned" else None
    return BookRow(
        volume=dossier.book_volume, line=dossier.book_line, code=dossier.code,
        applicant=dossier.applicant_name, on_behalf_of=dossier.on_behalf_of,
        procedure=dossier.procedure.name, received_at=unit.local(dossier.received_at),
        due_at=unit.local(dossier.due_at), rescheduled=dossier.new_appointment_at is not None,
        state=dossier.state, returned_at=unit.local(returned) if returned else None,
        overdue=is_overdue(dossier, now), late=not is_overdue(dossier, now) and _late(dossier),
    )


def _book_query(unit: Unit, year: int, service_id: int | None,
                found: Select[Dossier] | None = None) -> Select[Dossier]:
    """The book's lines; ``found``: only those among the dossier desk's search results
    (``onestop.dossiers.search.search_query``), the same search on both pages."""
    query = found if found is not None else select(Dossier).where(Dossier.unit_id == unit.id)
    query = query.where(Dossier.book_year == year)
    if service_id is not None:
        query = query.where(Dossier.service_id == service_id)
    return query


def book_rows(session: Session, unit: Unit, *, year: int, service_id: int | None,
              now: dt.datetime) -> list[BookRow]:
    """The book of ``year`` for one field (``service_id``), or every field when ``None``,
    in book order (volume, then line)."""
    query = _book_query(unit, year, service_id).options(selectinload(Dossier.procedure))
    dossiers = session.scalars(query.order_by(Dossier.book_volume, Dossier.book_line))
    return [book_row(d, unit, now) for d in dossiers]


def book_count(session: Session, unit: Unit, *, year: int, service_id: int | None,
               found: Select[Dossier] | None = None) -> int:
    """How many lines the book of ``year`` (one field, or every field) holds."""
    query = _book_query(unit, year, service_id, found).with_only_columns(func.count(Dossier.id))
    return int(session.scalar(query) or 0)


def book_page(session: Session, unit: Unit, *, year: int, service_id: int | None, now: dt.datetime,
              page: int, per_page: int = PAGE_SIZE, found: Select[Dossier] | None = None) -> list[BookRow]:
    """Lines ``(page - 1) * per_page + 1`` ... of the book (pages count from 1), in book order:
    a year of a busy centre is thousands of lines, too many for one page."""
    query = (_book_query(unit, year, service_id, found).options(selectinload(Dossier.procedure))
             .order_by(Dossier.book_volume, Dossier.book_line)
             .offset((max(page, 1) - 1) * per_page).limit(per_page))
    return [book_row(d, unit, now) for d in session.scalars(query)]


def book_years(session: Session, unit: Unit) -> list[int]:
    """Years that have a book, newest first."""
    years = session.scalars(select(Dossier.book_year).where(Dossier.unit_id == unit.id).distinct())
    return sorted((int(y) for y in years), reverse=True)


def defuse(value: Any) -> Any:
    """A text that a spreadsheet would evaluate gets a leading apostrophe; others pass. One
    rule for every export: :func:`onestop.reports.exports.safe_cell`."""
    return safe_cell(value)


def _naive(when: dt.datetime | None) -> dt.datetime | None:
    """Excel has no time zones: the local wall-clock time."""
    return when.replace(tzinfo=None) if when else None


def _cells(row: BookRow, translate: Callable[[str], str]) -> list[Any]:
    applicant = row.applicant + (f" ({row.on_behalf_of})" if row.on_behalf_of else "")
    flag = translate(row.flag) if row.flag else ""
    return [row.volume, row.line, row.code, applicant, row.procedure, _naive(row.received_at),
            _naive(row.due_at), translate(STATE_LABELS.get(row.state, row.state)),
            _naive(row.returned_at), flag]


def book_xlsx(rows: Sequence[BookRow], *, title: str, subtitle: str = "",
              translate: Callable[[str], str] = N_) -> bytes:
    """The book as an .xlsx workbook: a title, the unit, then one table with a header row."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = translate(N_("Sổ theo dõi hồ sơ"))[:31]
    sheet.append([defuse(title)])
    sheet.append([defuse(subtitle)])
    sheet.append([])
    sheet.append([translate(name) for name, _width in COLUMNS])
    sheet["A1"].font = Font(bold=True, size=14)
    header = 4
    for col, (_name, width) in enumerate(COLUMNS, start=1):
        cell = sheet.cell(row=header, column=col)
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="E8EEF4")
        cell.alignment = Alignment(wrap_text=True, vertical="center")
        sheet.column_dimensions[get_column_letter(col)].width = width
    last = header  # counted here: sheet.max_row scans every row, quadratic inside this loop
    for row in rows:
        sheet.append([defuse(v) for v in _cells(row, translate)])
        last += 1
        for col in (6, 7, 9):
            sheet.cell(row=last, column=col).number_format = DATE_FORMAT
    sheet.freeze_panes = sheet.cell(row=header + 1, column=1)
    sheet.auto_filter.ref = f"A{header}:{get_column_letter(len(COLUMNS))}{last}"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def xlsx_job(url: str, unit_id: int, *, year: int, service_id: int | None, now: dt.datetime,
             locale: str, title: str, subtitle: str) -> tuple[int, bytes]:
    """(lines, workbook) of the book, for :func:`onestop.offload.run_offloaded`: read through
    its own read-only connection and written in a worker process (thousands of lines are
    seconds of CPU, which the server's event loop must not spend)."""
    from onestop import offload
    from onestop.reports.queries import reading

    with reading(offload.engine(url)) as conn:
        session = Session(bind=conn)
        unit = session.get(Unit, unit_id)
        assert unit is not None
        rows = book_rows(session, unit, year=year, service_id=service_id, now=now)
    return len(rows), book_xlsx(rows, title=title, subtitle=subtitle, translate=offload.translator(locale))
