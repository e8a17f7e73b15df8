"""The phone-digit budget of the public lookup (per dossier code) and the sign-in throttle
(per address) survive a restart: they are counted in the database, not only in the
process's memory (onestop/accounts/throttle.py).

A restart is a new app instance over the same database (a fresh in-memory limiter), and,
for the sign-in throttle, a real ``onestop demo`` server stopped and started again."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import requests

from onestop import demo
from onestop.app import create_app
from onestop.extensions import db
from tests.api.helpers import assert_error, in_db
from tests.conftest import MONDAY_9, app_config, create_schema
from tests.dossiers.conftest import receive
from tests.livesrv import demo_server

LIMITS = {"RATELIMIT_ENABLED": True, "LOOKUP_CODE_RATE_LIMIT": "3 per hour",
          "LOOKUP_RATE_LIMIT": "100 per minute", "LOGIN_RATE_LIMIT": "3 per hour",
          "LOGIN_LOCKOUT_ATTEMPTS": 0}


@pytest.fixture(autouse=True)
def frozen_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("onestop.api.lookup.now", lambda: MONDAY_9)


def _start(tmp_path: Path) -> Any:
    """A process's worth of app: a new app instance, a new (empty) in-memory limiter."""
    return create_app(app_config(tmp_path, ALWAYS_OPEN=True, **LIMITS))


@pytest.fixture
def first(tmp_path: Path) -> Any:
    application = _start(tmp_path)
    create_schema(application.config["DATABASE_URL"])
    with application.app_context():
        demo.load(db.session())
        db.session.commit()
    return application


def test_the_phone_digit_budget_of_a_code_survives_a_restart(first: Any, tmp_path: Path) -> None:
    with in_db(first) as session:
        code = receive(session, MONDAY_9).code
    client = first.test_client()
    for n, address in enumerate(("10.0.0.1", "10.0.0.2", "10.0.0.3")):
        res = client.get("/api/v1/lookup", query_string={"code": code, "phone4": f"{n:04d}"},
                         environ_base={"REMOTE_ADDR": address})
        assert_error(res, 404, "dossier_not_found")
    restarted = _start(tmp_path).test_client()
    # the right digits from a fresh address: the code's budget is still spent
    res = restarted.get("/api/v1/lookup", query_string={"code": code, "phone4": "5678"},
                        environ_base={"REMOTE_ADDR": "10.0.0.4"})
    assert_error(res, 429, "rate_limited")
    page = restarted.get("/lookup/", query_string={"code": code, "phone4": "5678"},
                         environ_base={"REMOTE_ADDR": "10.0.0.5"})
    assert page.status_code == 429
    # the QR path (code and key) is not a guess and is not budgeted
    from onestop.dossiers.lookup import lookup_token
    from tests.conftest import SECRET

    res = restarted.get("/api/v1/lookup", query_string={"code": code, "k": lookup_token(SECRET, code)},
                        environ_base={"REMOTE_ADDR": "10.0.0.4"})
    assert res.status_code == 200


def test_the_sign_in_throttle_survives_a_restart(first: Any, tmp_path: Path) -> None:
    client = first.test_client()
    env = {"REMOTE_ADDR": "10.0.0.9"}
    for _ in range(3):
        res = client.post("/api/v1/auth/token", json={"username": "clerk1", "password": "x"},
                          environ_base=env)
        assert_error(res, 401, "invalid_credentials")
    restarted = _start(tmp_path).test_client()
    res = restarted.post("/api/v1/auth/token", json={"username": "clerk1", "password": "demo"},
                         environ_base=env)
    assert_error(res, 429, "rate_limited")
    # the sign-in page says so too, in words
    page = restarted.get("/login", environ_base=env).get_data(as_text=True)
    from tests.backoffice.conftest import csrf_from

    res = restarted.post("/login", data={"username": "clerk1", "password": "demo",
                                         "csrf_token": csrf_from(page)}, environ_base=env)
    assert res.status_code == 429 and "Quá nhiều yêu cầu" in res.get_data(as_text=True)
    # another address is not throttled (a cookie-less client: a cookie would ask for CSRF)
    fresh = _start(tmp_path).test_client()
    res = fresh.post("/api/v1/auth/token", json={"username": "clerk1", "password": "demo"},
                     environ_base={"REMOTE_ADDR": "10.0.0.10"})
    assert res.status_code == 201


def test_a_real_server_restarted_keeps_counting_sign_in_tries(tmp_path: Path) -> None:
    env = {"ONESTOP_LOGIN_RATE_LIMIT": "3 per hour", "ONESTOP_LOGIN_LOCKOUT_ATTEMPTS": "0"}
    wrong = {"username": "clerk1", "password": "not-the-password"}
    with demo_server(tmp_path, **env) as base:
        for _ in range(3):
            assert requests.post(f"{base}/api/v1/auth/token", json=wrong, timeout=10).status_code == 401
    with demo_server(tmp_path, **env) as base:  # the same data directory: the same database
        res = requests.post(f"{base}/api/v1/auth/token", json={"username": "clerk1", "password": "demo"},
                            timeout=10)
        assert res.status_code == 429, res.text
        assert res.json()["error"]["code"] == "rate_limited"
