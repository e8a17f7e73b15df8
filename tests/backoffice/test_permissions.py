"""Only admins manage: every /admin/* page and every admin API route refuses the others.

The routes are read from ``app.url_map``, so a page added later without protection fails
here without anyone remembering to list it.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from onestop.accounts.models import User
from onestop.app import create_app
from tests.api.helpers import in_db
from tests.backoffice.conftest import csrf_from, login, signed_in, submit
from tests.conftest import app_config, bearer, create_schema, token_for

ARG = re.compile(r"<(?:[^:>]+:)?([^>]+)>")
VALUES = {"fmt": "csv"}
ADMIN_API = re.compile(r"^/api/v1/(audit|webhooks)(/|$)|^/api/v1/devices/<[^>]+>/(revoke|rotate)$")
MANAGER_PAGES = {"admin_printers.printers", "admin_province.province",  # also open to managers
                 "booking_desk.poster", "admin_notify.notifications"}
# the day's bookings (onestop/backoffice/booking_desk.py): every member of staff
STAFF_PAGES = {"booking_desk.bookings", "booking_desk.on_behalf", "booking_desk.cancel"}


def _url(rule: Any) -> str:
    return ARG.sub(lambda m: VALUES.get(m.group(1), "1"), rule.rule)


def _routes(app: Any, match: Any) -> list[tuple[str, str, str]]:
    out = []
    for rule in app.url_map.iter_rules():
        if not match(rule) or rule.endpoint.endswith(".static"):
            continue
        for method in sorted((rule.methods or set()) & {"GET", "POST", "PUT", "PATCH", "DELETE"}):
            out.append((rule.endpoint, method, _url(rule)))
    return out


def admin_pages(app: Any) -> list[tuple[str, str, str]]:
    return _routes(app, lambda r: r.rule == "/admin" or r.rule.startswith("/admin/"))


def admin_api(app: Any) -> list[tuple[str, str, str]]:
    return _routes(app, lambda r: ADMIN_API.search(r.rule))


def test_the_walk_finds_every_section(app):
    endpoints = {e for e, _m, _u in admin_pages(app)}
    for name in ("index", "units", "services", "service_new", "counters", "users", "user_disable",
                 "devices", "device_revoke", "device_rotate", "procedures", "procedures_import",
                 "calendar", "calendar_delete", "display", "ratings", "webhooks", "webhook_deactivate",
                 "audit"):
        assert f"backoffice.{name}" in endpoints
    assert "admin_printers.printers" in endpoints
    api = {(m, u) for _e, m, u in admin_api(app)}
    assert {("GET", "/api/v1/audit"), ("POST", "/api/v1/devices/1/revoke"),
            ("POST", "/api/v1/devices/1/rotate"), ("POST", "/api/v1/webhooks")} <= api


def _call(client: Any, method: str, url: str, token: str | None = None, **kwargs: Any) -> Any:
    data = {"csrf_token": token} if token and method != "GET" else None
    return client.open(url, method=method, data=data, **kwargs)


@pytest.mark.parametrize("username", ["clerk1", "manager"])
def test_non_admins_get_403_on_every_admin_page(app, username):
    client = signed_in(app, username)
    csrf = csrf_from(client.get("/").get_data(as_text=True))  # a valid token: CSRF is not the refusal
    for endpoint, method, url in admin_pages(app):
        res = _call(client, method, url, csrf)
        if endpoint in STAFF_PAGES:  # open (booking 1 does not exist: 404)
            assert res.status_code in (200, 404), (method, url, res.status_code)
        elif username == "manager" and endpoint in MANAGER_PAGES:
            assert res.status_code == 200, (method, url)
        else:
            assert res.status_code == 403, (method, url, res.status_code)


def test_clerk_is_refused_printers_page_too(app):
    assert signed_in(app, "clerk1").get("/admin/printers").status_code == 403


def test_anonymous_visitors_are_sent_to_login(app):
    client = app.test_client()
    csrf = csrf_from(client.get("/").get_data(as_text=True))
    for _endpoint, method, url in admin_pages(app):
        res = _call(client, method, url, csrf)
        assert res.status_code == 302, (method, url, res.status_code)
        assert res.headers["Location"].startswith("/login"), (url, res.headers["Location"])


@pytest.mark.parametrize("username", ["clerk1", "manager"])
def test_admin_api_refuses_other_roles(app, client, username):
    token = token_for(client, username)
    for _endpoint, method, url in admin_api(app):
        res = client.open(url, method=method, headers=bearer(token), json={})
        assert res.status_code == 403, (method, url, res.status_code)
        assert res.get_json()["error"]["code"] == "forbidden"


def test_admin_api_wants_a_user(app, client):
    for _endpoint, method, url in admin_api(app):
        res = client.open(url, method=method, json={})
        assert res.status_code == 401, (method, url, res.status_code)


def test_admin_api_answers_admins(app, client):
    token = token_for(client, "admin")
    assert client.get("/api/v1/audit", headers=bearer(token)).status_code == 200


def test_admin_sees_every_page(app):
    client = signed_in(app, "admin")
    # a device to edit at /admin/devices/1/edit (the demo centre has none)
    kiosk = {"kind": "kiosk", "name": "Ki-ốt", "counter_id": "0"}
    assert submit(client, "/admin/devices/new", kiosk).status_code == 200
    for endpoint, method, url in admin_pages(app):
        if method == "GET":
            # the demo admin is bound to the demo unit: a new unit is an unbound admin's power
            expected = 403 if endpoint == "backoffice.unit_new" else 200
            assert client.get(url).status_code == expected, url


def test_home_links_the_back_office(client):
    assert 'href="/admin/"' in client.get("/").get_data(as_text=True)


def test_a_fresh_install_starts_with_its_first_unit(tmp_path):
    application = create_app(app_config(tmp_path))
    create_schema(application.config["DATABASE_URL"])
    with in_db(application) as session:
        user = User(username="root", full_name="Root", role="admin", unit_id=None)
        user.set_password("mat-khau-dau-tien")
        session.add(user)
    client = application.test_client()
    assert login(client, "root", "mat-khau-dau-tien").status_code == 302
    assert client.get("/admin/").headers["Location"] == "/admin/units/new"
    res = submit(client, "/admin/units/new", {"code": "000.00.06.H56", "name": "Trung tâm PVHCC tỉnh",
                                             "address": "", "timezone": "Asia/Ho_Chi_Minh"})
    assert res.status_code == 302
    assert client.get("/admin/").status_code == 200
    res = submit(client, "/admin/units/new", {"code": "X", "name": "Y", "timezone": "Mars/Olympus"})
    assert res.status_code == 422
