"""Security headers, cookie flags and request size limits (onestop/security.py)."""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path
from typing import Any

import pytest

from onestop.security import csp
from tests.api.helpers import assert_error
from tests.conftest import bearer, demo_app, token_for
from tests.security.helpers import login_form

PAGES = ["/", "/login", "/kiosk/", "/kiosk/lookup", "/kiosk/procedures", "/display/",
         "/lookup/", "/api/v1/services", "/healthz"]


def test_every_page_has_the_strict_headers(client: Any) -> None:
    for path in PAGES:
        res = client.get(path)
        assert res.status_code == 200, path
        policy = res.headers["Content-Security-Policy"]
        assert policy == csp(), path
        assert "'unsafe-inline'" not in policy and "frame-ancestors 'none'" in policy
        assert res.headers["X-Content-Type-Options"] == "nosniff"
        assert res.headers["X-Frame-Options"] == "DENY"
        assert res.headers["Referrer-Policy"] in ("same-origin", "no-referrer")  # lookup: stricter
        assert "camera=()" in res.headers["Permissions-Policy"] or path == "/kiosk/lookup"


def test_referrer_policy(client: Any) -> None:
    assert client.get("/").headers["Referrer-Policy"] == "same-origin"
    assert client.get("/kiosk/?k=x").headers["Referrer-Policy"] == "no-referrer"


def test_camera_only_on_the_kiosk_lookup(client: Any) -> None:
    assert "camera=(self)" in client.get("/kiosk/lookup").headers["Permissions-Policy"]
    assert "camera=(self)" not in client.get("/kiosk/").headers["Permissions-Policy"]


def test_token_urls_send_no_referrer(client: Any) -> None:
    res = client.get("/lookup/H56-260101-0001?k=abcdefabcdef")
    assert res.headers["Referrer-Policy"] == "no-referrer"
    assert res.headers["Content-Security-Policy"] == csp()


def test_error_pages_carry_the_headers_too(client: Any) -> None:
    res = client.get("/no/such/page", headers={"Accept": "text/html"})
    assert res.status_code == 404
    assert res.headers["Content-Security-Policy"] == csp()


def test_api_docs_allow_exactly_their_own_inline_blocks(client: Any) -> None:
    res = client.get("/api/v1/docs")
    assert res.status_code == 200
    html = res.get_data(as_text=True)
    policy = res.headers["Content-Security-Policy"]
    assert "'unsafe-inline'" not in policy
    for tag, body in re.findall(r"<(script|style)>(.*?)</\1>", html, re.DOTALL):
        digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
        directive = "script-src" if tag == "script" else "style-src"
        assert re.search(rf"{directive} [^;]*'sha256-{re.escape(digest)}'", policy), tag
    # other pages do not inherit the docs' hashes
    assert "sha256-" not in client.get("/").headers["Content-Security-Policy"]


def _set_cookies(res: Any) -> list[str]:
    return list(res.headers.getlist("Set-Cookie"))


def test_session_cookie_is_httponly_and_lax_and_not_secure_on_http(client: Any) -> None:
    res = login_form(client, "admin", "demo")
    assert res.status_code == 302
    session = [c for c in _set_cookies(res) if c.startswith("session=")]
    assert session, _set_cookies(res)
    assert "HttpOnly" in session[0] and "SameSite=Lax" in session[0]
    assert "Secure" not in session[0]


def test_cookies_are_secure_behind_a_tls_proxy(tmp_path: Path) -> None:
    with demo_app(tmp_path, PROXY_COUNT=1) as app:
        client = app.test_client()
        res = login_form(client, "admin", "demo",
                         headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "10.0.0.9",
                                  "Referer": "https://localhost/login"})  # CSRF checks it on https
        assert res.status_code == 302
        cookies = _set_cookies(res)
        assert cookies and all("Secure" in c for c in cookies), cookies


def test_cookies_are_secure_with_an_https_public_address(tmp_path: Path) -> None:
    with demo_app(tmp_path, PUBLIC_BASE_URL="https://motcua.example.vn") as app:
        assert app.config["SESSION_COOKIE_SECURE"] is True
        assert app.config["REMEMBER_COOKIE_SECURE"] is True
        assert app.config["REMEMBER_COOKIE_HTTPONLY"] is True


