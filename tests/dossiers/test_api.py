"""/api/v1/dossiers (staff and integration) and /api/v1/procedures (public search)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from onestop.db import DailyCounter
from onestop.dossiers.lookup import lookup_token
from onestop.dossiers.models import Dossier, DossierEvent
from tests.api.helpers import add_device, add_integration_user, assert_error, in_db, issue, ok
from tests.conftest import MONDAY_9, SECRET, bearer, local, token_for
from tests.dossiers.conftest import APPLICANT_JSON, SAME_DAY, THREE_DAYS

CONTRACT = {"code", "state", "received_at", "appointment_at", "lookup_url", "receipt_url"}


@pytest.fixture(autouse=True)
def frozen_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """The API's clock: Monday 23/11/2026 09:00 in Hà Nội."""
    monkeypatch.setattr("onestop.api.dossiers.now", lambda: MONDAY_9)
    monkeypatch.setattr("onestop.api.lookup.now", lambda: MONDAY_9)


def set_clock(monkeypatch: pytest.MonkeyPatch, when: Any) -> None:
    monkeypatch.setattr("onestop.api.dossiers.now", lambda: when)


def body(**extra: Any) -> dict[str, Any]:
    return {"procedure_code": THREE_DAYS, "applicant": dict(APPLICANT_JSON),
            "documents": [{"name": "Giấy đề nghị", "count": 1}], **extra}


def post(client: Any, token: str | None, data: Any) -> Any:
    return client.post("/api/v1/dossiers", json=data, headers=bearer(token) if token else {})


def stored(app: Any) -> tuple[int, int, int]:
    """Dossiers, dossier events and numbers handed out: a refused request leaves all three."""
    with in_db(app) as session:
        return (session.scalar(select(func.count()).select_from(Dossier)) or 0,
                session.scalar(select(func.count()).select_from(DossierEvent)) or 0,
                session.scalar(select(func.count()).select_from(DailyCounter)) or 0)


@pytest.fixture
def clerk(client: Any) -> str:
    return token_for(client, "clerk1")


def test_clerk_receives_a_dossier(app, client, clerk):
    data = ok(post(client, clerk, body()), 201)
    assert set(data) >= CONTRACT
    code = data["code"]
    assert code == "H56.12.3-261123-0001" and data["state"] == "received"
    assert data["received_at"] == "2026-11-23T02:00:00Z"
    assert data["appointment_at"] == "2026-11-27T10:00:00Z"  # Friday 17:00 in Hà Nội
    assert data["lookup_url"] == f"http://127.0.0.1:8000/lookup/{code}?k={lookup_token(SECRET, code)}"
    assert data["lookup_url"].isascii()
    assert data["receipt_url"] == f"/api/v1/dossiers/{code}/receipt.pdf"
    assert data["received_by"] == "Trần Văn An"
    assert data["book"] == {"year": 2026, "volume": "DKKD/2026", "line": 1}
    assert data["applicant"]["id_number"] == "001203004005"
    assert data["state_label"] == "Đã tiếp nhận" and data["overdue"] is False
    got = ok(client.get(f"/api/v1/dossiers/{code}", headers=bearer(clerk)))
    assert got["code"] == code and [e["action"] for e in got["events"]] == ["receive"]


def test_lookup_url_uses_the_public_base_url(app, client, clerk):
    app.config["PUBLIC_BASE_URL"] = "https://motcua.example.vn/"
    url = ok(post(client, clerk, body()), 201)["lookup_url"]
    assert urlsplit(url)[:3] == ("https", "motcua.example.vn", "/lookup/H56.12.3-261123-0001")


def test_dossier_links_the_ticket(app, client, clerk):
    ticket = issue(client, clerk, 1)
    data = ok(post(client, clerk, body(procedure_code=SAME_DAY, ticket_id=ticket["id"])), 201)
    assert data["ticket_id"] == ticket["id"]
    assert data["appointment_at"] == "2026-11-23T10:00:00Z"
    assert_error(post(client, clerk, body(ticket_id=999999)), 404, "ticket_not_found")


def test_anonymous_and_devices_cannot_receive(app, client):
    before = stored(app)
    assert_error(post(client, None, body()), 401, "unauthorized")
    assert_error(post(client, None, {"junk": 1}), 401, "unauthorized")
    kiosk = add_device(app, "kiosk", "K1")
    assert_error(post(client, kiosk, body()), 401, "unauthorized")
    assert_error(client.get("/api/v1/dossiers/H56.12.3-261123-0001"), 401, "unauthorized")
    assert stored(app) == before


