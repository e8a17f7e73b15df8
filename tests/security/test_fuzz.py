"""Hostile input: schemathesis against the OpenAPI document of a running demo server.

Every operation of ``/api/v1/openapi.json`` gets up to 25 generated requests that fit the
schema (and 10 that do not), each sent with the bearer token of the principal that may
call it (the admin for webhooks, audit, privacy and devices; the manager for reports,
dashboard and printers; the kiosk for issuing; the rating tablet for ratings; clerk1,
signed in at counter 1, for counters, tickets and dossiers), with the path pointing at real
objects so that the requests get past the lookups. Checks: no 5xx ever; answers conform to
the documented response schema and status codes (for the valid requests; the invalid ones
must only never get a 5xx). Deterministic (``derandomize``).

Needs no network beyond loopback: webhooks are stored but never sent (worker off), printing
goes to the in-memory ``dummy`` printer.
"""

from __future__ import annotations

import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import hypothesis
import pytest
import requests
import schemathesis
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance
from sqlalchemy import select

from onestop.accounts import engine as accounts
from onestop.db import Database, make_engine, utcnow
from onestop.units.models import Unit
from tests.livesrv import demo_server

pytestmark = pytest.mark.timeout(400)

POSITIVE_EXAMPLES = 25
NEGATIVE_EXAMPLES = 10
SETTINGS_TOML = """\
ratelimit_enabled = false
webhook_worker = false
webhook_allow_loopback = true
login_lockout_attempts = 100000
"""
INTEGRATION_PASSWORD = "integration-pass-1"
# operations that spoil what the others need: run them last
LAST = ("/close", "/revoke", "DELETE ")


def _token(base: str, username: str, password: str = "demo") -> str:
    res = requests.post(f"{base}/api/v1/auth/token", json={"username": username, "password": password},
                        timeout=10)
    assert res.status_code == 201, res.text
    return str(res.json()["token"])


def _devices(data_dir: Path) -> dict[str, Any]:
    """A kiosk with the dummy printer, a tablet at counter 1, spare displays, an integration
    account: written straight into the server's SQLite file."""
    database = Database()
    database.engine = make_engine(f"sqlite:///{data_dir / 'onestop.sqlite3'}")
    database.session_factory.configure(bind=database.engine)
    out: dict[str, Any] = {}
    try:
        with database.transaction() as session:
            unit = session.scalars(select(Unit).order_by(Unit.id)).first()
            assert unit is not None
            now = utcnow()
            _d, out["kiosk"], _c = accounts.add_device(session, unit, "kiosk", "fuzz kiosk", now=now,
                                                       printer_uri="dummy://fuzz")
            _d, out["tablet"], _c = accounts.add_device(session, unit, "tablet", "fuzz tablet", now=now,
                                                        counter_number=1)
            spare, _t, _c = accounts.add_device(session, unit, "display", "fuzz spare", now=now)
            out["spare_device"] = spare.id
            accounts.add_user(session, unit, "bridge", INTEGRATION_PASSWORD, "integration")
    finally:
        database.engine.dispose()
    return out


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    data_dir = tmp_path_factory.mktemp("fuzz")
    (data_dir / "onestop.toml").write_text(SETTINGS_TOML)
    with demo_server(data_dir) as base:
        world: dict[str, Any] = {"base": base, "data_dir": data_dir, **_devices(data_dir)}
        for role, username in (("admin", "admin"), ("manager", "manager"), ("clerk", "clerk1"),
                               ("revoker", "clerk2")):
            world[role] = _token(base, username)
        world["integration"] = _token(base, "bridge", INTEGRATION_PASSWORD)
        _prepare(world)
        yield world


def _prepare(world: dict[str, Any]) -> None:
    """Counter 1 open for clerk1, people waiting, a dossier, a webhook: things to act on."""
    base = world["base"]

    def call(method: str, path: str, token: str, body: Any = None) -> Any:
        res = requests.request(method, f"{base}/api/v1{path}", json=body, timeout=10,
                               headers={"Authorization": f"Bearer {token}"})
        assert res.status_code < 300, (path, res.status_code, res.text)
        return res.json()

    counters = call("GET", "/counters", world["clerk"])["counters"]
    world["counter_id"] = next(c["id"] for c in counters if c["number"] == 1)
    call("POST", f"/counters/{world['counter_id']}/open", world["clerk"])
    services = call("GET", "/services", world["clerk"])["services"]
    served = next(c for c in counters if c["number"] == 1)["service_ids"][0]
    for _ in range(30):
        ticket = call("POST", "/tickets", world["kiosk"], {"service_id": served})
    world["ticket_id"] = ticket["id"]
    world["service_id"] = services[0]["id"]
    dossier = call("POST", "/dossiers", world["clerk"], {
        "procedure_code": "1.001193", "ticket_id": ticket["id"],
        "applicant": {"name": "Nguyễn Văn Bình", "id_number": "001090012345", "phone": "0912345678"}})
    world["code"] = dossier["code"]
    hook = call("POST", "/webhooks", world["admin"], {"url": "http://127.0.0.1:9/fuzz",
                                                      "events": ["ticket.issued"]})
    world["webhook_id"] = hook["id"]


