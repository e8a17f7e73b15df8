"""Request ids, JSON log lines, and ProxyFix behind ONESTOP_PROXY_COUNT proxies."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Any

from flask import request
from werkzeug.middleware.proxy_fix import ProxyFix

from onestop.app import create_app
from onestop.extensions import db
from onestop.ops import logs
from tests.conftest import app_config


def test_request_id_is_echoed_when_sane_and_made_otherwise(ops_client: Any) -> None:
    res = ops_client.get("/healthz", headers={"X-Request-ID": "nginx-5f2a.77"})
    assert res.headers["X-Request-ID"] == "nginx-5f2a.77"
    made = ops_client.get("/healthz", headers={"X-Request-ID": "bad id <script>" + "x" * 80})
    rid = made.headers["X-Request-ID"]
    assert len(rid) == 32 and rid.isalnum()
    assert ops_client.get("/healthz").headers["X-Request-ID"] != rid


def _record(name: str, msg: str, args: Any = None, exc: bool = False) -> logging.LogRecord:
    exc_info = None
    if exc:
        try:
            raise ValueError("boom")
        except ValueError:
            exc_info = sys.exc_info()
    return logging.LogRecord(name, logging.WARNING, __file__, 1, msg, args, exc_info)


def test_json_lines_carry_the_request_id(ops_app: Any) -> None:
    formatter = logs.JsonFormatter()
    with ops_app.test_request_context("/x", headers={"X-Request-ID": "rid-42"}):
        logs._assign_request_id()
        line = formatter.format(_record("onestop.api", "ticket %s issued", ("A001",)))
    out = json.loads(line)
    assert out["level"] == "warning" and out["logger"] == "onestop.api"
    assert out["message"] == "ticket A001 issued" and out["request_id"] == "rid-42"
    assert out["ts"].endswith("Z") and "T" in out["ts"]
    assert "\n" not in line

    outside = json.loads(formatter.format(_record("onestop", "Hòa Bình: %d", (3,), exc=True)))
    assert outside["request_id"] is None and outside["message"] == "Hòa Bình: 3"
    assert "ValueError: boom" in outside["exc"]


def test_gunicorn_access_lines_become_fields() -> None:
    atoms = {"r": "POST /api/v1/tickets HTTP/1.1", "m": "POST", "U": "/api/v1/tickets", "q": "",
             "s": 201, "M": 12, "h": "127.0.0.1",
             "{x-forwarded-for}i": "192.0.2.7", "a": "curl", "B": 250, "{onestop.request_id}e": "rid-7"}
    record = _record("gunicorn.access", '%(h)s "%(r)s" %(s)s', atoms)
    out = json.loads(logs.JsonFormatter().format(record))
    assert out["request_id"] == "rid-7"
    assert out["http"]["status"] == 201 and out["http"]["path"] == "/api/v1/tickets"
    assert out["http"]["duration_ms"] == 12 and out["http"]["forwarded_for"] == "192.0.2.7"
    assert out["http"]["query"] is None


def test_text_lines_get_the_request_id_inside_a_request(ops_app: Any) -> None:
    formatter = logs.TextFormatter()
    with ops_app.test_request_context("/x", headers={"X-Request-ID": "rid-9"}):
        logs._assign_request_id()
        assert formatter.format(_record("onestop", "hello")).endswith("onestop: hello [rid rid-9]")
    assert formatter.format(_record("onestop", "hello")).endswith("onestop: hello")


def _address_app(tmp_path: Path, count: int) -> Any:
    app = create_app(app_config(tmp_path, PROXY_COUNT=count))
    app.add_url_rule("/_whoami", "whoami",
                     lambda: {"addr": request.remote_addr, "scheme": request.scheme})
    return app


def test_proxy_fix_trusts_exactly_the_configured_proxies(tmp_path: Path) -> None:
    forwarded = {"X-Forwarded-For": "192.0.2.7", "X-Forwarded-Proto": "https"}
    try:
        off = _address_app(tmp_path / "off", 0)
        assert not isinstance(off.wsgi_app, ProxyFix)
        assert off.test_client().get("/_whoami", headers=forwarded).get_json() == {
            "addr": "127.0.0.1", "scheme": "http"}

        one = _address_app(tmp_path / "one", 1)
        assert isinstance(one.wsgi_app, ProxyFix)
        assert one.test_client().get("/_whoami", headers=forwarded).get_json() == {
            "addr": "192.0.2.7", "scheme": "https"}
        # a client-supplied X-Forwarded-For before nginx's entry is not believed
        spoofed = {"X-Forwarded-For": "10.9.9.9, 192.0.2.7"}
        assert one.test_client().get("/_whoami", headers=spoofed).get_json()["addr"] == "192.0.2.7"
    finally:
        db.session.remove()
        assert db.engine is not None
        db.engine.dispose()


def test_the_lean_access_line_matches_gunicorns_own() -> None:
    """onestop's logger builds only the access fields it prints; the text line and the JSON
    ``http`` object must come out as gunicorn's full atoms would make them."""
    import datetime as dt
    from types import SimpleNamespace

    from gunicorn.config import Config
    from gunicorn.glogging import Logger, SafeAtoms


    environ = {"REQUEST_METHOD": "POST", "RAW_URI": "/api/v1/tickets?unit=X&lang=vi",
               "PATH_INFO": "/api/v1/tickets", "QUERY_STRING": "unit=X&lang=vi",
               "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "10.0.0.9",
               "HTTP_USER_AGENT": 'kiosk "A"/1.0', "HTTP_X_FORWARDED_FOR": "192.0.2.7",
               logs.ENVIRON_KEY: "rid-77"}
    headers = [("User-Agent", 'kiosk "A"/1.0'), ("X-Forwarded-For", "192.0.2.7")]
    resp = SimpleNamespace(status="201 CREATED", sent=345, headers=[("Content-Type", "x")])
    took = dt.timedelta(seconds=1, microseconds=23_456)
    cfg = Config()
    stock = SafeAtoms(Logger(cfg).atoms(resp, headers, environ, took))
    lean = SafeAtoms(logs.AccessLogger(cfg).atoms(resp, headers, environ, took))
    assert logs.ACCESS_FORMAT % lean == logs.ACCESS_FORMAT % stock
    assert '"POST /api/v1/tickets?unit=X&lang=vi HTTP/1.1" 201 345 1023ms' in logs.ACCESS_FORMAT % lean

    def fields(atoms: Any) -> Any:
        return logs._access_fields(_record("gunicorn.access", logs.ACCESS_FORMAT, atoms))

    assert fields(lean) == fields(stock)
    assert fields(lean)["status"] == 201 and fields(lean)["forwarded_for"] == "192.0.2.7"
    # without a forwarded header or user agent, both print "-"
    bare = {k: v for k, v in environ.items() if not k.startswith("HTTP_")}
    assert (logs.ACCESS_FORMAT % SafeAtoms(logs.AccessLogger(cfg).atoms(resp, [], bare, took))
            == logs.ACCESS_FORMAT % SafeAtoms(Logger(cfg).atoms(resp, [], bare, took)))