def test_integration_account_receives_and_updates(app, client):
    token = add_integration_user(app, client)
    code = ok(post(client, token, body()), 201)["code"]
    res = client.post(f"/api/v1/dossiers/{code}/status", json={"state": "processing"},
                      headers=bearer(token))
    assert ok(res)["state"] == "processing"
    assert ok(client.get(f"/api/v1/dossiers/{code}", headers=bearer(token)))["state"] == "processing"


BAD_BODIES: list[Any] = [
    {}, [], "x", body(procedure_code=""), body(procedure_code="x" * 41),
    body(applicant={**APPLICANT_JSON, "name": ""}),
    body(applicant={**APPLICANT_JSON, "name": "x" * 201}),
    body(applicant={**APPLICANT_JSON, "name": "An\x00"}),
    body(applicant={**APPLICANT_JSON, "name": "<script>alert(1)</script>"}),
    body(applicant={**APPLICANT_JSON, "id_number": "12345678"}),
    body(applicant={**APPLICANT_JSON, "id_number": "1234567890123"}),
    body(applicant={**APPLICANT_JSON, "id_number": 1234567890}),
    body(applicant={**APPLICANT_JSON, "phone": "12345"}),
    body(applicant={**APPLICANT_JSON, "phone": "+8491234567890"}),
    body(applicant={**APPLICANT_JSON, "email": "x" * 300}),
    body(applicant={**APPLICANT_JSON, "email": "not-mail"}),
    body(applicant={**APPLICANT_JSON, "address": "x" * 301}),
    body(applicant={**APPLICANT_JSON, "extra": "field"}),
    body(applicant={k: v for k, v in APPLICANT_JSON.items() if k != "phone"}),
    body(documents=[{"name": "", "count": 1}]), body(documents=[{"name": "A", "count": 0}]),
    body(documents=[{"name": "A", "count": "1"}]), body(documents=[{"name": "A"}] * 51),
    body(documents=[{"name": "A\x00"}]), body(ticket_id=0), body(ticket_id=2**31),
    body(ticket_id="1"), body(state="ready"),
]


def test_bad_input_is_refused_and_nothing_is_stored(app, client, clerk, subtests):
    before = stored(app)
    for data in BAD_BODIES:
        with subtests.test(data=str(data)[:60]):
            res = post(client, clerk, data)
            assert res.status_code in (400, 422), res.get_data(as_text=True)[:300]
            assert_error(res, res.status_code)
            assert stored(app) == before
    assert_error(post(client, clerk, body(procedure_code="9.999999")), 404, "procedure_not_found")
    res = client.post("/api/v1/dossiers", data="{bad", content_type="application/json",
                      headers=bearer(clerk))
    assert_error(res, 400, "bad_request")
    assert stored(app) == before


def test_phone_separators_and_country_code(app, client, clerk):
    data = ok(post(client, clerk, body(applicant={**APPLICANT_JSON, "phone": "+84 912.345-678"})), 201)
    assert data["applicant"]["phone"] == "0912345678"


def test_status_changes_and_refusals(app, client, clerk):
    code = ok(post(client, clerk, body()), 201)["code"]
    url = f"/api/v1/dossiers/{code}/status"

    def move(state: str, note: str | None = None) -> Any:
        data = {"state": state} if note is None else {"state": state, "note": note}
        return client.post(url, json=data, headers=bearer(clerk))

    err = assert_error(move("ready"), 409, "invalid_transition")
    assert (err["from_state"], err["to_state"]) == ("received", "ready")
    assert_error(move("supplement_requested"), 422, "note_required")
    assert ok(move("supplement_requested", "Thiếu giấy đề nghị"))["supplement_count"] == 1
    assert ok(move("processing"))["state"] == "processing"
    assert_error(move("supplement_requested", "lại"), 409, "supplement_already_requested")
    assert_error(move("archived"), 422, "validation_error")
    assert_error(move("ready", "x" * 1001), 422, "validation_error")
    assert ok(move("ready"))["ready_at"] == "2026-11-23T02:00:00Z"
    data = ok(move("returned", "Đã trả"))
    assert data["state"] == "returned" and data["note"] == "Đã trả"
    assert [e["to_state"] for e in data["events"]] == [
        "received", "supplement_requested", "processing", "ready", "returned"]
    assert_error(client.post("/api/v1/dossiers/NOPE/status", json={"state": "processing"},
                             headers=bearer(clerk)), 404, "dossier_not_found")


