"""Import and export the procedure catalogue (thủ tục hành chính) as CSV or JSON.

Format (also in ``docs/procedures-format.md``)
----------------------------------------------

One procedure per CSV row or JSON object, with these keys:

================  ========  ===========================================================
key               required  value
================  ========  ===========================================================
code              yes       the national code (mã TTHC), e.g. ``1.001193``; at most 40
                            characters; unique within the file (the upsert key)
name              yes       the procedure's name, at most 500 characters
service_code      yes       the code of the field (lĩnh vực) of the unit, e.g. ``TPHT``
processing_days   yes       legal processing time in working days, an integer 0-3650;
                            ``0`` means within the day (trong ngày)
fee               no        free text, at most 200 characters (``Miễn phí``, ``50.000 đồng``)
documents         no        the required documents (thành phần hồ sơ): in CSV one cell
                            with the names separated by ``|``; in JSON a list of strings.
                            Each name at most 500 characters, no ``|`` inside, at most 100
================  ========  ===========================================================

CSV: UTF-8, with or without a byte-order mark; a header row naming the columns (any order,
case-insensitive); comma-separated (a semicolon-separated file, as some spreadsheet locales
save it, is recognised from its header); quoted cells may hold commas and line breaks.
JSON: UTF-8 (BOM allowed), a list of objects.

Rules: the whole file is checked before anything is written, and every problem is reported
with its line number (``dòng 7: ...``); one error and nothing is imported. Procedures are
matched on ``code`` within the unit: known ones are updated (and re-activated), new ones
created. With ``replace`` the unit's procedures missing from the file are deactivated
(hidden from the catalogue, kept for the dossiers that refer to them), never deleted.
Export writes the unit's active procedures in the same format (CSV with a BOM, so that
spreadsheet programs read the Vietnamese letters right), so export -> import is lossless.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from onestop.dossiers.models import Procedure
from onestop.queueing.models import Service
from onestop.reports.exports import FORMULA_STARTS, safe_cell
from onestop.units.models import Unit

COLUMNS = ("code", "name", "service_code", "processing_days", "fee", "documents")
REQUIRED = ("code", "name", "service_code", "processing_days")
MAX_CODE, MAX_NAME, MAX_FEE, MAX_DOC, MAX_DOCS, MAX_DAYS = 40, 500, 200, 500, 100, 3650
MAX_BYTES = 20 * 1024 * 1024
MAX_REPORTED = 50  # errors listed before "..." (a wrong file would otherwise flood the screen)
SEPARATOR = "|"


class ProcedureImportError(ValueError):
    """The file cannot be imported; ``errors`` are the line-numbered problems."""

    def __init__(self, errors: list[str], rows: list[ProcedureRow] | None = None) -> None:
        self.errors = errors
        self.rows = rows or []  # the rows that did parse (their fields are checked too)
        shown = errors[:MAX_REPORTED]
        more = len(errors) - len(shown)
        lines = shown + ([f"... và {more} lỗi khác ({more} more)"] if more else [])
        super().__init__("Không nhập được tệp, chưa có gì thay đổi (nothing imported):\n  "
                         + "\n  ".join(lines))


@dataclass
class ProcedureRow:
    line: int
    code: str
    name: str
    service_code: str
    processing_days: int
    fee: str = ""
    documents: list[str] = field(default_factory=list)


@dataclass
class ImportSummary:
    created: int = 0
    updated: int = 0
    deactivated: int = 0

    def __str__(self) -> str:
        total = self.created + self.updated
        return (f"đã nhập {total} thủ tục: {self.created} mới, {self.updated} cập nhật, "
                f"{self.deactivated} ngừng hiển thị (imported {total}: {self.created} new, "
                f"{self.updated} updated, {self.deactivated} deactivated)")


# --- reading -----------------------------------------------------------------------------


def _too_large() -> ProcedureImportError:
    return ProcedureImportError([f"tệp quá lớn (file too large, > {MAX_BYTES // 1024 // 1024} MB)"])


def _decode(data: bytes) -> str:
    if len(data) > MAX_BYTES:
        raise _too_large()
    head = data[:200]
    if head.startswith((b"\xff\xfe", b"\xfe\xff")) or (len(head) >= 4 and head.count(0) * 3 >= len(head)):
        # what spreadsheets save as "Unicode text": every other byte of a Latin letter is 0
        raise ProcedureImportError(["dòng 1: tệp mã hóa UTF-16; hãy lưu lại với mã hóa UTF-8 "
                                    "(the file is UTF-16; save it as UTF-8)"])
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise ProcedureImportError(
            [f"dòng {line}: tệp không phải UTF-8 (not UTF-8); hãy lưu lại với mã hóa UTF-8"]) from exc
    if "\x00" in text:
        line = text[:text.index("\x00")].count("\n") + 1
        raise ProcedureImportError([f"dòng {line}: tệp chứa ký tự NUL (binary file?)"])
    return text


def _text(value: Any, line: int, key: str, limit: int, errors: list[str], required: bool) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        errors.append(f"dòng {line}: {key} phải là chuỗi văn bản (must be text)")
        return ""
    value = " ".join(value.split())  # spreadsheets leave stray spaces and line breaks
    if required and not value:
        errors.append(f"dòng {line}: thiếu {key} (missing {key})")
    elif len(value) > limit:
        errors.append(f"dòng {line}: {key} dài quá {limit} ký tự (longer than {limit})")
    return value


def _days(value: Any, line: int, errors: list[str]) -> int:
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_DAYS:
        errors.append(f"dòng {line}: processing_days phải là số ngày làm việc, số nguyên từ 0 "
                      f"đến {MAX_DAYS} (an integer 0-{MAX_DAYS}), đã nhận {str(value)[:40]!r}")
        return 0
    return value


def _documents(value: Any, line: int, errors: list[str]) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, str):
        parts = value.split(SEPARATOR)
    elif isinstance(value, list) and all(isinstance(v, str) for v in value):
        if any(SEPARATOR in v for v in value):
            errors.append(f"dòng {line}: tên giấy tờ không được chứa ký tự | (no '|' in a document)")
        parts = value
    else:
        errors.append(f"dòng {line}: documents phải là danh sách chuỗi (a list of strings)")
        return []
    docs = [" ".join(p.split()) for p in parts]
    docs = [d for d in docs if d]
    if len(docs) > MAX_DOCS:
        errors.append(f"dòng {line}: quá {MAX_DOCS} giấy tờ (more than {MAX_DOCS} documents)")
    if any(len(d) > MAX_DOC for d in docs):
        errors.append(f"dòng {line}: tên giấy tờ dài quá {MAX_DOC} ký tự (document name too long)")
    return docs


def _row(record: dict[str, Any], line: int, errors: list[str]) -> ProcedureRow:
    return ProcedureRow(
        line=line,
        code=_text(record.get("code"), line, "code", MAX_CODE, errors, True),
        name=_text(record.get("name"), line, "name", MAX_NAME, errors, True),
        service_code=_text(record.get("service_code"), line, "service_code", 32, errors, True),
        processing_days=_days(record.get("processing_days"), line, errors),
        fee=_text(record.get("fee"), line, "fee", MAX_FEE, errors, False),
        documents=_documents(record.get("documents"), line, errors),
    )


def _check_keys(keys: Iterable[str], line: int, errors: list[str]) -> None:
    present = set(keys)
    unknown = sorted(present - set(COLUMNS))
    missing = [k for k in REQUIRED if k not in present]
    if unknown:
        errors.append(f"dòng {line}: cột/khóa không biết (unknown): {', '.join(unknown)}; "
                      f"dùng (use): {','.join(COLUMNS)}")
    if missing:
        errors.append(f"dòng {line}: thiếu cột/khóa (missing): {', '.join(missing)}")


def _undefused(cell: str) -> str:
    """A cell our export defused (``'=...``) reads back as it was written."""
    return cell[1:] if cell[:1] == "'" and cell[1:2] in FORMULA_STARTS and cell[1:2] else cell


def parse_csv(data: bytes) -> list[ProcedureRow]:
    """Rows of a CSV file; raises ``ProcedureImportError`` listing every problem."""
    text = _decode(data)
    first = text.split("\n", 1)[0]
    delimiter = ";" if ";" in first and "," not in first else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    errors: list[str] = []
    rows: list[ProcedureRow] = []
    try:
        header = [h.strip().lower() for h in next(reader, [])]
        if not any(header):
            raise ProcedureImportError(["dòng 1: tệp trống hoặc thiếu dòng tiêu đề (no header row)"])
        _check_keys(header, 1, errors)
        if errors:
            raise ProcedureImportError(errors)
        start = reader.line_num + 1
        for cells in reader:
            line, start = start, reader.line_num + 1
            if not any(c.strip() for c in cells):
                continue  # blank line
            if len(cells) != len(header):
                errors.append(f"dòng {line}: có {len(cells)} cột, tiêu đề có {len(header)} "
                              f"(has {len(cells)} cells, the header {len(header)})")
                continue
            cells = [_undefused(c) for c in cells]
            rows.append(_row(dict(zip(header, cells, strict=True)), line, errors))
    except csv.Error as exc:
        errors.append(f"dòng {reader.line_num}: CSV hỏng (malformed CSV): {exc}")
    return _finish(rows, errors)


def parse_json(data: bytes) -> list[ProcedureRow]:
    """Objects of a JSON list; raises ``ProcedureImportError`` listing every problem."""
    text = _decode(data)
    errors: list[str] = []
    rows: list[ProcedureRow] = []
    for line, item in _json_items(text):
        if not isinstance(item, dict):
            errors.append(f"dòng {line}: mỗi phần tử phải là một đối tượng {{...}} (an object)")
            continue
        before = len(errors)
        _check_keys(item.keys(), line, errors)
        if len(errors) == before:
            rows.append(_row(item, line, errors))
    return _finish(rows, errors)


def _json_items(text: str) -> list[tuple[int, Any]]:
    """The elements of the top-level list with the line each starts on."""
    decoder = json.JSONDecoder()
    pos = _skip_ws(text, 0)
    if not text.startswith("[", pos):
        raise ProcedureImportError([f"dòng {_line(text, pos)}: JSON phải là một danh sách [...] "
                                    "(a list of objects)"])
    items: list[tuple[int, Any]] = []
    pos = _skip_ws(text, pos + 1)
    if text.startswith("]", pos):
        return items
    while True:
        try:
            item, end = decoder.raw_decode(text, pos)
        except json.JSONDecodeError as exc:
            raise ProcedureImportError([f"dòng {exc.lineno}: JSON hỏng (malformed JSON): {exc.msg}"]) from exc
        items.append((_line(text, pos), item))
        pos = _skip_ws(text, end)
        if text.startswith(",", pos):
            pos = _skip_ws(text, pos + 1)
            continue
        if text.startswith("]", pos) and not text[pos + 1:].strip():
            return items
        raise ProcedureImportError([f"dòng {_line(text, pos)}: JSON hỏng, cần ',' hoặc ']' "
                                    "(malformed JSON: expected ',' or ']')"])


def _skip_ws(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in " \t\r\n":
        pos += 1
    return pos


def _line(text: str, pos: int) -> int:
    return text.count("\n", 0, pos) + 1


def _finish(rows: list[ProcedureRow], errors: list[str]) -> list[ProcedureRow]:
    seen: dict[str, int] = {}
    for row in rows:
        if row.code and row.code in seen:
            errors.append(f"dòng {row.line}: mã {row.code} trùng với dòng {seen[row.code]} "
                          f"(duplicate code, first on line {seen[row.code]})")
        seen.setdefault(row.code, row.line)
    if not rows and not errors:
        errors.append("tệp không có thủ tục nào (no procedures in the file)")
    if errors:
        raise ProcedureImportError(errors, rows)
    return rows


def parse_file(path: Path, data: bytes | None = None) -> list[ProcedureRow]:
    """Rows of ``path`` (``.csv`` or ``.json``, by its extension)."""
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".json"):
        raise ProcedureImportError([f"{path.name}: cần tệp .csv hoặc .json (expected .csv or .json)"])
    if data is None and path.stat().st_size > MAX_BYTES:  # refuse before reading it into memory
        raise _too_large()
    raw = path.read_bytes() if data is None else data
    return parse_csv(raw) if suffix == ".csv" else parse_json(raw)


# --- writing to the database -------------------------------------------------------------


def import_rows(session: Session, unit: Unit, rows: list[ProcedureRow], *,
                replace: bool = False) -> ImportSummary:
    """Upsert ``rows`` into ``unit``'s catalogue (all or nothing: every check runs first).

    Only ``flush()``es; the caller commits. With ``replace``, the unit's procedures missing
    from ``rows`` are deactivated.
    """
    services = _services(session, unit)
    errors = _field_errors(services, unit, rows)
    if errors:
        raise ProcedureImportError(errors)
    existing = {p.code: p for p in session.scalars(select(Procedure).where(Procedure.unit_id == unit.id))}
    summary = ImportSummary()
    for row in rows:
        procedure = existing.get(row.code)
        if procedure is None:
            procedure = Procedure(unit_id=unit.id, code=row.code)
            session.add(procedure)
            summary.created += 1
        else:
            summary.updated += 1
        procedure.name = row.name
        procedure.service_id = services[row.service_code].id
        procedure.processing_days = row.processing_days
        procedure.fee = row.fee
        procedure.documents = list(row.documents)
        procedure.active = True
        procedure.refresh_search()
    if replace:
        codes = {r.code for r in rows}
        for code, procedure in existing.items():
            if code not in codes and procedure.active:
                procedure.active = False
                summary.deactivated += 1
    session.flush()
    return summary


def _services(session: Session, unit: Unit) -> dict[str, Service]:
    return {s.code: s for s in session.scalars(select(Service).where(Service.unit_id == unit.id))}


def _field_errors(services: dict[str, Service], unit: Unit, rows: list[ProcedureRow]) -> list[str]:
    known = ", ".join(sorted(services)) or "-"
    return [f"dòng {r.line}: không có lĩnh vực mã {r.service_code!r} trong đơn vị {unit.code} "
            f"(unknown service_code; known: {known})"
            for r in rows if r.service_code and r.service_code not in services]


def import_file(session: Session, unit: Unit, path: Path, *, replace: bool = False) -> ImportSummary:
    """Parse ``path`` and import it; every problem (format and unknown fields) is reported at
    once, in line order."""
    try:
        rows = parse_file(path)
    except ProcedureImportError as error:
        extra = _field_errors(_services(session, unit), unit, error.rows)
        if not extra:
            raise
        errors = sorted(error.errors + extra, key=_line_of)
        raise ProcedureImportError(errors) from error
    return import_rows(session, unit, rows, replace=replace)


def _line_of(message: str) -> int:
    head = message.split(":", 1)[0]
    return int(head[5:]) if head.startswith("dòng ") and head[5:].isdigit() else 0


def export_rows(session: Session, unit: Unit) -> list[dict[str, Any]]:
    """The unit's active procedures as dicts with the import keys."""
    services = {s.id: s.code for s in session.scalars(select(Service).where(Service.unit_id == unit.id))}
    query = select(Procedure).where(Procedure.unit_id == unit.id, Procedure.active.is_(True))
    return [{"code": p.code, "name": p.name, "service_code": services.get(p.service_id or 0, ""),
             "processing_days": p.processing_days, "fee": p.fee or "",
             "documents": [str(d) for d in (p.documents or [])]}
            for p in session.scalars(query.order_by(Procedure.id))]


def to_csv(rows: list[dict[str, Any]]) -> bytes:
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for row in rows:
        cells = [row["code"], row["name"], row["service_code"], row["processing_days"],
                 row["fee"], SEPARATOR.join(d.replace(SEPARATOR, "/") for d in row["documents"])]
        writer.writerow([safe_cell(cell) for cell in cells])  # opened in a spreadsheet
    return out.getvalue().encode("utf-8-sig")


def to_json(rows: list[dict[str, Any]]) -> bytes:
    return (json.dumps(rows, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def export_file(session: Session, unit: Unit, path: Path) -> int:
    """Write the catalogue to ``path`` (format by extension); returns the number written."""
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".json"):
        raise ProcedureImportError([f"{path.name}: cần tệp .csv hoặc .json (expected .csv or .json)"])
    rows = export_rows(session, unit)
    path.write_bytes(to_csv(rows) if suffix == ".csv" else to_json(rows))
    return len(rows)
