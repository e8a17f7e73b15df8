"""Login throttling and lockout, password rules (onestop/accounts/lockout.py)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from sqlalchemy import select

from onestop.accounts.models import LoginLock, User
from onestop.audit.models import AuditEntry
from onestop.cli import main
from tests.api.helpers import assert_error, in_db
from tests.conftest import demo_app
from tests.security.helpers import login_form

WRONG = {"username": "clerk1", "password": "not-the-password"}


def _token(client: Any, username: str = "clerk1", password: str = "demo") -> Any:
    return client.post("/api/v1/auth/token", json={"username": username, "password": password})


def _user(app: Any, username: str = "clerk1") -> tuple[int, dt.datetime | None]:
    """Wrong tries in a row and the lock's end, for the test client's address."""
    with in_db(app) as session:
        user = session.scalars(select(User).where(User.username == username)).one()
        lock = session.get(LoginLock, (user.id, "127.0.0.1"))
        return (lock.failures, lock.locked_until) if lock else (0, None)


def test_unknown_user_and_wrong_password_get_the_same_answer(client: Any) -> None:
    unknown = assert_error(_token(client, "nobody-here", "whatever"), 401, "invalid_credentials")
    wrong = assert_error(_token(client, "clerk1", "whatever"), 401, "invalid_credentials")
    assert unknown == wrong


def test_five_wrong_passwords_lock_the_account_with_the_time(app: Any, client: Any) -> None:
    for _ in range(4):
        assert_error(_token(client, password="wrong-one"), 401, "invalid_credentials")
    assert _user(app)[0] == 4
    locked = assert_error(_token(client, password="wrong-one"), 423, "account_locked")
    assert "bị khoá" in locked["message"] and "Vui lòng thử lại sau" in locked["message"]
    until = dt.datetime.fromisoformat(locked["until"])
    assert dt.timedelta(minutes=14) < until - dt.datetime.now(dt.UTC) <= dt.timedelta(minutes=15)
    local = until.astimezone(dt.timezone(dt.timedelta(hours=7)))
    assert f"{local:%H:%M}" in locked["message"] and f"{local:%d/%m/%Y}" in locked["message"]
    # the right password does not get in while locked
    assert_error(_token(client), 423, "account_locked")
    # English too
    res = client.post("/api/v1/auth/token?lang=en", json={"username": "clerk1", "password": "demo"})
    assert "locked" in res.get_json()["error"]["message"].lower()
    with in_db(app) as session:
        actions = list(session.scalars(select(AuditEntry.action).where(AuditEntry.entity == "user")))
    assert actions.count("lock") == 1


def test_lock_expires_and_a_success_resets_the_count(app: Any, client: Any) -> None:
    for _ in range(3):
        _token(client, password="wrong-one")
    assert _token(client).status_code == 201
    assert _user(app) == (0, None)
    for _ in range(5):
        _token(client, password="wrong-one")
    with in_db(app) as session:  # the lock ran out
        user = session.scalars(select(User).where(User.username == "clerk1")).one()
        lock = session.get(LoginLock, (user.id, "127.0.0.1"))
        lock.locked_until = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    assert _token(client).status_code == 201


def test_an_unknown_user_is_never_reported_locked(client: Any) -> None:
    for _ in range(8):
        assert_error(_token(client, "ghost", "wrong-one"), 401, "invalid_credentials")


def test_the_login_page_locks_too_with_a_clear_message(app: Any, client: Any) -> None:
    for _ in range(4):
        res = login_form(client, **WRONG)
        assert res.status_code == 401
        assert "Tên đăng nhập hoặc mật khẩu không đúng." in res.get_data(as_text=True)
    res = login_form(client, **WRONG)
    assert res.status_code == 423
    text = res.get_data(as_text=True)
    assert "Tài khoản tạm thời bị khoá" in text and "Vui lòng thử lại sau" in text
    # the API shares the lock (a cookie-less client: a cookie would ask for the CSRF token)
    assert_error(_token(app.test_client()), 423, "account_locked")
    res = login_form(client, "clerk1", "demo")
    assert res.status_code == 423


def test_lockout_settings_are_configurable(tmp_path: Path) -> None:
    with demo_app(tmp_path, LOGIN_LOCKOUT_ATTEMPTS=2, LOGIN_LOCKOUT_MINUTES=1) as app:
        client = app.test_client()
        assert _token(client, password="x").status_code == 401
        locked = assert_error(_token(client, password="x"), 423, "account_locked")
        until = dt.datetime.fromisoformat(locked["until"])
        assert until - dt.datetime.now(dt.UTC) <= dt.timedelta(minutes=1)


def test_per_address_login_throttle(tmp_path: Path) -> None:
    with demo_app(tmp_path, RATELIMIT_ENABLED=True, LOGIN_RATE_LIMIT="3 per minute") as app:
        client = app.test_client()
        for _ in range(3):
            assert _token(client, "nobody", "x").status_code == 401
        assert_error(_token(client, "nobody", "x"), 429, "rate_limited")


def _cli(tmp_path: Path, *args: str) -> Any:
    env = {"ONESTOP_DATA_DIR": str(tmp_path), "ONESTOP_DATABASE_URL": f"sqlite:///{tmp_path}/db.sqlite3"}
    return CliRunner().invoke(main, list(args), env=env)


def test_cli_user_add_enforces_the_password_rules(tmp_path: Path) -> None:
    assert _cli(tmp_path, "db", "upgrade").exit_code == 0
    assert _cli(tmp_path, "unit", "add", "--code", "H56", "--name", "Xã Thử").exit_code == 0
    short = _cli(tmp_path, "user", "add", "binh", "--role", "clerk", "--password", "short-pw")
    assert short.exit_code != 0 and "10" in short.output
    digits = _cli(tmp_path, "user", "add", "binh", "--role", "clerk", "--password", "0123456789012")
    assert digits.exit_code != 0 and "chữ số" in digits.output
    same = _cli(tmp_path, "user", "add", "nguyenvanbinh", "--role", "clerk",
                "--password", "NguyenVanBinh")
    assert same.exit_code != 0 and "tên đăng nhập" in same.output
    ok = _cli(tmp_path, "user", "add", "binh", "--role", "clerk", "--password", "hai-con-meo-mun")
    assert ok.exit_code == 0, ok.output


def test_a_new_password_ends_the_sessions_signed_in_with_the_old_one(app: Any, client: Any) -> None:
    """A clerk's cookie (on a shared PC, or stolen) stops working once the password changes;
    an unrelated session of another user goes on."""
    other = app.test_client()
    assert login_form(client, "clerk1", "demo").status_code == 302
    assert login_form(other, "clerk2", "demo").status_code == 302
    assert client.get("/api/v1/auth/me").status_code == 200
    assert client.get("/counter/").status_code == 200
    with in_db(app) as session:
        user = session.scalar(select(User).where(User.username == "clerk1"))
        user.set_password("Mật-khẩu-mới-2026")
    assert_error(client.get("/api/v1/auth/me"), 401, "unauthorized")
    page = client.get("/counter/")
    assert page.status_code == 302 and "/login" in page.headers["Location"]
    assert other.get("/api/v1/auth/me").get_json()["username"] == "clerk2"
    # signing in again with the new password works
    assert login_form(client, "clerk1", "Mật-khẩu-mới-2026").status_code == 302
    assert client.get("/api/v1/auth/me").get_json()["username"] == "clerk1"
