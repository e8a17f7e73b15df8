"""Bad input gets the JSON error envelope with a 4xx and changes nothing; CSRF; OpenAPI."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

import pytest

from onestop import demo
from onestop.app import create_app
from onestop.extensions import db
from tests.api.helpers import act, assert_error, counter_row, issue, ok, snapshot, user_id
from tests.conftest import app_config, bearer, create_schema, token_for

BIG = "x" * 100_000
COUNTER_ACTIONS = ["open", "close", "resume", "call-next", "recall", "start", "skip", "finish",
                   "park", "pause", "transfer", "call"]


@pytest.fixture
def clerk(client: Any) -> str:
    """clerk1 signed in at counter 1, one ticket waiting; returns the token."""
    token = token_for(client, "clerk1")
    ok(act(client, token, 1, "open"))
    issue(client, token)
    return token


def post_json(client: Any, url: str, data: str | bytes, token: str | None = None,
              content_type: str = "application/json") -> Any:
    headers = bearer(token) if token else {}
    return client.post(url, data=data, content_type=content_type, headers=headers)


MALFORMED = ["{bad", "{'service_id': 1}", '{"service_id": 1,}', "", '{"service_id": ',
             b"\xff\xfe\x00", b'{"service_id": "\xc3\x28"}', "[" * 50_000 + "]" * 50_000,
             '{"a":' * 50_000 + "1" + "}" * 50_000]


def test_malformed_json(app, client, clerk, subtests):
    before = snapshot(app)
    for data in MALFORMED:
        with subtests.test(data=data[:20]):
            for url in ("/api/v1/tickets", "/api/v1/counters/1/pause",
                        "/api/v1/counters/1/finish"):
                assert_error(post_json(client, url, data, clerk), 400, "bad_request")
            assert_error(post_json(client, "/api/v1/auth/token", data), 400, "bad_request")
            assert snapshot(app) == before


WRONG_BODIES: list[Any] = [
    {"service_id": "x"}, {"service_id": None}, {"service_id": [1]}, {"service_id": {"id": 1}},
    {"service_id": -1}, {"service_id": 0}, {"service_id": 1.5}, {"service_id": 2**31},
    {"service_id": 99999999999999999999}, {"service_id": 1, "priority": "vip"},
    {"service_id": 1, "priority": None}, {"service_id": 1, "priority": 1}, {},
    {"service_id": 1, "unit": "H56.12.3"}, {"service_id": 1, "number": 7},
    {"service_id": 1, "source": "kiosk"}, [1], "1", 1,
]


def test_ticket_wrong_types_and_extra_fields(app, client, clerk, subtests):
    before = snapshot(app)
    for body in WRONG_BODIES:
        with subtests.test(body=body):
            res = client.post("/api/v1/tickets", json=body, headers=bearer(clerk))
            assert "fields" in assert_error(res, 422, "validation_error")
            assert snapshot(app) == before
    res = post_json(client, "/api/v1/tickets", "null", clerk)
    assert_error(res, 422, "validation_error")
    assert snapshot(app) == before


def test_big_strings(app, client, clerk):
    before = snapshot(app)
    assert_error(act(client, clerk, 1, "pause", {"reason": BIG}), 422, "validation_error")
    assert_error(act(client, clerk, 1, "park", {"note": BIG}), 422)
    assert_error(act(client, clerk, 1, "finish", {"outcome": BIG}), 422)
    for body in ({"username": BIG, "password": "demo"}, {"username": "clerk1", "password": BIG}):
        assert_error(client.post("/api/v1/auth/token", json=body), 422, "validation_error")
    res = client.post("/api/v1/tickets", json={"service_id": 1, "priority": BIG},
                      headers=bearer(clerk))
    assert_error(res, 422, "validation_error")
    assert BIG not in res.get_data(as_text=True)  # the input is not echoed back whole
    assert snapshot(app) == before
    assert counter_row(app, 1)[0] == "open"


def test_unusable_characters(app, client, clerk, subtests):
    before = snapshot(app)
    cases = [("/api/v1/counters/1/pause", '{"reason": "a\\u0000b"}'),
             ("/api/v1/counters/1/pause", '{"reason": "\\ud800"}'),
             ("/api/v1/counters/1/park", '{"note": "\\u0000"}'),
             ("/api/v1/auth/token", '{"username": "clerk1\\u0000", "password": "demo"}'),
             ("/api/v1/auth/token", '{"username": "clerk1", "password": "\\udfff"}')]
    for url, data in cases:
        with subtests.test(url=url, data=data):
            assert_error(post_json(client, url, data, clerk), 422, "validation_error")
            assert snapshot(app) == before
    assert_error(client.get("/api/v1/display/state?zone=A%00"), 422, "validation_error")


@pytest.mark.postgres
def test_postgres_bad_data_is_a_client_error(tmp_path, pg_url):
    """PostgreSQL refuses NUL in text and ids past INTEGER: a 4xx, never a 500."""
    application = create_app(app_config(tmp_path, DATABASE_URL=pg_url, ALWAYS_OPEN=True))
    create_schema(pg_url)
    with application.app_context():
        demo.load(db.session())
        db.session.commit()
    try:
        client = application.test_client()
        token = token_for(client, "clerk1")
        ok(act(client, token, 1, "open"))
        issue(client, token)
        before = snapshot(application)
        assert_error(act(client, token, 1, "pause", {"reason": "a\x00b"}), 422)
        res = client.post("/api/v1/auth/token", json={"username": "clerk1\x00", "password": "x"})
        assert_error(res, 422)
        assert_error(client.get("/api/v1/counters?unit=H56%00"), 400, "bad_request")
        assert_error(client.get("/api/v1/tickets/1?unit=H56%00"), 400, "bad_request")
        for big in (2**31, 2**63, 99999999999999999999):
            assert_error(client.get(f"/api/v1/tickets/{big}"), 404, "ticket_not_found")
            assert_error(act(client, token, big, "call-next"), 404, "counter_not_found")
            assert_error(act(client, token, big, "open"), 404, "counter_not_found")
            assert_error(act(client, token, 1, "call", {"ticket_id": big}), 422)
        assert snapshot(application) == before
        assert ok(act(client, token, 1, "call-next"))["label"] == "A001"
    finally:
        db.session.remove()
        assert db.engine is not None
        db.engine.dispose()


def test_body_over_the_limit(app, client, clerk):
    before = snapshot(app)
    data = '{"service_id": 1, "priority": "' + "x" * 2_000_000 + '"}'
    assert_error(post_json(client, "/api/v1/tickets", data, clerk), 413, "payload_too_large")
    assert snapshot(app) == before


def test_missing_and_bogus_tokens(app, client, clerk):
    fresh = client.application.test_client()
    before = snapshot(app)
    for headers in ({}, bearer("bogus"), bearer("ost_" + "A" * 43), bearer("osd_x"),
                    {"Authorization": "Bearer"}, {"Authorization": "Basic Y2xlcmsxOmRlbW8="}):
        assert_error(fresh.post("/api/v1/tickets", json={"service_id": 1}, headers=headers),
                     401, "unauthorized")
        assert_error(fresh.post("/api/v1/counters/1/call-next", headers=headers), 401)
        assert_error(fresh.post("/api/v1/counters/1/open", headers=headers), 401)
        assert_error(fresh.post("/api/v1/tickets/1/requeue", headers=headers), 401)
        assert_error(fresh.get("/api/v1/auth/me", headers=headers), 401)
    assert snapshot(app) == before


def test_unknown_counter(app, client, clerk, subtests):
    manager = token_for(client, "manager")
    before = snapshot(app)
    bodies = {"pause": {"reason": "x"}, "finish": {"outcome": "served"},
              "transfer": {"service_id": 9}, "park": {}, "call": {"ticket_id": 1}}
    for counter_id in (0, 9, 999, 2**31 - 1, 2**31, 2**63, 99999999999999999999):
        with subtests.test(counter_id=counter_id):
            for action in COUNTER_ACTIONS:
                for token in (clerk, manager):
                    res = act(client, token, counter_id, action, bodies.get(action))
                    assert_error(res, 404, "counter_not_found")
            assert snapshot(app) == before


def test_non_integer_counter(client, clerk, subtests):
    for counter_id in ("abc", "-1", "1.5", "1e3", "%00", "1%20"):
        with subtests.test(counter_id=counter_id):
            assert_error(act(client, clerk, counter_id, "call-next"), 404, "not_found")


WRONG_METHODS = [
    ("get", "/api/v1/tickets"), ("put", "/api/v1/tickets/1"), ("delete", "/api/v1/tickets/1"),
    ("delete", "/api/v1/counters"), ("post", "/api/v1/counters"),
    ("get", "/api/v1/counters/1/open"), ("get", "/api/v1/counters/1/call-next"),
    ("get", "/api/v1/auth/token"), ("patch", "/api/v1/services"),
]


def test_wrong_method(app, client, clerk, subtests):
    before = snapshot(app)
    for method, url in WRONG_METHODS:
        with subtests.test(method=method, url=url):
            res = getattr(client, method)(url, headers=bearer(clerk))
            assert_error(res, 405, "method_not_allowed")
            assert snapshot(app) == before


def test_unknown_path(client, subtests):
    for url in ("/api/v1/nope", "/api/v1/", "/api/v1/tickets/1/nope",
                "/api/v1/counters/1/explode", "/api/v2/tickets",
                "/api/v1/<script>alert(1)</script>"):
        with subtests.test(url=url):
            assert_error(client.get(url), 404, "not_found")
            # a browser asking for HTML still gets JSON under /api/
            assert_error(client.get(url, headers={"Accept": "text/html"}), 404, "not_found")
            assert_error(client.post(url, json={}), 404, "not_found")


def test_bad_query(client, subtests):
    for query, status in (("unit=nope", 404), ("zone=" + "A," * 500, 422), ("foo=1", 422)):
        with subtests.test(query=query[:20]):
            assert_error(client.get(f"/api/v1/display/state?{query}"), status)


def test_internal_error_is_an_envelope_and_rolls_back(app, client, clerk, monkeypatch):
    from onestop.api import counters

    def explode(*_args: Any, **_kwargs: Any) -> Any:
        raise RuntimeError("secret detail")

    monkeypatch.setattr(counters, "ticket_dict", explode)
    before = snapshot(app)
    res = act(client, clerk, 1, "call-next")
    assert_error(res, 500, "internal_error")
    assert "secret detail" not in res.get_data(as_text=True)
    assert snapshot(app) == before


# --- CSRF for cookie sessions ---------------------------------------------------------


def _csrf_from(html: str, pattern: str) -> str:
    match = re.search(pattern, html)
    assert match, html[:500]
    return match.group(1)


def login_with_form(client: Any, username: str = "clerk1") -> None:
    page = client.get("/login").get_data(as_text=True)
    token = _csrf_from(page, r'name="csrf_token" value="([^"]+)"')
    res = client.post("/login", data={"username": username, "password": "demo",
                                      "csrf_token": token})
    assert res.status_code == 302, res.get_data(as_text=True)[:300]


def test_csrf_is_enabled(app):
    assert app.config.get("WTF_CSRF_ENABLED", True) is True


def test_login_form_needs_csrf(client):
    res = client.post("/login", data={"username": "clerk1", "password": "demo"})
    assert res.status_code == 400
    assert_error(client.get("/api/v1/auth/me"), 401)


def test_cookie_post_needs_csrf_token(app, client):
    login_with_form(client)
    assert ok(client.get("/api/v1/auth/me"))["username"] == "clerk1"
    before = snapshot(app)
    assert_error(client.post("/api/v1/counters/1/open"), 400, "csrf_failed")
    assert_error(client.post("/api/v1/counters/1/open", headers={"X-CSRFToken": "forged"}),
                 400, "csrf_failed")
    assert_error(client.post("/api/v1/tickets", json={"service_id": 1}), 400, "csrf_failed")
    assert snapshot(app) == before
    home = client.get("/").get_data(as_text=True)
    token = _csrf_from(home, r'<meta name="csrf-token" content="([^"]+)"')
    body = ok(client.post("/api/v1/counters/1/open", headers={"X-CSRFToken": token}))
    assert body["state"] == "open" and body["clerk"]["id"] == user_id(app, "clerk1")
    res = client.post("/api/v1/tickets", json={"service_id": 1}, headers={"X-CSRFToken": token})
    assert ok(res, 201)["label"] == "A001"


def test_bearer_call_needs_no_csrf_even_with_cookies(client):
    token = token_for(client.application.test_client(), "clerk1")
    login_with_form(client, "clerk2")
    # the bearer token decides who acts, and it needs no CSRF token
    assert ok(act(client, token, 1, "open"))["clerk"]["id"] == user_id(client.application, "clerk1")
    # while cookie calls on the same client still do
    assert_error(client.post("/api/v1/counters/2/open"), 400, "csrf_failed")


def test_bogus_bearer_does_not_fall_back_to_the_cookie(app, client):
    login_with_form(client, "clerk1")
    before = snapshot(app)
    for token in ("bogus", "ost_" + "A" * 43):
        assert_error(client.post("/api/v1/counters/1/open", headers=bearer(token)), 401,
                     "unauthorized")
        assert_error(client.get("/api/v1/auth/me", headers=bearer(token)), 401)
    assert snapshot(app) == before
    assert ok(client.get("/api/v1/auth/me"))["username"] == "clerk1"  # the cookie alone works


def test_device_cookie_post_needs_csrf(app, client):
    from onestop.accounts.auth import DEVICE_COOKIE
    from tests.api.helpers import add_device

    token = add_device(app, "kiosk")
    client.set_cookie(DEVICE_COOKIE, token)
    assert_error(client.post("/api/v1/tickets", json={"service_id": 1}), 400, "csrf_failed")
    assert snapshot(app)[0] == ()


# --- OpenAPI and docs ------------------------------------------------------------------


def test_openapi_lists_every_route(app, client):
    spec = ok(client.get("/api/v1/openapi.json"))
    documented = {(path, method.upper()) for path, ops in spec["paths"].items()
                  for method in ops if method != "parameters"}
    own = {"/api/v1/openapi.json", "/api/v1/docs", "/api/v1/docs/oauth2-redirect"}
    routes = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/") or rule.rule in own:
            continue
        path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule)
        routes |= {(path, m) for m in rule.methods - {"HEAD", "OPTIONS"}}
    assert routes, "no API routes found"
    assert routes <= documented, routes - documented
    for path in ("/api/v1/tickets", "/api/v1/counters/{counter_id}/call-next",
                 "/api/v1/auth/token", "/api/v1/display/state", "/api/v1/services"):
        assert path in spec["paths"]


def test_openapi_documents_error_envelope(client):
    spec = ok(client.get("/api/v1/openapi.json"))
    issue_op = spec["paths"]["/api/v1/tickets"]["post"]
    assert {"201", "409"} <= set(issue_op["responses"])


def test_docs_load_nothing_from_another_host(client):
    res = client.get("/api/v1/docs")
    assert res.status_code == 200 and res.mimetype == "text/html"
    html = res.get_data(as_text=True)
    urls = re.findall(r'(?:src|href)\s*=\s*["\']([^"\']+)["\']', html)
    urls += re.findall(r'url:\s*["\']([^"\']+)["\']', html)
    assert urls
    for url in urls:
        parts = urlsplit(url)
        assert not parts.netloc and parts.scheme in ("", "data"), url
    # Swagger UI's validator badge would fetch from validator.swagger.io
    assert '"validatorUrl": "none"' in html
    for url in urls:
        if url.startswith("/static/"):
            assert client.get(url).status_code == 200, url


def test_every_operation_with_a_body_documents_the_400_it_answers_to_bad_json(app: Any, client: Any) -> None:
    """Malformed JSON gets 400 everywhere; the document must say so, or an integrator's
    generated client (and schemathesis) treats the answer as a surprise."""
    spec = client.get("/api/v1/openapi.json").get_json()
    undocumented = [f"{method.upper()} {path}" for path, ops in spec["paths"].items()
                    for method, op in ops.items() if "requestBody" in op and "400" not in op["responses"]]
    assert undocumented == []
    res = client.post("/api/v1/auth/token", data="{not json", content_type="application/json")
    assert_error(res, 400, "bad_request")
