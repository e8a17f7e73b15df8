"""The `onestop` command, run in-process with click's runner on a real SQLite file."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from onestop import demo
from onestop.cli import main
from onestop.db import Database, make_engine
from onestop.migrate import current_heads
from onestop.models import Device, Ticket, User
from onestop.queueing import engine
from tests.conftest import MONDAY_9


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("ONESTOP_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("ONESTOP_DATABASE_URL", raising=False)
    url = f"sqlite:///{tmp_path / 'onestop.sqlite3'}"
    result = CliRunner().invoke(main, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    database = Database()
    database.engine = make_engine(url)
    database.session_factory.configure(bind=database.engine)
    yield url, database
    database.engine.dispose()


def run(*args: str, input: str | None = None):
    return CliRunner().invoke(main, list(args), input=input)


def test_db_upgrade_brings_the_schema_to_head(env):
    url, _ = env
    db_rev, head = current_heads(url)
    assert db_rev == head is not None


def test_unit_and_user_add(env):
    _, database = env
    assert run("unit", "add", "--code", "000.00.06.H56", "--name", "UBND xã Thử").exit_code == 0
    again = run("unit", "add", "--code", "000.00.06.H56", "--name", "x")
    assert again.exit_code != 0 and "already exists" in again.output
    ok = run("user", "add", "lan", "--role", "manager", "--password", "mật-khẩu-dài")
    assert ok.exit_code == 0, ok.output
    short = run("user", "add", "binh", "--role", "clerk", "--password", "short")
    assert short.exit_code != 0 and "password_too_short" in short.output
    with database.transaction() as session:
        user = session.scalar(select(User).where(User.username == "lan"))
        assert user is not None and user.check_password("mật-khẩu-dài")
        assert session.scalar(select(User).where(User.username == "binh")) is None


def test_device_add_json_and_errors(env):
    _, database = env
    with database.transaction() as session:
        demo.load(session)
    out = run("device", "add", "--kind", "tablet", "--name", "Máy tính bảng quầy 3",
              "--counter", "3", "--json")
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    assert set(data) == {"id", "token", "pairing_code"}
    missing = run("device", "add", "--kind", "tablet", "--name", "x", "--counter", "99")
    assert missing.exit_code != 0 and "counter_not_found" in missing.output
    unbound = run("device", "add", "--kind", "tablet", "--name", "x")
    assert unbound.exit_code != 0 and "counter_required" in unbound.output
    with database.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Device)) == 1


def test_day_close_expires_what_is_still_open(env):
    _, database = env
    with database.transaction() as session:
        unit = demo.load(session)
        service = session.get(engine.Service, 1)
        for _ in range(3):
            engine.issue_ticket(session, unit, service, actor=engine.SYSTEM, now=MONDAY_9)
    out = run("day-close", "--date", "2026-11-23")
    assert out.exit_code == 0 and "3 ticket(s) expired" in out.output
    with database.transaction() as session:
        states = set(session.scalars(select(Ticket.state)))
    assert states == {"expired"}


def test_serve_refuses_the_demo_secret(env, monkeypatch):
    monkeypatch.delenv("ONESTOP_SECRET_KEY", raising=False)
    out = run("serve", "--port", "1")
    assert out.exit_code != 0 and "ONESTOP_SECRET_KEY" in out.output