def test_apology_over_the_api(app, client, clerk, monkeypatch):
    code = ok(post(client, clerk, body()), 201)["code"]  # due Friday 27/11 17:00
    url = f"/api/v1/dossiers/{code}/apology"
    apology = {"new_appointment": "2026-12-03", "reason": "Chờ ý kiến cơ quan thuế"}
    assert_error(client.post(url, json=apology, headers=bearer(clerk)), 409, "apology_not_due")
    set_clock(monkeypatch, local(2026, 11, 30, 9))
    assert_error(client.post(url, json={**apology, "new_appointment": "2026-12-05"},
                             headers=bearer(clerk)), 422, "invalid_new_appointment")
    assert_error(client.post(url, json={**apology, "new_appointment": "2026-02-30"},
                             headers=bearer(clerk)), 422, "invalid_new_appointment")
    assert_error(client.post(url, json={**apology, "new_appointment": "3/12/2026"},
                             headers=bearer(clerk)), 422, "validation_error")
    assert ok(client.get(f"/api/v1/dossiers/{code}", headers=bearer(clerk)))["overdue"] is True
    data = ok(client.post(url, json=apology, headers=bearer(clerk)))
    assert data["new_appointment_at"] == "2026-12-03T10:00:00Z"
    assert data["due_at"] == data["new_appointment_at"] and data["overdue"] is False
    assert data["apology_count"] == 1 and data["apology_reason"] == apology["reason"]
    assert_error(client.post(url, json={**apology, "new_appointment": "2026-12-04"},
                             headers=bearer(clerk)), 409, "apology_already_given")


def test_dossiers_of_another_unit_are_not_found(app, client, clerk):
    from onestop.accounts import engine as accounts
    from onestop.units.models import Unit

    code = ok(post(client, clerk, body()), 201)["code"]
    with in_db(app) as session:
        other = Unit(code="X01", name="Khác")
        session.add(other)
        session.flush()
        accounts.add_user(session, other, "stranger", "stranger-pass", "clerk")
    stranger = token_for(client, "stranger", "stranger-pass")
    assert_error(client.get(f"/api/v1/dossiers/{code}", headers=bearer(stranger)), 404,
                 "dossier_not_found")


def test_dossier_routes_are_documented(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    for path in ("/api/v1/dossiers", "/api/v1/dossiers/{code}", "/api/v1/dossiers/{code}/status",
                 "/api/v1/dossiers/{code}/apology", "/api/v1/lookup", "/api/v1/procedures",
                 "/api/v1/procedures/{code}"):
        assert path in paths, path


# --- procedures -----------------------------------------------------------------------


def names(client: Any, query: str) -> list[str]:
    return [p["name"] for p in ok(client.get(f"/api/v1/procedures{query}"))["procedures"]]


@pytest.mark.parametrize("q", ["khai sinh", "Khai Sinh", "khai sính", "ĐĂNG KÝ KHAI SINH",
                               "dang ky khai sinh", "1.001193", "KHAI", "  khai   sinh "])
def test_procedures_search_without_diacritics(client, q):
    res = client.get("/api/v1/procedures", query_string={"q": q})
    assert "Đăng ký khai sinh" in [p["name"] for p in ok(res)["procedures"]]


def test_procedure_search_narrows_and_limits(client):
    assert names(client, "?q=dang ky khai") == ["Đăng ký khai sinh", "Đăng ký khai tử"]
    assert names(client, "?q=khai sinh ket hon") == []
    assert names(client, "?q=%25") == [] and names(client, "?q=_") == []
    assert len(names(client, "")) == 16 and len(names(client, "?limit=3")) == 3
    dkkd = ok(client.get("/api/v1/procedures?q=ho kinh doanh"))["procedures"]
    assert len(dkkd) == 2
    service_id = dkkd[0]["service_id"]
    assert len(names(client, f"?service_id={service_id}")) == 2
    assert_error(client.get("/api/v1/procedures?limit=500"), 422, "validation_error")
    assert_error(client.get("/api/v1/procedures?q=" + "x" * 201), 422, "validation_error")


def test_procedure_by_code(client):
    data = ok(client.get("/api/v1/procedures/1.004227"))
    assert data["name"] == "Đăng ký biến động quyền sử dụng đất" and data["processing_days"] == 10
    assert data["documents"][0] == "Đơn đăng ký biến động"
    assert_error(client.get("/api/v1/procedures/9.9"), 404, "procedure_not_found")
    assert_error(client.get("/api/v1/procedures/" + "9" * 100), 404, "procedure_not_found")