def test_oversized_json_is_a_413_envelope_and_changes_nothing(client: Any) -> None:
    token = token_for(client, "clerk1")
    body = b'{"service_id": 1, "pad": "' + b"x" * (1024 * 1024 + 10) + b'"}'
    res = client.post("/api/v1/tickets", data=body, content_type="application/json",
                      headers=bearer(token))
    assert_error(res, 413, "payload_too_large")
    assert client.get("/api/v1/services").status_code == 200


def test_oversized_form_is_a_413_page(client: Any) -> None:
    res = client.post("/login", data={"username": "a", "password": "x" * (1024 * 1024 + 10)},
                      headers={"Accept": "text/html"})
    assert res.status_code == 413
    assert res.mimetype == "text/html"
    assert "Dữ liệu gửi lên quá lớn" in res.get_data(as_text=True)


def test_large_body_routes_take_up_to_the_upload_limit(tmp_path: Path) -> None:
    from onestop.security import large_body

    with demo_app(tmp_path) as app:
        @app.post("/_test/import")
        @large_body
        def _import() -> dict[str, int]:
            from flask import request

            return {"bytes": len(request.get_data())}

        @app.post("/_test/plain")
        def _plain() -> dict[str, int]:
            from flask import request

            return {"bytes": len(request.get_data())}

        app.config["WTF_CSRF_ENABLED"] = False
        client = app.test_client()
        three_mb = b"x" * (3 * 1024 * 1024)
        assert client.post("/_test/import", data=three_mb).get_json() == {"bytes": len(three_mb)}
        assert client.post("/_test/plain", data=three_mb).status_code == 413
        six_mb = b"x" * (6 * 1024 * 1024)
        assert client.post("/_test/import", data=six_mb).status_code == 413


def test_the_procedure_import_takes_a_large_file_and_no_more(client: Any) -> None:
    import io

    assert login_form(client, "admin", "demo").status_code == 302
    page = client.get("/admin/procedures").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    assert token, "no CSRF token on the import form"

    def upload(size: int) -> Any:
        body = b"ma,ten\n" + b"x" * size
        return client.post("/admin/procedures", content_type="multipart/form-data",
                           data={"csrf_token": token.group(1),
                                 "file": (io.BytesIO(body), "catalogue.csv")},
                           headers={"Accept": "text/html"})

    assert upload(3 * 1024 * 1024).status_code not in (413, 500)  # read, and refused line by line
    too_big = upload(6 * 1024 * 1024)
    assert too_big.status_code == 413
    assert "Dữ liệu gửi lên quá lớn" in too_big.get_data(as_text=True)


def test_cookie_authenticated_changes_need_the_csrf_token(client: Any) -> None:
    assert login_form(client, "clerk1", "demo").status_code == 302
    assert_error(client.post("/api/v1/counters/1/open"), 400, "csrf_failed")
    # an Authorization header that is not a bearer token leaves the cookie in charge
    for header in ("Basic Y2xlcmsxOmRlbW8=", "Token x", "Bearer "):
        assert_error(client.post("/api/v1/counters/1/open", headers={"Authorization": header}),
                     400, "csrf_failed")
    counters = client.get("/api/v1/counters").get_json()["counters"]
    assert [c["clerk"] for c in counters if c["id"] == 1] == [None]  # nothing changed
    page = client.get("/").get_data(as_text=True)
    token = re.search(r'<meta name="csrf-token" content="([^"]+)"', page)
    assert token
    assert client.post("/api/v1/counters/1/open", headers={"X-CSRFToken": token.group(1)}).status_code == 200


@pytest.mark.parametrize("query", [
    "code=" + "A" * 5000 + "&k=x", "code=%00%01%02&k=%ff", "code=%E0%A4%A&k=1", "code=&k=",
    "code=H56-1&phone4=abcd", "code=H56-1&phone4=" + "9" * 300, "code=<script>&k=<img>",
    "code=H56.12.3-261123-0001&k=" + "k" * 100,
])
def test_lookup_garbage_is_a_clear_4xx(client: Any, query: str) -> None:
    """What a barcode scanner may type into the kiosk: never a 500, always the envelope."""
    res = client.get(f"/api/v1/lookup?{query}")
    assert 400 <= res.status_code < 500, (query[:40], res.status_code)
    assert_error(res, res.status_code)
    page = client.get(f"/lookup/x?{query}", headers={"Accept": "text/html"})
    assert 200 <= page.status_code < 500 and "Traceback" not in page.get_data(as_text=True)
