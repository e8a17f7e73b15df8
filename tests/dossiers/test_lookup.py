"""Public lookup: QR token, code + phone, one 404 for everything wrong, masking, escaping,
rate limits."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from sqlalchemy import select

from onestop import demo
from onestop.app import create_app
from onestop.dossiers import lookup
from onestop.dossiers.engine import change_state
from onestop.dossiers.models import Dossier
from onestop.extensions import db
from onestop.queueing.engine import SYSTEM
from tests.api.helpers import assert_error, in_db, ok
from tests.conftest import MONDAY_9, SECRET, app_config, create_schema, local
from tests.dossiers.conftest import receive

VIEW_KEYS = {"code", "procedure", "state", "state_label", "received_date", "appointment_date",
             "rescheduled", "overdue", "missing", "applicant_name", "applicant_phone",
             "source", "provincial"}


@pytest.fixture(autouse=True)
def frozen_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("onestop.api.lookup.now", lambda: MONDAY_9)


@pytest.fixture
def code(app: Any) -> str:
    with in_db(app) as session:
        return receive(session, MONDAY_9).code


def token(code: str) -> str:
    return lookup.lookup_token(SECRET, code)


def api(client: Any, **params: str) -> Any:
    return client.get("/api/v1/lookup", query_string=params)


# --- token and masking ----------------------------------------------------------------


def test_token_is_short_stable_and_keyed():
    a = lookup.lookup_token(SECRET, "H56.12.3-261123-0001")
    assert len(a) == 12 and a.isascii() and a.isalnum() and a == a.lower()
    assert a == lookup.lookup_token(SECRET.encode(), "H56.12.3-261123-0001")
    assert a != lookup.lookup_token(SECRET, "H56.12.3-261123-0002")
    assert a != lookup.lookup_token("another-secret", "H56.12.3-261123-0001")
    assert lookup.verify_token(SECRET, "H56.12.3-261123-0001", a.upper() + " ")
    for forged in (None, "", a[:-1], a[:-1] + ("a" if a[-1] != "a" else "b"), "é" * 12, "x" * 500):
        assert not lookup.verify_token(SECRET, "H56.12.3-261123-0001", forged)


def test_lookup_url_is_ascii():
    url = lookup.lookup_url("https://hcc.example.vn/", SECRET, "Đ01-261123-0001")
    assert url.isascii() and url.startswith("https://hcc.example.vn/lookup/%C4%9001-261123-0001?k=")


def test_parse_scanned():
    assert lookup.parse_scanned(" H56.12.3-261123-0001 ") == ("H56.12.3-261123-0001", None)
    assert lookup.parse_scanned("http://x/lookup/H56.12.3-261123-0001?k=abc") == (
        "H56.12.3-261123-0001", "abc")


@pytest.mark.parametrize("name,masked", [
    ("Nguyễn Văn An", "Nguyễn V** A*"), ("Trần Thị Minh Khai", "Trần T** M*** K***"),
    ("Lê", "L*"), ("  Đỗ   Văn  ", "Đỗ V**"), ("", "")])
def test_name_mask(name, masked):
    assert lookup.mask_name(name) == masked


def test_phone_mask():
    assert lookup.mask_phone("0912345678") == "*******678"
    assert lookup.mask_phone("091234567") == "******567"


# --- API ------------------------------------------------------------------------------


def test_lookup_by_token(client, code):
    data = ok(api(client, code=code, k=token(code)))
    assert set(data) == VIEW_KEYS
    assert data == {
        "code": code, "procedure": "Đăng ký thành lập hộ kinh doanh", "state": "received",
        "state_label": "Đã tiếp nhận", "received_date": "23/11/2026",
        "appointment_date": "27/11/2026", "rescheduled": False, "overdue": False, "missing": None,
        "applicant_name": "Nguyễn V** A*", "applicant_phone": "*******678",
        "source": "local", "provincial": None}
    text = api(client, code=code, k=token(code)).get_data(as_text=True)
    for secret in ("001203004005", "an@example.vn", "Lê Lợi", "0912345678", "Văn An"):
        assert secret not in text


def test_lookup_by_scanned_url(client, code):
    scanned = f"http://127.0.0.1:8000/lookup/{code}?k={token(code)}"
    assert ok(api(client, code=scanned))["code"] == code
    assert_error(api(client, code=scanned.replace("?k=", "?k=x")), 404, "dossier_not_found")


def test_forged_token_and_unknown_code_get_the_same_404(client, code):
    forged = api(client, code=code, k="a" * 12)
    unknown = api(client, code="H56.12.3-261123-0099", k=token("H56.12.3-261123-0099"))
    other_code = api(client, code="H56.12.3-261123-0002", k=token(code))
    for res in (forged, unknown, other_code):
        assert_error(res, 404, "dossier_not_found")
    assert forged.get_data() == unknown.get_data() == other_code.get_data()
    assert_error(api(client, code=code), 422, "lookup_key_required")
    assert_error(api(client, code=code, k="x" * 65), 422, "validation_error")
    assert_error(api(client, code=code, k=token(code), extra="1"), 422, "validation_error")


def test_lookup_by_code_and_last_four_phone_digits(client, code):
    assert ok(api(client, code=code, phone4="5678"))["code"] == code
    assert ok(api(client, code=code.lower(), phone4="5678"))["code"] == code
    wrong = api(client, code=code, phone4="1234")
    unknown = api(client, code="H56.12.3-261123-0099", phone4="5678")
    assert_error(wrong, 404, "dossier_not_found")
    assert wrong.get_data() == unknown.get_data()
    for bad in ("567", "56789", "abcd", "５６７８"):
        assert_error(api(client, code=code, phone4=bad), *((422, "validation_error") if len(bad) > 8
                                                             else (404, "dossier_not_found")))


def test_lookup_shows_what_is_missing_and_overdue(app, client, code, monkeypatch):
    with in_db(app) as session:
        dossier = session.scalars(select(Dossier).where(Dossier.code == code)).one()
        change_state(session, dossier, "supplement_requested", actor=SYSTEM, now=MONDAY_9,
                     note="Thiếu bản sao căn cước của chủ hộ")
    data = ok(api(client, code=code, k=token(code)))
    assert data["state_label"] == "Cần bổ sung hồ sơ"
    assert data["missing"] == "Thiếu bản sao căn cước của chủ hộ" and data["overdue"] is False
    with in_db(app) as session:
        dossier = session.scalars(select(Dossier).where(Dossier.code == code)).one()
        change_state(session, dossier, "processing", actor=SYSTEM, now=MONDAY_9)
    monkeypatch.setattr("onestop.api.lookup.now", lambda: local(2026, 12, 1, 9))
    data = ok(api(client, code=code, k=token(code)))
    assert data["overdue"] is True and data["missing"] is None
    assert data["state_label"] == "Đang giải quyết"


# --- pages ----------------------------------------------------------------------------


def test_lookup_page_by_qr(client, code):
    res = client.get(f"/lookup/{code}?k={token(code)}")
    text = res.get_data(as_text=True)
    assert res.status_code == 200
    for shown in (code, "Đăng ký thành lập hộ kinh doanh", "Nguyễn V** A*", "*******678",
                  "23/11/2026", "27/11/2026", "Đã tiếp nhận", "Ngày hẹn trả kết quả"):
        assert shown in text, shown
    assert "001203004005" not in text and "an@example.vn" not in text
    assert res.headers["Cache-Control"] == "no-store"
    assert res.headers["Referrer-Policy"] == "no-referrer"


def test_lookup_page_forged_and_unknown_are_the_same_404(client, code):
    forged = client.get(f"/lookup/{code}?k=aaaaaaaaaaaa")
    unknown = client.get(f"/lookup/H56.12.3-261123-0099?k={token('H56.12.3-261123-0099')}")
    assert forged.status_code == unknown.status_code == 404
    assert "Không tìm thấy hồ sơ" in forged.get_data(as_text=True)
    assert "Nguyễn" not in forged.get_data(as_text=True)


def test_lookup_form_and_phone_path(client, code):
    form = client.get("/lookup/")
    assert form.status_code == 200 and 'name="phone4"' in form.get_data(as_text=True)
    res = client.get("/lookup/", query_string={"code": code, "phone4": "5678"})
    assert res.status_code == 200 and "Nguyễn V** A*" in res.get_data(as_text=True)
    res = client.get("/lookup/", query_string={"code": code, "phone4": "0000"})
    assert res.status_code == 404 and "Không tìm thấy hồ sơ" in res.get_data(as_text=True)
    # a USB scanner typed the QR's URL into the code box
    scanned = f"http://127.0.0.1:8000/lookup/{code}?k={token(code)}"
    res = client.get("/lookup/", query_string={"code": scanned})
    assert res.status_code == 302
    assert res.headers["Location"] == f"/lookup/{quote(code)}?k={token(code)}"


def test_markup_is_shown_as_text(app, client, code):
    script = "<script>alert(1)</script>"
    with in_db(app) as session:  # stored by an older import: the API refuses such names
        dossier = session.scalars(select(Dossier).where(Dossier.code == code)).one()
        dossier.applicant_name = f"{script} Văn An"
        change_state(session, dossier, "supplement_requested", actor=SYSTEM, now=MONDAY_9,
                     note=f"Thiếu {script} <img src=x onerror=alert(2)>")
    for url in (f"/lookup/{code}?k={token(code)}", f"/lookup/?code={code}&phone4=5678"):
        text = client.get(url).get_data(as_text=True)
        assert "&lt;script&gt;alert(1)&lt;/script&gt; V** A*" in text
        assert "&lt;img src=x onerror=alert(2)&gt;" in text
        assert "<script>alert" not in text and "<img src=x" not in text
    js = ok(api(client, code=code, k=token(code)))
    assert js["applicant_name"].startswith(script)  # JSON carries text; the page escapes it
    page = client.get(f"/lookup/{quote(script)}?k=x").get_data(as_text=True)
    assert "<script>alert" not in page


def test_lookup_page_in_english(client, code):
    res = client.get(f"/lookup/{code}?k={token(code)}&lang=en")
    assert res.status_code == 200 and '<html lang="en">' in res.get_data(as_text=True)


# --- rate limits ----------------------------------------------------------------------


@pytest.fixture
def limited(tmp_path: Path) -> Any:
    """An app with rate limits on (the shared fixture turns them off)."""
    application = create_app(app_config(tmp_path, RATELIMIT_ENABLED=True,
                                        LOOKUP_CODE_RATE_LIMIT="5 per hour"))
    create_schema(application.config["DATABASE_URL"])
    with application.app_context():
        demo.load(db.session())
        db.session.commit()
    yield application
    db.session.remove()
    assert db.engine is not None
    db.engine.dispose()


def _limited_error(res: Any) -> dict[str, Any]:
    assert res.status_code == 429, res.status_code
    body = json.loads(res.get_data(as_text=True))
    assert body["error"]["code"] == "rate_limited" and body["error"]["message"]
    return dict(body["error"])


def test_lookup_api_is_rate_limited_per_address(limited):
    client = limited.test_client()
    with in_db(limited) as session:
        code = receive(session, MONDAY_9).code
    env = {"REMOTE_ADDR": "10.0.0.7"}
    results = [client.get("/api/v1/lookup", query_string={"code": code, "k": "bad" * 4},
                          environ_base=env).status_code for _ in range(30)]
    assert results == [404] * 30
    assert_error(client.get("/api/v1/lookup", query_string={"code": code, "k": token(code)},
                            environ_base=env), 429, "rate_limited")
    # another address is not affected
    ok(client.get("/api/v1/lookup", query_string={"code": code, "k": token(code)},
                  environ_base={"REMOTE_ADDR": "10.0.0.8"}))


def test_phone_guessing_is_limited_per_code_across_addresses(limited):
    client = limited.test_client()
    with in_db(limited) as session:
        code = receive(session, MONDAY_9).code
    for n in range(5):
        res = client.get("/api/v1/lookup", query_string={"code": code, "phone4": f"{n:04d}"},
                         environ_base={"REMOTE_ADDR": f"10.0.1.{n}"})
        assert res.status_code == 404
    _limited_error(client.get("/api/v1/lookup", query_string={"code": code, "phone4": "5678"},
                              environ_base={"REMOTE_ADDR": "10.0.1.99"}))
    # the QR path is not limited per code
    ok(client.get("/api/v1/lookup", query_string={"code": code, "k": token(code)},
                  environ_base={"REMOTE_ADDR": "10.0.1.99"}))


def test_a_scanned_url_prefix_does_not_reset_the_per_code_budget(limited):
    """The form reads ``…/lookup/CODE`` typed by a scanner as CODE: so does the limit."""
    client = limited.test_client()
    with in_db(limited) as session:
        code = receive(session, MONDAY_9).code
    for n in range(5):
        scanned = {"code": f"http://x{n}/lookup/{code}", "phone4": f"{n:04d}"}
        res = client.get("/lookup/", query_string=scanned, environ_base={"REMOTE_ADDR": f"10.0.4.{n}"})
        assert res.status_code == 404
    res = client.get("/lookup/", query_string={"code": f"y/lookup/{code}", "phone4": "5678"},
                     environ_base={"REMOTE_ADDR": "10.0.4.99"})
    assert res.status_code == 429
    _limited_error(client.get("/api/v1/lookup", query_string={"code": code, "phone4": "5679"},
                              environ_base={"REMOTE_ADDR": "10.0.4.98"}))


def test_lookup_page_is_rate_limited(limited):
    client = limited.test_client()
    env = {"REMOTE_ADDR": "10.0.2.1"}
    for _ in range(30):
        assert client.get("/lookup/H56.12.3-261123-0001?k=aaaaaaaaaaaa", environ_base=env).status_code == 404
    res = client.get("/lookup/H56.12.3-261123-0001?k=aaaaaaaaaaaa", environ_base=env,
                     headers={"Accept": "text/html"})
    assert res.status_code == 429
    assert client.get("/lookup/", environ_base=env).status_code == 200  # the bare form is free


def test_api_and_pages_share_one_budget_per_address(limited):
    client = limited.test_client()
    env = {"REMOTE_ADDR": "10.0.3.1"}
    for n in range(30):
        url = "/api/v1/lookup?code=X&k=aaaaaaaaaaaa" if n % 2 else "/lookup/X?k=aaaaaaaaaaaa"
        assert client.get(url, environ_base=env).status_code == 404
    _limited_error(client.get("/api/v1/lookup?code=X&k=aaaaaaaaaaaa", environ_base=env))
    assert client.get("/lookup/?code=X&phone4=1234", environ_base=env).status_code == 429
