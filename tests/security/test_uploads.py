"""Hostile procedure-catalogue uploads: wrong encodings, huge files, malformed rows.

Each bad file must be refused with a message that names the line, and leave the catalogue
exactly as it was (all or nothing): through ``procedures_io.import_file`` and through the
command ``onestop procedures import``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from onestop import demo, procedures_io
from onestop.cli import main
from onestop.db import Database, make_engine
from onestop.dossiers.models import Procedure
from onestop.units.models import Unit

HEADER = "code,name,service_code,processing_days,fee,documents\r\n"
GOOD = "9.000001,Cấp bản sao trích lục hộ tịch,TPHT,1,8.000 đồng,Tờ khai|Giấy tờ tùy thân\r\n"


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Path, Database]]:
    """The demo centre (with its sixteen procedures) in an SQLite file the CLI also reaches."""
    monkeypatch.setenv("ONESTOP_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("ONESTOP_DATABASE_URL", raising=False)
    assert CliRunner().invoke(main, ["db", "upgrade"]).exit_code == 0
    database = Database()
    database.engine = make_engine(f"sqlite:///{tmp_path / 'onestop.sqlite3'}")
    database.session_factory.configure(bind=database.engine)
    with database.transaction() as session:
        demo.load(session)
    yield tmp_path, database
    database.engine.dispose()


def snapshot(database: Database) -> list[tuple[Any, ...]]:
    with database.transaction() as session:
        return [(p.code, p.name, p.service_id, p.processing_days, p.fee, list(p.documents), p.active)
                for p in session.scalars(select(Procedure).order_by(Procedure.id))]


def import_direct(database: Database, path: Path) -> str:
    """The error message of importing ``path`` in one transaction (rolled back on error)."""
    with pytest.raises(procedures_io.ProcedureImportError) as caught, database.transaction() as session:
        unit = session.scalars(select(Unit)).one()
        procedures_io.import_file(session, unit, path, replace=True)
    return str(caught.value)


def import_cli(path: Path) -> str:
    result = CliRunner().invoke(main, ["procedures", "import", str(path), "--replace"])
    assert result.exit_code != 0, result.output
    return result.output


def refused_everywhere(env: tuple[Path, Database], name: str, data: bytes, *expected: str) -> None:
    """Both entrances refuse the file, say each ``expected`` text, and change nothing."""
    tmp_path, database = env
    path = tmp_path / name
    path.write_bytes(data)
    before = snapshot(database)
    for message in (import_direct(database, path), import_cli(path)):
        assert "nothing imported" in message
        for text in expected:
            assert re.search(text, message), f"{text!r} not in:\n{message}"
        assert snapshot(database) == before


VIETNAMESE = (HEADER + GOOD + "9.000002,Đăng ký giám hộ,TPHT,3,Miễn phí,Tờ khai đăng ký giám hộ\r\n")


@pytest.mark.parametrize(("encoding", "line"), [("cp1258", 2), ("latin-1", 2)])
def test_legacy_eight_bit_encodings_name_the_first_bad_line(env, encoding, line):
    # cp1258 (Windows Vietnamese) writes ấ as a base letter plus a combining byte; latin-1 has
    # none of the Vietnamese letters, so a spreadsheet replaced them: either way not UTF-8
    text = VIETNAMESE if encoding == "cp1258" else VIETNAMESE.replace("ấ", "a").replace("ộ", "o")
    data = text.encode(encoding, errors="replace")
    refused_everywhere(env, "catalogue.csv", data, rf"dòng {line}: tệp không phải UTF-8")


def test_utf16_with_and_without_its_byte_order_mark(env):
    for codec in ("utf-16", "utf-16-le", "utf-16-be"):
        refused_everywhere(env, "catalogue.csv", VIETNAMESE.encode(codec), "dòng 1: tệp mã hóa UTF-16",
                           "save it as UTF-8")
    refused_everywhere(env, "catalogue.json", json.dumps([{"code": "1"}]).encode("utf-16"),
                       "dòng 1: tệp mã hóa UTF-16")


def test_a_utf8_byte_order_mark_is_welcome(env):
    tmp_path, database = env
    path = tmp_path / "bom.csv"
    path.write_bytes(VIETNAMESE.encode("utf-8-sig"))
    with database.transaction() as session:
        unit = session.scalars(select(Unit)).one()
        summary = procedures_io.import_file(session, unit, path)
    assert summary.created == 2
    names = {row[0]: row[1] for row in snapshot(database)}
    assert names["9.000001"] == "Cấp bản sao trích lục hộ tịch"


def test_a_huge_file_is_refused_before_it_is_read(env, monkeypatch):
    tmp_path, database = env
    path = tmp_path / "huge.csv"
    with path.open("wb") as out:  # a sparse file: 3 GB on paper, nothing on disk
        out.write(HEADER.encode())
        out.truncate(3 * 1024**3)
    read = Path.read_bytes
    monkeypatch.setattr(Path, "read_bytes", lambda self: pytest.fail(f"read {self} whole")
                        if self == path else read(self))
    before = snapshot(database)
    for message in (import_direct(database, path), import_cli(path)):
        assert "tệp quá lớn" in message and "file too large" in message
    assert snapshot(database) == before


def test_just_over_the_limit_is_refused_too(env, monkeypatch):
    monkeypatch.setattr(procedures_io, "MAX_BYTES", 4096)
    rows = "".join(f"9.{i:06d},Thủ tục số {i},TPHT,1,,\r\n" for i in range(200))
    refused_everywhere(env, "big.csv", (HEADER + rows).encode(), "tệp quá lớn")


def test_malformed_rows_are_all_listed_by_line_and_nothing_is_imported(env):
    rows = (HEADER + GOOD                                    # line 2: fine
            + "9.000003,Thiếu cột,TPHT,1\r\n"                # line 3: four cells
            + "9.000004,Số ngày sai,TPHT,mười,,\r\n"         # line 4: not a number
            + "9.000005,Số ngày âm,TPHT,-1,,\r\n"            # line 5: negative
            + "9.000001,Trùng mã,TPHT,1,,\r\n"               # line 6: duplicate of line 2
            + "9.000007,Lĩnh vực lạ,XYZ,1,,\r\n"             # line 7: unknown field
            + ",Không có mã,TPHT,1,,\r\n"                    # line 8: no code
            + "9.000009," + "X" * 501 + ",TPHT,1,,\r\n")     # line 9: name too long
    refused_everywhere(env, "bad.csv", rows.encode(),
                       r"dòng 3: có 4 cột", r"dòng 4: processing_days", r"dòng 5: processing_days",
                       r"dòng 6: mã 9\.000001 trùng với dòng 2", r"dòng 7: .*XYZ",
                       r"dòng 8: thiếu code", r"dòng 9: name dài quá 500")


def test_missing_and_unknown_columns_in_the_header(env):
    refused_everywhere(env, "cols.csv", b"code,name,processing_days,comment\r\n1,A,1,x\r\n",
                       "dòng 1: cột/khóa không biết.*comment", "dòng 1: thiếu cột/khóa.*service_code")


def test_a_broken_quote_names_its_line(env):
    data = (HEADER + GOOD + '9.000002,"Không đóng ngoặc,TPHT,1,,\r\n').encode()
    refused_everywhere(env, "quote.csv", data, r"dòng \d+: ")


def test_malformed_json_names_its_line(env):
    good = {"code": "9.000001", "name": "Thủ tục", "service_code": "TPHT", "processing_days": 1}
    text = "[\n" + json.dumps(good, ensure_ascii=False) + ",\n" + '{"code": "9.2", "name": }\n]'
    refused_everywhere(env, "bad.json", text.encode(), "dòng 3: JSON hỏng")
    rows = [good, {**good, "code": "9.000002", "processing_days": "3 ngày"}, [1, 2], {**good}]
    text = "[\n" + ",\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n]"
    refused_everywhere(env, "rows.json", text.encode(), "dòng 3: processing_days",
                       r"dòng 4: mỗi phần tử", r"dòng 5: mã 9\.000001 trùng với dòng 2")


def test_binary_and_empty_files(env):
    refused_everywhere(env, "image.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "dòng 1: ")
    refused_everywhere(env, "empty.csv", b"", "dòng 1: tệp trống")
    refused_everywhere(env, "only-header.csv", HEADER.encode(), "không có thủ tục nào")
    refused_everywhere(env, "catalogue.xlsx", b"PK\x03\x04", r"\.csv hoặc \.json")
