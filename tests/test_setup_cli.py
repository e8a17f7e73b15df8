"""Setting up a real centre from the command line: unit, fields, counters, then a ticket."""

from __future__ import annotations

from click.testing import CliRunner
from sqlalchemy import select

from onestop.cli import main
from onestop.db import Database, make_engine
from onestop.queueing import engine
from onestop.queueing.models import Counter, Service
from onestop.units.models import Unit
from tests.conftest import MONDAY_9


def run(*args: str):
    return CliRunner().invoke(main, list(args))


def test_a_centre_set_up_from_the_command_line_issues_and_calls(tmp_path, monkeypatch):
    monkeypatch.setenv("ONESTOP_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("ONESTOP_DATABASE_URL", raising=False)
    assert run("db", "upgrade").exit_code == 0
    assert run("unit", "add", "--code", "000.00.06.H56", "--name", "UBND xã Thử").exit_code == 0
    ok = run("service", "add", "--code", "TPHT", "--name", "Tư pháp – Hộ tịch", "--prefix", "A",
             "--days", "1,3,5", "--windows", "07:30-11:30,13:30-17:00", "--cutoff", "15")
    assert ok.exit_code == 0, ok.output
    assert run("service", "add", "--code", "DD", "--name", "Đất đai", "--block", "1001-1999").exit_code == 0
    assert run("counter", "add", "--number", "1", "--services", "TPHT,DD").exit_code == 0

    bad_window = run("service", "add", "--code", "X", "--name", "x", "--windows", "11:30-07:30")
    assert bad_window.exit_code != 0 and "HH:MM-HH:MM" in bad_window.output
    bad_day = run("service", "add", "--code", "X", "--name", "x", "--days", "0,8")
    assert bad_day.exit_code != 0 and "weekdays" in bad_day.output
    again = run("service", "add", "--code", "TPHT", "--name", "x")
    assert again.exit_code != 0 and "already exists" in again.output
    unknown = run("counter", "add", "--number", "2", "--services", "TPHT,NOPE")
    assert unknown.exit_code != 0 and "NOPE" in unknown.output

    database = Database()
    database.engine = make_engine(f"sqlite:///{tmp_path / 'onestop.sqlite3'}")
    database.session_factory.configure(bind=database.engine)
    with database.transaction() as session:
        unit = session.scalars(select(Unit)).one()
        assert session.scalar(select(Service.code).where(Service.code == "X")) is None
        land = session.scalar(select(Service).where(Service.code == "DD"))
        assert land is not None
        ticket = engine.issue_ticket(session, unit, land, actor=engine.SYSTEM, now=MONDAY_9)
        assert ticket.label == "1001"
        counter = session.scalars(select(Counter)).one()
        assert len(counter.links) == 2
    database.engine.dispose()
