"""The procedure catalogue: upload (all or nothing, line-numbered errors) and export."""

from __future__ import annotations

import io
import json
from typing import Any

from sqlalchemy import func, select

from onestop.dossiers.models import Procedure
from tests.api.helpers import in_db
from tests.backoffice.conftest import assert_audited, audit_count, signed_in, submit, text_of

GOOD_CSV = ("code,name,service_code,processing_days,fee,documents\n"
            "9.000001,Cấp bản sao trích lục hộ tịch,TPHT,1,8.000 đồng,Tờ khai|Giấy tờ tùy thân\n"
            "1.001193,Đăng ký khai sinh (sửa),TPHT,0,Miễn phí,Tờ khai\n")
BAD_CSV = ("code,name,service_code,processing_days,fee,documents\n"
           "9.000002,Thủ tục đúng,TPHT,3,,\n"
           "9.000003,Thủ tục sai,TPHT,ba ngày,,\n"
           "9.000004,Lĩnh vực lạ,XYZ,2,,\n")


def procedures(app: Any) -> list[tuple[Any, ...]]:
    with in_db(app) as session:
        return [(p.code, p.name, p.active) for p in session.scalars(select(Procedure).order_by(Procedure.id))]


def upload(admin: Any, name: str, body: str, **extra: Any) -> Any:
    return submit(admin, "/admin/procedures",
                  {"file": (io.BytesIO(body.encode("utf-8")), name), **extra},
                  content_type="multipart/form-data")


def test_import_and_export(app):
    admin = signed_in(app, "admin")
    with in_db(app) as session:
        active = session.scalar(select(func.count()).select_from(Procedure).where(Procedure.active))
    res = upload(admin, "danh-muc.csv", GOOD_CSV)
    assert res.status_code == 302
    flash = "Đã nhập 2 thủ tục: 1 mới, 1 cập nhật, 0 ngừng hiển thị."
    assert flash in text_of(admin.get("/admin/procedures"))
    entry = assert_audited(app, admin, "procedure", "import", file="danh-muc.csv", created=1, updated=1,
                           deactivated=0, active=active + 1)
    assert entry.before == {"active": active}
    assert ("9.000001", "Cấp bản sao trích lục hộ tịch", True) in procedures(app)
    exported = admin.get("/admin/procedures/export.json")
    assert exported.status_code == 200 and "attachment" in exported.headers["Content-Disposition"]
    rows = {r["code"]: r for r in json.loads(exported.get_data(as_text=True))}
    assert rows["9.000001"]["documents"] == ["Tờ khai", "Giấy tờ tùy thân"]
    csv_text = admin.get("/admin/procedures/export.csv").get_data().decode("utf-8-sig")
    assert "9.000001,Cấp bản sao trích lục hộ tịch,TPHT,1" in csv_text


def test_replace_deactivates_the_others(app):
    admin = signed_in(app, "admin")
    assert upload(admin, "chi-hai.csv", GOOD_CSV, replace="y").status_code == 302
    assert {code for code, _n, active in procedures(app) if active} == {"9.000001", "1.001193"}


def test_a_malformed_file_imports_nothing_and_says_where(app):
    admin = signed_in(app, "admin")
    before, audits = procedures(app), audit_count(app)
    res = upload(admin, "loi.csv", BAD_CSV)
    assert res.status_code == 422
    page = text_of(res)
    assert "Không nhập được tệp, chưa có gì thay đổi." in page
    assert "dòng 3:" in page and "dòng 4:" in page and "XYZ" in page
    assert "dòng 2:" not in page
    res = upload(admin, "loi.json",
                 '[{"code": "1", "name": "x", "service_code": "TPHT",\n "processing_days": 1},\n {]')
    assert res.status_code == 422 and "dòng 3:" in text_of(res)
    res = upload(admin, "anh.png", "not a catalogue")
    assert res.status_code == 422 and "Cần tệp .csv hoặc .json." in text_of(res)
    assert procedures(app) == before and audit_count(app) == audits


def test_markup_in_an_imported_name_is_text(app):
    admin = signed_in(app, "admin")
    body = "code,name,service_code,processing_days\n9.1,<script>alert(1)</script>,TPHT,1\n"
    assert upload(admin, "x.csv", body).status_code == 302
    page = admin.get("/admin/procedures").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
