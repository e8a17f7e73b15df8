"""Walk the authorization matrix (tests/security/matrix.py) against the app.

1. Coverage: every rule of ``app.url_map`` (static files aside), every operation of the
   OpenAPI document and every Socket.IO handler has a case; a new endpoint without one fails
   here, by name.
2. The walk: each principal on a fresh demo database, every case in order (the ones that
   spoil the session or a counter last), its outcome compared with the table. Users walk
   twice: with a bearer token and with a cookie session (CSRF token sent, as the pages do).
   Requests come from an office-LAN address, not from loopback.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
from sqlalchemy import func, select

from onestop.extensions import db, socketio
from onestop.queueing.models import Counter, Ticket, TicketEvent
from tests.conftest import bearer, demo_app, token_for
from tests.notifications.matrix_world import CONFIG as NOTIFY_CONFIG
from tests.security.matrix import (
    DEVICES,
    INTEGRATION_PASSWORD,
    MATRIX,
    OUTCOMES,
    PRINCIPALS,
    USERNAMES,
    USERS,
    Case,
    add_webhook,
    build_world,
    fill,
    is_static,
)

CONFIG = {"WEBHOOK_WORKER": False, "WEBHOOK_ALLOW_LOOPBACK": True, **NOTIFY_CONFIG}
LAN = {"REMOTE_ADDR": "192.0.2.10"}  # TEST-NET-1: an address string only, nothing is sent
SKIPPED_METHODS = {"HEAD", "OPTIONS"}
CSRF_FIELD = re.compile(r'name="csrf_token"\s+value="([^"]+)"')


@pytest.fixture(scope="module")
def plain_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    with demo_app(tmp_path_factory.mktemp("matrix-map"), **CONFIG) as app:
        yield app


def rule_keys(app: Any) -> set[str]:
    return {f"{method} {rule.rule}" for rule in app.url_map.iter_rules() if not is_static(rule.endpoint)
            for method in sorted(rule.methods or ()) if method not in SKIPPED_METHODS}


def _shape(path: str) -> str:
    """``/a/<int:x>/b`` and ``/a/{x}/b`` both as ``/a/{}/b``."""
    return re.sub(r"<[^>]+>|\{[^}]+\}", "{}", path)


def openapi_keys(app: Any) -> set[str]:
    """The OpenAPI operations as rule keys (``{x}`` mapped back to the URL map's rule)."""
    res = app.test_client().get("/api/v1/openapi.json")
    assert res.status_code == 200, f"the OpenAPI document answered {res.status_code}: {res.data[:200]!r}"
    spec = res.get_json()
    rules = {(_shape(r.rule)): r.rule for r in app.url_map.iter_rules()}
    out = set()
    for path, operations in spec["paths"].items():
        for method in operations:
            if method.upper() in {"GET", "POST", "PUT", "PATCH", "DELETE"}:
                out.add(f"{method.upper()} {rules.get(_shape(path), path)}")
    return out


def socket_keys() -> set[str]:
    """Every handler of every Socket.IO namespace (class-based and decorated)."""
    server = socketio.server
    assert server is not None
    out = set()
    for namespace, handler in server.namespace_handlers.items():
        for name in dir(handler):
            if name.startswith("on_") and callable(getattr(handler, name)):
                out.add(f"SIO {namespace} {name}")
    for namespace, events in server.handlers.items():
        out.update(f"SIO {namespace} on_{event}" for event in events)
    return out


def _missing(wanted: set[str]) -> list[str]:
    known = {case.key for case in MATRIX}
    return sorted(wanted - known)


def test_every_url_rule_has_a_case(plain_app: Any) -> None:
    missing = _missing(rule_keys(plain_app))
    assert not missing, "endpoints without a row in tests/security/matrix.py:\n  " + "\n  ".join(missing)


def test_every_openapi_operation_has_a_case(plain_app: Any) -> None:
    missing = _missing(openapi_keys(plain_app))
    assert not missing, "OpenAPI operations without a row in tests/security/matrix.py:\n  " + \
        "\n  ".join(missing)


def test_every_socket_handler_has_a_case(plain_app: Any) -> None:
    missing = _missing(socket_keys())
    assert not missing, "Socket.IO handlers without a row in tests/security/matrix.py:\n  " + \
        "\n  ".join(missing)


def test_the_table_is_well_formed(plain_app: Any) -> None:
    """Every case names every principal with a known outcome, and no case is stale."""
    live = rule_keys(plain_app) | socket_keys()
    for case in MATRIX:
        assert set(case.expect) == set(PRINCIPALS), case.key
        assert set(case.expect.values()) <= set(OUTCOMES), case.key
        assert case.key in live, f"{case.key}: no such endpoint any more; drop or fix the row"


# -- the walk ---------------------------------------------------------------------------------


def classify(res: Any) -> str:
    status = res.status_code
    if 300 <= status < 400:
        return "login" if urlparse(res.headers.get("Location", "")).path == "/login" else "ok"
    if status < 300:
        return "ok"
    if status in (401, 403, 404):
        return str(status)
    body = res.get_json(silent=True) or {}
    code = (body.get("error") or {}).get("code") if isinstance(body, dict) else None
    if status == 400 and code == "csrf_failed":
        return "csrf"
    if status in (400, 409, 422, 503):  # 503: a voice back end missing, not a refusal
        return "domain"
    return str(status)


def matches(expected: str, got: str) -> bool:
    """Exactly the outcome the table names: an allowed principal's request must succeed (a
    404 or a domain refusal where the table says ``ok`` is a mismatch, not a pass)."""
    return got == expected


def describe(res: Any) -> str:
    body = res.get_json(silent=True)
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        return f"{res.status_code} {body['error'].get('code')}"
    if 300 <= res.status_code < 400:
        return f"{res.status_code} -> {res.headers.get('Location', '')}"
    return str(res.status_code)


class Walker:
    """One principal on one fresh demo app: its client, credentials and CSRF token."""

    def __init__(self, app: Any, world: dict[str, Any], principal: str, mode: str) -> None:
        self.app, self.world, self.principal, self.mode = app, world, principal, mode
        self.client = app.test_client()
        self.client.environ_base.update(LAN)
        self.headers: dict[str, str] = {}
        self.socket_auth: dict[str, str] | None = None
        if principal in DEVICES:
            token = world[f"token:{principal}"]
            self.headers, self.socket_auth = bearer(token), {"token": token}
        elif principal in USERS:
            username = USERNAMES[principal]
            password = INTEGRATION_PASSWORD if principal == "integration" else "demo"
            if mode == "bearer":
                token = token_for(app.test_client(), username, password)
                self.headers, self.socket_auth = bearer(token), {"token": token}
            else:
                self._sign_in(username, password)
        self.csrf = self._csrf_token()

    def _csrf_token(self) -> str:
        page = self.client.get("/login").get_data(as_text=True)
        found = CSRF_FIELD.search(page)
        assert found, "the sign-in page carries no CSRF token"
        return found.group(1)

    def _sign_in(self, username: str, password: str) -> None:
        res = self.client.post("/login", data={"username": username, "password": password,
                                               "csrf_token": self._csrf_token()})
        assert res.status_code == 302, f"{username} could not sign in: {res.status_code}"

    def http(self, case: Case) -> tuple[str, str]:
        url = fill(case.url, self.world)
        headers = dict(self.headers)
        kwargs: dict[str, Any] = {"query_string": fill(case.query, self.world)}
        if case.method not in ("GET", "HEAD"):
            headers["X-CSRFToken"] = self.csrf
            if case.form:
                kwargs["data"] = {**fill(case.json, self.world), "csrf_token": self.csrf}
                if case.upload:
                    name, filename, content = case.upload
                    data = content if isinstance(content, bytes) else content.encode()
                    kwargs["data"][name] = (io.BytesIO(data), filename)
            elif case.json is not None:
                kwargs["json"] = fill(case.json, self.world)
        res = self.client.open(url, method=case.method, headers=headers, **kwargs)
        return classify(res), describe(res)

    def _fingerprint(self) -> tuple[Any, ...]:
        with self.app.app_context():
            session = db.session()
            return (session.scalar(select(func.count()).select_from(TicketEvent)),
                    tuple(session.execute(select(Ticket.id, Ticket.state).order_by(Ticket.id)).all()),
                    tuple(session.execute(select(Counter.id, Counter.state).order_by(Counter.id)).all()))

    def socket(self, case: Case) -> tuple[str, str]:
        namespace = case.url
        sio = socketio.test_client(self.app, namespace=namespace, flask_test_client=self.client,
                                   auth=self.socket_auth)
        if not sio.is_connected(namespace):
            return "401", "refused"
        try:
            if not case.event:
                return "ok", "connected"
            observer = socketio.test_client(self.app, namespace="/display")
            observer.get_received("/display")
            before = self._fingerprint()
            payload = {"ticket": {"id": self.world["t"]}, "counter": {"id": self.world["c1"]},
                       "counter_id": self.world["c1"], "job_id": 1, "ok": True, "state": "online"}
            sio.emit(case.event, payload, namespace=namespace)
            heard = [e["name"] for e in observer.get_received("/display")]
            observer.disconnect(namespace="/display")
            if not sio.is_connected(namespace):
                return "dropped", f"disconnected after {case.event}"
            if namespace != "/agent" and self._fingerprint() != before:
                return "changed", f"{case.event} changed the database"
            if case.event in heard:
                return "relayed", f"{case.event} reached another display"
            return "ok", "nothing changed"
        finally:
            if sio.is_connected(namespace):
                sio.disconnect(namespace=namespace)


def walk(tmp_path: Path, principal: str, mode: str) -> list[tuple[str, ...]]:
    """Every case for ``principal``; the rows that did not answer as the table says."""
    mismatches = []
    with demo_app(tmp_path, **CONFIG) as app:
        world = build_world(app)
        helper = app.test_client()
        add_webhook(app, helper, token_for(helper, "admin"), world)
        walker = Walker(app, world, principal, mode)
        ordered = sorted(enumerate(MATRIX), key=lambda pair: (pair[1].order, pair[0]))
        for _index, case in ordered:
            expected = case.expect[principal]
            if case.key.startswith("SIO "):
                got, detail = walker.socket(case)
            else:
                got, detail = walker.http(case)
            if not matches(expected, got):
                shown = fill(case.url, world) + ("?" + "&".join(case.query) if case.query else "")
                mismatches.append((case.key, shown, expected, got, detail, case.note))
    return mismatches


def table(rows: list[tuple[str, ...]], principal: str, mode: str) -> str:
    head = ("endpoint", "request", "expected", "got", "answer", "note")
    widths = [max(len(str(r[i])) for r in [head, *rows]) for i in range(len(head))]
    lines = [f"{principal} ({mode}): {len(rows)} row(s) answer otherwise than the matrix says"]
    for row in [head, *rows]:
        lines.append("  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)))
    return "\n".join(lines)


WALKS = [(p, "bearer") for p in PRINCIPALS] + [(u, "cookie") for u in USERS]


@pytest.mark.parametrize(("principal", "mode"), WALKS, ids=[f"{p}-{m}" for p, m in WALKS])
def test_matrix_walk(tmp_path: Path, principal: str, mode: str) -> None:
    rows = walk(tmp_path, principal, mode)
    assert not rows, table(rows, principal, mode)


def test_cookie_sessions_need_the_csrf_token(tmp_path: Path) -> None:
    """A signed-in browser's API change without the CSRF header is refused and changes nothing;
    with it, the same request goes through (the walk above always sends it)."""
    with demo_app(tmp_path, **CONFIG) as app:
        world = build_world(app)
        walker = Walker(app, world, "clerk", "cookie")
        url = f"/api/v1/counters/{world['c1']}/pause"
        res = walker.client.post(url, json={"reason": "Nghỉ giải lao"})
        assert res.status_code == 400 and res.get_json()["error"]["code"] == "csrf_failed"
        counters = walker.client.get("/api/v1/counters").get_json()["counters"]
        assert [c["state"] for c in counters if c["id"] == world["c1"]] == ["open"]
        res = walker.client.post(url, json={"reason": "Nghỉ giải lao"}, headers={"X-CSRFToken": walker.csrf})
        assert res.status_code == 200 and res.get_json()["state"] == "paused"