def principal_for(method: str, path: str) -> str:
    """Whose token an operation is called with: the role meant to use it."""
    tail = path.removeprefix("/api/v1")
    if tail == "/auth/revoke":
        return "revoker"  # revokes its own token: not one the others need
    if tail.startswith(("/webhooks", "/audit", "/privacy", "/devices/{")):
        return "admin"
    if tail.startswith(("/reports", "/dashboard", "/printers")):
        return "manager"
    if tail == "/tickets" and method == "POST":
        return "kiosk"
    if tail == "/ratings":
        return "tablet"
    if tail.startswith("/dossiers/{code}/status"):
        return "integration"
    return "clerk"


def fixed_path(world: dict[str, Any], path: str) -> dict[str, Any]:
    """Real objects for the path parameters; the rest (delivery ids ...) is generated."""
    known = {"counter_id": world["counter_id"], "ticket_id": world["ticket_id"],
             "webhook_id": world["webhook_id"], "device_id": world["spare_device"]}
    if path.startswith("/api/v1/dossiers/{code}"):
        known["code"] = world["code"]
    return {name: value for name, value in known.items() if "{" + name + "}" in path}


def _operations(base: str) -> list[Any]:
    schema = schemathesis.openapi.from_url(f"{base}/api/v1/openapi.json", timeout=10)
    operations = [result.ok() for result in schema.get_all_operations()]
    return sorted(operations, key=lambda op: any(m in f"{op.method.upper()} {op.path}" for m in LAST))


def _run(op: Any, world: dict[str, Any], mode: Any, examples: int, checks: list[Any]) -> str | None:
    """Up to ``examples`` requests for ``op``; the first failure as text, or None."""
    base = world["base"]
    token = world[principal_for(op.method.upper(), op.path)]
    headers = {"Authorization": f"Bearer {token}"}
    strategy = op.as_strategy(generation_mode=mode, path_parameters=fixed_path(world, op.path))

    @hypothesis.settings(max_examples=examples, derandomize=True, deadline=None, database=None,
                         suppress_health_check=list(hypothesis.HealthCheck),
                         phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate])
    @hypothesis.given(case=strategy)
    def check(case: Any) -> None:
        response = case.call(base_url=base, headers=headers, timeout=15)
        case.validate_response(response, checks=checks, headers=headers)
        if response.status_code >= 400:  # the document's HTTPError schema says little: check it here
            assert_envelope(response, case)

    try:
        check()
    except hypothesis.errors.Unsatisfiable:
        return None  # nothing to vary (no parameters, or all fixed): nothing invalid to send
    except (Exception, BaseExceptionGroup) as failure:  # noqa: BLE001 - collected, reported together
        return f"{op.method.upper()} {op.path} ({mode.value}): {explain(failure)}"
    return None


def assert_envelope(response: Any, case: Any) -> None:
    """Every refusal is the API's envelope ``{"error": {"code", "message"}}``, never a page."""
    try:
        body = response.json()
    except ValueError:
        body = None
    error = body.get("error") if isinstance(body, dict) else None
    ok = isinstance(error, dict) and all(isinstance(error.get(k), str) for k in ("code", "message"))
    assert ok, (f"{case.method} {case.formatted_path} answered {response.status_code} without the "
                f"error envelope: {response.text[:300]!r}")


def explain(failure: BaseException) -> str:
    """The failure with schemathesis' own explanation (status, body, curl to reproduce)."""
    text = "".join(traceback.format_exception_only(failure))
    for sub in getattr(failure, "exceptions", ()):
        text += "".join(traceback.format_exception_only(sub))
    return text.strip()[:2500]


def test_no_5xx_and_answers_match_the_document(server: dict[str, Any]) -> None:
    failures = []
    operations = _operations(server["base"])
    assert len(operations) >= 40
    for op in operations:
        for mode, examples, checks in (
                (GenerationMode.POSITIVE, POSITIVE_EXAMPLES,
                 [not_a_server_error, response_schema_conformance, status_code_conformance]),
                # invalid input: any 4xx will do (a missing body is 400, not always documented)
                (GenerationMode.NEGATIVE, NEGATIVE_EXAMPLES, [not_a_server_error])):
            failure = _run(op, server, mode, examples, checks)
            if failure:
                failures.append(failure)
    assert not failures, f"{len(failures)} operation(s) failed:\n\n" + "\n\n".join(failures)


def test_the_server_is_healthy_and_logged_no_traceback(server: dict[str, Any]) -> None:
    """After the fuzz (module order): still answering, and no unhandled error in its log."""
    res = requests.get(f"{server['base']}/healthz", timeout=10)
    assert res.status_code == 200 and res.json() == {"status": "ok"}
    log = (server["data_dir"] / "server.log").read_text(errors="replace")
    assert "Traceback" not in log and "unhandled error" not in log, log[-3000:]
