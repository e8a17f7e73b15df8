"""The sign-in lock cannot be turned into a weapon: wrong passwords lock the account for the
address they come from, not for its owner at the counter; each lock in a row from that
address is longer; an admin sees the locks and lifts them (audited)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import select

from onestop.accounts import lockout, throttle
from onestop.accounts.models import LoginLock, User
from onestop.audit.models import AuditEntry
from onestop.db import Database, make_engine
from onestop.migrate import upgrade
from onestop.queueing.errors import DomainError
from tests.api.helpers import assert_error, in_db
from tests.backoffice.conftest import csrf_from, signed_in, submit, text_of

ATTACKER = {"REMOTE_ADDR": "10.0.0.66"}
COUNTER_PC = {"REMOTE_ADDR": "10.0.0.11"}


def _token(client: Any, env: dict[str, str], password: str = "demo", username: str = "clerk1") -> Any:
    return client.post("/api/v1/auth/token", json={"username": username, "password": password},
                       environ_base=env)


def _lock_of(app: Any, address: str, username: str = "clerk1") -> LoginLock | None:
    with in_db(app) as session:
        user = session.scalars(select(User).where(User.username == username)).one()
        lock = session.get(LoginLock, (user.id, address))
        if lock is not None:
            session.expunge(lock)
        return lock


def _lock_out(client: Any, env: dict[str, str]) -> dict[str, Any]:
    for _ in range(4):
        assert_error(_token(client, env, "wrong-guess"), 401, "invalid_credentials")
    return assert_error(_token(client, env, "wrong-guess"), 423, "account_locked")


def test_wrong_passwords_lock_the_account_only_for_their_address(app: Any) -> None:
    client = app.test_client()
    _lock_out(client, ATTACKER)
    assert_error(_token(client, ATTACKER), 423, "account_locked")  # even the right password
    # the clerk at the counter, on another computer, is not locked out: API and sign-in page
    assert _token(client, COUNTER_PC).status_code == 201
    page = app.test_client()
    form = page.get("/login", environ_base=COUNTER_PC).get_data(as_text=True)
    res = page.post("/login", data={"username": "clerk1", "password": "demo",
                                    "csrf_token": csrf_from(form)}, environ_base=COUNTER_PC)
    assert res.status_code == 302
    # ... and their success does not lift the lock of the attacker's address
    assert_error(_token(client, ATTACKER), 423, "account_locked")


def test_each_lock_in_a_row_from_one_address_is_longer(app: Any) -> None:
    client = app.test_client()
    first = dt.datetime.fromisoformat(_lock_out(client, ATTACKER)["until"])
    assert first - dt.datetime.now(dt.UTC) <= dt.timedelta(minutes=15)
    with in_db(app) as session:  # the first lock ran out
        lock = session.scalars(select(LoginLock).where(LoginLock.address == ATTACKER["REMOTE_ADDR"])).one()
        lock.locked_until = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    second = dt.datetime.fromisoformat(_lock_out(client, ATTACKER)["until"])
    assert dt.timedelta(minutes=29) < second - dt.datetime.now(dt.UTC) <= dt.timedelta(minutes=30)


def test_an_admin_sees_the_lock_and_lifts_it(app: Any) -> None:
    _lock_out(app.test_client(), ATTACKER)
    admin = signed_in(app, "admin")
    page = text_of(admin.get("/admin/users"))
    assert 'id="login-locks"' in page and 'data-user="clerk1"' in page and "10.0.0.66" in page
    with in_db(app) as session:
        uid = session.scalars(select(User.id).where(User.username == "clerk1")).one()
    res = admin.post(f"/admin/users/{uid}/unlock", data={"csrf_token": csrf_from(page)})
    assert res.status_code == 302
    assert _lock_of(app, ATTACKER["REMOTE_ADDR"]) is None
    assert 'data-user="clerk1"' not in text_of(admin.get("/admin/users"))
    assert _token(app.test_client(), ATTACKER).status_code == 201
    with in_db(app) as session:
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "unlock")).one()
        assert (entry.entity, entry.entity_id, entry.actor_name) == ("user", str(uid), "Quản trị hệ thống")
        assert [lock["address"] for lock in entry.before["locks"]] == ["10.0.0.66"]
    assert "Gỡ khoá đăng nhập" in text_of(admin.get("/admin/audit?entity=user"))


def test_a_new_password_lifts_every_lock(app: Any) -> None:
    _lock_out(app.test_client(), ATTACKER)
    admin = signed_in(app, "admin")
    with in_db(app) as session:
        uid = session.scalars(select(User.id).where(User.username == "clerk1")).one()
    new = "Mật-khẩu-mới-2026"
    res = submit(admin, f"/admin/users/{uid}/password", {"password": new, "password2": new},
                 form_url=f"/admin/users/{uid}")
    assert res.status_code == 302
    assert _lock_of(app, ATTACKER["REMOTE_ADDR"]) is None
    assert _token(app.test_client(), ATTACKER, new).status_code == 201


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_locks_and_budgets_count_in_one_statement_on_both_databases(backend: str, tmp_path: Any,
                                                                     request: Any) -> None:
    """The engine functions on a migrated database: the lock per address and the budget."""
    url = (f"sqlite:///{tmp_path / 'l.sqlite3'}" if backend == "sqlite"
           else request.getfixturevalue("pg_url"))
    upgrade(url)
    database = Database()
    database.engine = make_engine(url)
    database.session_factory.configure(bind=database.engine)
    now = dt.datetime(2026, 11, 23, 2, 0, tzinfo=dt.UTC)
    rules = {"now": now, "max_attempts": 3, "lock_minutes": 10}
    with database.transaction() as session:
        user = User(username="u1", full_name="", role="clerk", active=True)
        user.set_password("right-password")
        session.add(user)
    for attempt in range(3):
        with pytest.raises(DomainError) as refused, database.transaction() as session:
            try:
                lockout.authenticate(session, "u1", "wrong", address="10.0.0.66", **rules)
            finally:
                session.commit()  # as sign_in does: the failure counts
        assert refused.value.code == ("account_locked" if attempt == 2 else "invalid_credentials")
    assert refused.value.details["until"] == (now + dt.timedelta(minutes=10)).isoformat()
    with database.transaction() as session:  # locked for that address only
        with pytest.raises(DomainError, match="account_locked"):
            lockout.authenticate(session, "u1", "right-password", address="10.0.0.66", **rules)
        user = lockout.authenticate(session, "u1", "right-password", address="10.0.0.11", **rules)
        assert user.username == "u1"
        assert [lock.address for lock in lockout.active_locks(session, now)] == ["10.0.0.66"]
    with database.transaction() as session:
        assert [throttle.hit(session, "login", "10.0.0.66", 60, now) for _ in range(3)] == [1, 2, 3]
        assert throttle.hit(session, "login", "10.0.0.67", 60, now) == 1
        assert throttle.hit(session, "login", "10.0.0.66", 60, now + dt.timedelta(minutes=1)) == 1
        # a key longer than the column is hashed, not cut (two long codes never share a count)
        assert throttle.hit(session, "lookup-code", "X" * 80, 3600, now) == 1
        assert throttle.hit(session, "lookup-code", "X" * 79 + "Y", 3600, now) == 1
    database.engine.dispose()
