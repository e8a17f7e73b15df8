"""Fields (lĩnh vực) through the real form: the ticket API follows the new settings."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from onestop.queueing.models import Service
from tests.api.helpers import in_db
from tests.backoffice.conftest import (
    assert_audited,
    audit_count,
    field_errors,
    signed_in,
    submit,
    text_of,
)
from tests.conftest import bearer, local, token_for

MONDAY_8_30 = local(2026, 11, 23, 8, 30)
MONDAY_9_30 = local(2026, 11, 23, 9, 30)
TUESDAY_8_30 = local(2026, 11, 24, 8, 30)


def form(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"code": "CC", "name": "Chứng thực", "name_en": "Certification",
                            "prefix": "M", "block_start": "", "block_end": "", "daily_cap": "2",
                            "weekdays": ["1"], "windows": "08:00-09:00", "cutoff_minutes": "0",
                            "zone": "A", "sort_order": "20", "active": "y"}
    data.update(overrides)
    return data


def service_id(app: Any, code: str) -> int:
    with in_db(app) as session:
        return int(session.scalar(select(Service.id).where(Service.code == code)))


def services(app: Any) -> list[tuple[Any, ...]]:
    with in_db(app) as session:
        return [(s.code, s.name, s.prefix, s.daily_cap, s.windows, s.weekdays)
                for s in session.scalars(select(Service).order_by(Service.id))]


def issue(client: Any, token: str, sid: int) -> Any:
    return client.post("/api/v1/tickets", json={"service_id": sid}, headers=bearer(token))


def test_new_field_follows_its_schedule_windows_and_cap(scheduled):
    admin = signed_in(scheduled, "admin")
    res = submit(admin, "/admin/services/new", form())
    assert res.status_code == 302
    sid = service_id(scheduled, "CC")
    entry = assert_audited(scheduled, admin, "service", "create", code="CC", daily_cap=2,
                           windows=[["08:00", "09:00"]], weekdays=[1])
    assert entry.before is None and entry.entity_id == str(sid)

    api = scheduled.test_client()
    clerk = token_for(api, "clerk1")
    scheduled.at(TUESDAY_8_30)
    assert issue(api, clerk, sid).get_json()["error"]["code"] == "service_closed"
    scheduled.at(MONDAY_9_30)
    assert issue(api, clerk, sid).get_json()["error"]["code"] == "outside_hours"
    scheduled.at(MONDAY_8_30)
    first = issue(api, clerk, sid)
    assert first.status_code == 201 and first.get_json()["label"] == "M001"
    assert issue(api, clerk, sid).status_code == 201
    third = issue(api, clerk, sid)
    assert third.status_code == 409 and third.get_json()["error"]["code"] == "daily_cap_reached"

    # raise the cap and open on Tuesdays too, through the edit form
    res = submit(admin, f"/admin/services/{sid}", form(daily_cap="3", weekdays=["1", "2"]))
    assert res.status_code == 302
    entry = assert_audited(scheduled, admin, "service", "update")
    assert entry.before == {"daily_cap": 2, "weekdays": [1]}
    assert entry.after == {"daily_cap": 3, "weekdays": [1, 2]}
    assert issue(api, clerk, sid).get_json()["label"] == "M003"
    scheduled.at(TUESDAY_8_30)
    assert issue(api, clerk, sid).status_code == 201


def test_edit_form_shows_the_stored_values(app, admin):
    page = text_of(admin.get(f"/admin/services/{service_id(app, 'TPHT')}"))
    assert 'value="07:30-11:30, 13:30-17:00"' in page and 'value="300"' in page


def test_number_block_labels(scheduled):
    admin = signed_in(scheduled, "admin")
    assert submit(admin, "/admin/services/new",
                  form(prefix="", block_start="1001", block_end="1999")).status_code == 302
    api = scheduled.test_client()
    scheduled.at(MONDAY_8_30)
    res = issue(api, token_for(api, "clerk1"), service_id(scheduled, "CC"))
    assert res.get_json()["label"] == "1001"


BAD = [
    ({"code": "TPHT"}, "Mã lĩnh vực “TPHT” đã có trong đơn vị."),
    ({"code": "tpht"}, "Mã lĩnh vực “tpht” đã có trong đơn vị."),
    ({"windows": "08:00-10:00, 09:30-11:00"}, "Các khung giờ chồng lên nhau (10:00 và 09:30)."),
    ({"windows": "11:00-09:00"}, "Khung giờ “11:00-09:00” kết thúc trước khi bắt đầu."),
    ({"windows": "8h-9h"}, "Khung giờ “8h-9h” không đúng dạng HH:MM-HH:MM."),
    ({"windows": "25:00-26:00"}, "Khung giờ “25:00-26:00” không đúng dạng HH:MM-HH:MM."),
    ({"prefix": "ABCD"}, "Tiền tố dài tối đa 3 ký tự."),
    ({"prefix": "A"}, "Tiền tố “A” đang dùng cho lĩnh vực Tư pháp – Hộ tịch."),
    ({"daily_cap": "0"}, "Số phiếu tối đa phải lớn hơn 0."),
    ({"daily_cap": "-5"}, "Số phiếu tối đa phải lớn hơn 0."),
    ({"daily_cap": "nhiều"}, "Cần nhập một số nguyên."),
    ({"weekdays": []}, "Chọn ít nhất một ngày trong tuần."),
    ({"prefix": "", "block_start": "50", "block_end": "10"},
     "Số cuối của dải phải lớn hơn hoặc bằng số đầu."),
    ({"prefix": ""}, "Cần một tiền tố (ví dụ A) hoặc một dải số."),
    ({"name": ""}, "Cần nhập thông tin này."),
]


def test_bad_input_is_explained_beside_the_field_and_nothing_is_saved(app, admin):
    before, audits = services(app), audit_count(app)
    for overrides, message in BAD:
        res = submit(admin, "/admin/services/new", form(**overrides))
        assert res.status_code == 422, overrides
        assert message in field_errors(res), (overrides, field_errors(res))
    # the same checks on the edit form of an existing field
    sid = service_id(app, "DD")
    res = submit(admin, f"/admin/services/{sid}", form(code="TPHT", prefix="B"))
    assert res.status_code == 422 and "Mã lĩnh vực “TPHT” đã có trong đơn vị." in field_errors(res)
    assert services(app) == before and audit_count(app) == audits


def test_markup_in_a_name_is_shown_as_text(app, admin):
    res = submit(admin, "/admin/services/new", form(name="<script>alert(1)</script>"))
    assert res.status_code == 302
    page = admin.get("/admin/services").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    audit_page = admin.get("/admin/audit").get_data(as_text=True)
    assert "<script>alert(" not in audit_page and "&lt;script&gt;alert(1)" in audit_page


def test_english_labels(app, admin):
    page = admin.get("/admin/services/new?lang=en").get_data(as_text=True)
    assert "Daily ticket cap" in page

