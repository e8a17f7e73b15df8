"""The smaller holes of issue 18: staff logins out of public answers, JSON-only API bodies,
out-of-range numbers, the access log, printer URIs, caching of personal data, and what the
OpenAPI document promises (docs/security.md, "Smaller holes")."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from sqlalchemy import select

from onestop.accounts.models import Device
from onestop.dossiers.lookup import lookup_url
from onestop.extensions import socketio
from onestop.realtime import events as ev
from tests.api.helpers import act, in_db, issue, ok
from tests.backoffice.conftest import field_errors, signed_in, submit
from tests.conftest import SECRET, bearer, token_for
from tests.dossiers.conftest import receive

LOGINS = ("clerk1", "clerk2")
BIG = 2**70  # past any database integer (SQLite: 64 bits)


# -- 6: a clerk's login is not public ----------------------------------------------------------


def _rename(app: Any, username: str, full_name: str) -> None:
    from onestop.accounts.models import User

    with in_db(app) as session:
        session.scalars(select(User).where(User.username == username)).one().full_name = full_name


def test_public_counter_answers_name_the_clerk_never_by_login(app: Any, client: Any) -> None:
    _rename(app, "clerk2", "")  # an account without a display name shows nothing
    for login in LOGINS:
        ok(act(client, token_for(client, login), int(login[-1]), "open"))
    listed = ok(client.get("/api/v1/counters"))  # anonymous: the list is public
    state = ok(client.get("/api/v1/display/state"))
    display = socketio.test_client(app, namespace=ev.DISPLAY_NS)
    [snapshot] = [e["args"][0] for e in display.get_received(ev.DISPLAY_NS) if e["name"] == ev.STATE]
    for answer in (listed, state, snapshot):
        text = json.dumps(answer, ensure_ascii=False)
        assert not any(f'"{login}"' in text for login in LOGINS), text[:400]
        assert "username" not in text
        clerks = {c["number"]: c["clerk"] for c in answer["counters"] if c["clerk"]}
        assert clerks[1]["full_name"] and clerks[1]["full_name"] not in LOGINS
        assert clerks[2] == {"id": clerks[2]["id"], "full_name": None}


# -- 10: a body the API reads is JSON ----------------------------------------------------------


def _pairing_code(app: Any) -> str:
    from onestop.accounts.engine import add_device
    from onestop.db import utcnow
    from onestop.units.models import Unit

    with in_db(app) as session:
        unit = session.scalars(select(Unit)).first()
        _device, _token, code = add_device(session, unit, "display", "Màn hình lừa", now=utcnow())
    return code


@pytest.mark.parametrize("form", ["urlencoded", "text/plain", "multipart"])
def test_a_cross_site_form_cannot_pair_a_browser(app: Any, client: Any, form: str) -> None:
    """What a page of another site can send without a preflight: no pairing, no cookie."""
    code = _pairing_code(app)
    if form == "urlencoded":
        kwargs: dict[str, Any] = {"data": {"code": code}}
    elif form == "multipart":
        kwargs = {"data": {"code": code}, "content_type": "multipart/form-data"}
    else:  # <form enctype="text/plain"> with name='{"code":"...","x":"' value='"}'
        kwargs = {"data": json.dumps({"code": code, "x": "="}), "content_type": "text/plain"}
    res = client.post("/api/v1/devices/pair", **kwargs)
    assert res.status_code == 415, res.get_data(as_text=True)
    assert res.get_json()["error"]["code"] == "unsupported_media_type"
    assert "onestop_device" not in res.headers.get("Set-Cookie", "")
    with in_db(app) as session:
        device = session.scalars(select(Device).where(Device.name == "Màn hình lừa")).one()
        assert device.pairing_code_hash is not None  # the code is still unused
    # the pairing page's own JSON call still pairs
    res = client.post("/api/v1/devices/pair", json={"code": code})
    assert res.status_code == 200 and "onestop_device" in res.headers["Set-Cookie"]


def test_every_api_change_refuses_a_body_that_is_not_json(client: Any) -> None:
    token = bearer(token_for(client, "clerk1"))
    for url, body in (("/api/v1/tickets", "service_id=1"),
                      ("/api/v1/counters/1/pause", "reason=x"),
                      ("/api/v1/auth/token", "username=clerk1&password=demo")):
        res = client.post(url, data=body, headers=token,
                          content_type="application/x-www-form-urlencoded")
        assert res.status_code == 415, (url, res.status_code)
    # a call without a body needs no Content-Type (call-next, the heartbeat)
    ok(client.post("/api/v1/counters/1/open", headers=token))
    # JSON with a charset, and JSON-based types, are JSON
    res = client.post("/api/v1/tickets", data=json.dumps({"service_id": 1}), headers=token,
                      content_type="application/json; charset=utf-8")
    assert res.status_code == 201


# -- 11: numbers past the database's range -----------------------------------------------------


@pytest.mark.parametrize("url", [
    f"/display/counter/{BIG}", f"/display/counter/{2**63}",
    f"/display/announcement.json?ticket={BIG}&counter=1",
    f"/display/announcement.json?ticket=1&counter=-{BIG}",
    f"/display/voice.wav?ticket=1&counter={BIG}",
    f"/display/voice.wav?ticket={2**64}&counter=1",
])
def test_out_of_range_numbers_are_not_found(client: Any, url: str) -> None:
    res = client.get(url, headers={"Accept": "application/json"})
    assert res.status_code in (404, 422), (res.status_code, res.get_data(as_text=True)[:200])


# -- 13: the lookup key in the access log ------------------------------------------------------


def test_a_scanned_qr_url_in_the_lookup_form_leaves_no_key_in_the_access_log(tmp_path: Path) -> None:
    import requests

    from tests.livesrv import demo_server

    scanned = "http://127.0.0.1:8000/lookup/H56-000000-0001?k=scannedsecret1"
    with demo_server(tmp_path, ONESTOP_LOG_FORMAT="json") as base:
        requests.get(f"{base}/lookup/", params={"code": scanned}, timeout=10,
                     allow_redirects=False)
        # typed twice over (a scanner in a browser that encodes again), and on the API
        requests.get(f"{base}/lookup/?code={quote(quote(scanned, safe=''), safe='')}", timeout=10)
        requests.get(f"{base}/api/v1/lookup", params={"code": scanned.replace("scannedsecret1",
                                                                                "apisecret22")},
                     timeout=10)
    log = (tmp_path / "server.log").read_text(encoding="utf-8", errors="replace")
    access = [line for line in log.splitlines() if '"gunicorn.access"' in line]
    assert sum("/lookup/" in line for line in access) >= 2, log[-2000:]
    for secret in ("scannedsecret1", "apisecret22"):
        assert secret not in log, [line for line in log.splitlines() if secret in line]


# -- 14: printer URIs from the back office -----------------------------------------------------


@pytest.mark.parametrize("uri", [
    "file:///tmp/onestop-pwned?create=1", "file:///etc/passwd", "serial:///etc/shadow",
    "file:///dev/usb/../sda", "tcp://127.0.0.1:6379", "tcp://[::1]:5432", "tcp://8.8.8.8:9100",
])
def test_the_back_office_refuses_printer_uris_outside_the_allow_list(app: Any, uri: str) -> None:
    admin = signed_in(app, "admin")
    res = submit(admin, "/admin/devices/new", {"kind": "kiosk", "name": "Ki-ốt lạ",
                                               "counter_id": "0", "printer_uri": uri})
    assert res.status_code == 422
    assert any(e.startswith("Địa chỉ máy in không được phép") for e in field_errors(res)), \
        field_errors(res)
    with in_db(app) as session:
        assert session.scalars(select(Device).where(Device.name == "Ki-ốt lạ")).first() is None
    assert not Path("/tmp/onestop-pwned").exists()


@pytest.mark.parametrize("uri", [
    "file:///dev/usb/lp0", "serial:///dev/ttyUSB0?baudrate=19200", "serial:///dev/ttyS1",
    "tcp://192.168.1.50:9100", "tcp://10.0.0.9", "usb://04b8:0202", "cups://bien-nhan",
    "agent", "dummy",
])
def test_the_back_office_takes_printers_on_the_allow_list(app: Any, uri: str) -> None:
    admin = signed_in(app, "admin")
    res = submit(admin, "/admin/devices/new", {"kind": "kiosk", "name": "Ki-ốt tốt",
                                               "counter_id": "0", "printer_uri": uri})
    assert res.status_code in (200, 302, 303), field_errors(res)
    with in_db(app) as session:
        device = session.scalars(select(Device).where(Device.name == "Ki-ốt tốt")).one()
        assert device.printer_uri == uri


def test_configured_directories_and_networks_widen_the_list(tmp_path: Path) -> None:
    from tests.conftest import demo_app

    spool = tmp_path / "spool"
    spool.mkdir()
    with demo_app(tmp_path, PRINTER_DIRS=str(spool), PRINTER_NETWORKS="127.0.0.0/8") as app:
        admin = signed_in(app, "admin")
        for name, uri, allowed in (
                ("a", f"file://{spool}/ve.bin?create=1", True),
                ("b", f"file://{spool}/../outside.bin?create=1", False),
                ("c", "tcp://127.0.0.1:9100", True),
                ("d", "tcp://192.168.1.50:9100", False)):  # the configured list replaces the LAN
            res = submit(admin, "/admin/devices/new", {"kind": "kiosk", "name": f"Ki-ốt {name}",
                                                       "counter_id": "0", "printer_uri": uri})
            assert (res.status_code != 422) is allowed, (uri, res.status_code)


def test_editing_a_device_checks_the_list_too(app: Any) -> None:
    from onestop.accounts.engine import add_device
    from onestop.db import utcnow
    from onestop.units.models import Unit

    with in_db(app) as session:
        unit = session.scalars(select(Unit)).first()
        device, _t, _c = add_device(session, unit, "kiosk", "Ki-ốt sửa", now=utcnow(),
                                    printer_uri="dummy")
        device_id = device.id
    admin = signed_in(app, "admin")
    res = submit(admin, f"/admin/devices/{device_id}/edit",
                 {"name": "Ki-ốt sửa", "counter_id": "0", "printer_uri": "file:///tmp/x?create=1"})
    assert res.status_code == 422
    assert any(e.startswith("Địa chỉ máy in không được phép") for e in field_errors(res))
    with in_db(app) as session:
        assert session.get(Device, device_id).printer_uri == "dummy"


# -- 15: personal data is never cached ---------------------------------------------------------


def test_answers_with_personal_data_are_not_stored(app: Any, client: Any) -> None:
    with in_db(app) as session:
        dossier = receive(session, dt.datetime.now(dt.UTC) - dt.timedelta(hours=1))
        code, service_id = dossier.code, dossier.procedure.service_id
        year = dossier.received_at.year
    token = bearer(token_for(client, "clerk1"))
    k = lookup_url("http://x", SECRET, code).rsplit("k=", 1)[1]
    answers = {
        "dossier": client.get(f"/api/v1/dossiers/{code}", headers=token),
        "lookup (QR)": client.get(f"/api/v1/lookup?code={code}&k={k}"),
        "lookup (phone)": client.get(f"/api/v1/lookup?code={code}&phone4=5678"),
        "book": signed_in(app, "clerk1").get(f"/counter/book?service_id={service_id}&year={year}"),
    }
    for name, res in answers.items():
        assert res.status_code == 200, (name, res.status_code)
        assert "no-store" in res.headers.get("Cache-Control", ""), (name, res.headers)
    assert "Nguyễn" in answers["book"].get_data(as_text=True)  # the page does show the applicant


# -- 17: the OpenAPI document ------------------------------------------------------------------


def test_the_document_says_which_bodies_are_required(client: Any) -> None:
    spec = ok(client.get("/api/v1/openapi.json"))
    token = bearer(token_for(client, "admin"))
    bodies = [(path, method, op["requestBody"]) for path, ops in spec["paths"].items()
              for method, op in ops.items() if isinstance(op, dict) and "requestBody" in op]
    assert len(bodies) > 10
    optional = {(p, m) for p, m, body in bodies if not body.get("required")}
    assert optional == {("/api/v1/counters/{counter_id}/close", "post")}
    # required means it: without a body the API refuses (never a 2xx, never a 5xx)
    for path, method, _body in bodies:
        url = re.sub(r"\{[^}]+\}", "1", path)
        res = client.open(url, method=method.upper(), headers=token)
        if (path, method) in optional:
            continue
        assert res.status_code in (400, 401, 403, 404, 409, 422, 429), (url, res.status_code)
        assert not 200 <= res.status_code < 300


def test_the_document_lists_422_and_415_where_the_api_can_answer_them(client: Any) -> None:
    spec = ok(client.get("/api/v1/openapi.json"))
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            if not isinstance(op, dict) or "responses" not in op:
                continue
            has_query = any(p.get("in") == "query" for p in op.get("parameters", []))
            if "requestBody" in op or has_query:
                assert "422" in op["responses"], (method, path)
            if "requestBody" in op:
                assert "415" in op["responses"], (method, path)


@pytest.mark.parametrize("method,url,allowed", [
    ("PUT", "/api/v1/services", {"GET", "HEAD", "OPTIONS"}),
    ("GET", "/api/v1/counters/1/call-next", {"POST", "OPTIONS"}),
    ("DELETE", "/api/v1/tickets", {"POST", "OPTIONS"}),
])
def test_405_says_what_is_allowed(client: Any, method: str, url: str, allowed: set[str]) -> None:
    res = client.open(url, method=method)
    assert res.status_code == 405
    assert {m.strip() for m in res.headers.get("Allow", "").split(",")} >= allowed - {"HEAD"}
    assert res.get_json()["error"]["code"] == "method_not_allowed"


def test_issue_helper_still_works(client: Any) -> None:
    """The kiosk's own call (JSON with its Content-Type) is untouched by the 415 rule."""
    token = token_for(client, "clerk1")
    assert issue(client, token, 1)["label"]
