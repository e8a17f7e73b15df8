"""`onestop service add --windows` refuses what the admin form refuses (issue 17, item 5)."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from onestop.cli import main
from onestop.db import Database, make_engine
from onestop.queueing.models import Service


@pytest.fixture
def database(tmp_path, monkeypatch):
    monkeypatch.setenv("ONESTOP_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("ONESTOP_DATABASE_URL", raising=False)
    assert CliRunner().invoke(main, ["db", "upgrade"]).exit_code == 0
    assert CliRunner().invoke(main, ["unit", "add", "--code", "U1", "--name", "Xã A"]).exit_code == 0
    db = Database()
    db.engine = make_engine(f"sqlite:///{tmp_path / 'onestop.sqlite3'}")
    db.session_factory.configure(bind=db.engine)
    yield db
    db.engine.dispose()


def add(code: str, windows: str):
    return CliRunner().invoke(main, ["service", "add", "--code", code, "--name", "Tư pháp",
                                     "--windows", windows, "--unit", "U1"])


def stored(db: Database, code: str) -> list[list[str]] | None:
    with db.transaction() as session:
        return session.scalar(select(Service.windows).where(Service.code == code))


@pytest.mark.parametrize("windows, word", [
    ("13:30-17:00,07:30-11:30", "comes before"),
    ("07:30-11:30,11:00-17:00", "overlaps"),
    ("07:30-11:30,07:30-11:30", "overlaps"),
])
def test_unsorted_or_overlapping_windows_are_refused(database, windows, word):
    result = add("TP", windows)
    assert result.exit_code == 2, result.output
    assert "--windows" in result.output and word in result.output
    assert stored(database, "TP") is None


def test_windows_in_order_are_kept(database):
    result = add("TP", "07:30-11:30,11:30-12:00,13:30-17:00")
    assert result.exit_code == 0, result.output
    assert stored(database, "TP") == [["07:30", "11:30"], ["11:30", "12:00"], ["13:30", "17:00"]]
