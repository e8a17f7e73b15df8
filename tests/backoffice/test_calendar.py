"""The unit's days off and make-up days: added through the form, used by appointments."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from onestop.units.models import UnitDay
from tests.api.helpers import in_db
from tests.backoffice.conftest import (
    assert_audited,
    audit_count,
    field_errors,
    signed_in,
    submit,
    text_of,
)
from tests.conftest import MONDAY_9, bearer, token_for
from tests.dossiers.conftest import APPLICANT_JSON, THREE_DAYS


@pytest.fixture(autouse=True)
def frozen_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("onestop.api.dossiers.now", lambda: MONDAY_9)


def appointment(client: Any, token: str) -> str:
    res = client.post("/api/v1/dossiers", headers=bearer(token),
                      json={"procedure_code": THREE_DAYS, "applicant": dict(APPLICANT_JSON)})
    assert res.status_code == 201, res.get_json()
    return str(res.get_json()["appointment_at"])


def days(app: Any) -> list[tuple[Any, ...]]:
    with in_db(app) as session:
        return [(d.date.isoformat(), d.kind, d.note) for d in session.scalars(select(UnitDay))]


def test_a_new_day_off_moves_the_appointment(app, client):
    clerk = token_for(client, "clerk1")
    assert appointment(client, clerk) == "2026-11-27T10:00:00Z"  # Friday 17:00
    admin = signed_in(app, "admin")
    res = submit(admin, "/admin/calendar", {"date": "2026-11-25", "kind": "off", "note": "Đại hội"})
    assert res.status_code == 302
    assert_audited(app, admin, "unit_day", "create", date="2026-11-25", kind="off", note="Đại hội")
    assert appointment(client, clerk) == "2026-11-30T10:00:00Z"  # Monday 17:00
    page = text_of(admin.get("/admin/calendar?year=2026"))
    assert "25/11/2026" in page and "Đại hội" in page
    assert "02/09/2026" in page  # Quốc khánh, from the holidays package, read-only

    [(date, _kind, _note)] = days(app)
    with in_db(app) as session:
        day_id = session.scalars(select(UnitDay.id)).one()
    res = submit(admin, f"/admin/calendar/{day_id}/delete", {}, form_url="/admin/calendar?year=2026")
    assert res.status_code == 302 and days(app) == []
    entry = assert_audited(app, admin, "unit_day", "delete")
    assert entry.before["date"] == date and entry.after is None
    assert appointment(client, clerk) == "2026-11-27T10:00:00Z"


def test_a_make_up_saturday_counts(app, client):
    admin = signed_in(app, "admin")
    # Friday 27/11 off, Saturday 28/11 worked in exchange: the appointment falls on the Saturday
    assert submit(admin, "/admin/calendar", {"date": "2026-11-27", "kind": "off"}).status_code == 302
    assert submit(admin, "/admin/calendar", {"date": "2026-11-28", "kind": "working"}).status_code == 302
    assert appointment(client, token_for(client, "clerk1")) == "2026-11-28T10:00:00Z"


def test_calendar_mistakes_change_nothing(app):
    admin = signed_in(app, "admin")
    assert submit(admin, "/admin/calendar", {"date": "2026-11-25", "kind": "off"}).status_code == 302
    before, audits = days(app), audit_count(app)
    cases = [
        ({"date": "2026-11-25", "kind": "working"}, "Ngày này đã có trong lịch riêng của đơn vị."),
        ({"date": "2026-11-29", "kind": "off"}, "Ngày này đã là ngày nghỉ (cuối tuần hoặc ngày lễ)."),
        ({"date": "2026-09-02", "kind": "off"}, "Ngày này đã là ngày nghỉ (cuối tuần hoặc ngày lễ)."),
        ({"date": "2026-11-26", "kind": "working"},
         "Ngày này vốn là ngày làm việc; ngày làm bù là một ngày nghỉ."),
        ({"date": "26/11/2026", "kind": "off"}, "Ngày không hợp lệ."),
        ({"date": "", "kind": "off"}, "Cần nhập thông tin này."),
    ]
    for data, message in cases:
        res = submit(admin, "/admin/calendar", data)
        assert res.status_code == 422 and message in field_errors(res), (data, field_errors(res))
    assert days(app) == before and audit_count(app) == audits
