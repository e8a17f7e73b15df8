"""`onestop backup` / `onestop restore`: SQLite online backup (while writes go on), pruning,
checks before a restore, the PostgreSQL round trip with pg_dump / pg_restore."""

from __future__ import annotations

import os
import shutil
import sqlite3
import stat
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from onestop.cli import main
from onestop.db import make_engine, utcnow
from onestop.migrate import current_heads, upgrade
from onestop.ops import backup as ops_backup
from onestop.queueing.engine import SYSTEM, issue_ticket
from onestop.queueing.models import Service, Ticket
from onestop.units.models import Unit
from tests.conftest import need_service
from tests.ops.conftest import load_demo


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


@pytest.fixture
def sqlite_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    for key in [k for k in os.environ if k.startswith("ONESTOP_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("ONESTOP_DATA_DIR", str(tmp_path))
    url = f"sqlite:///{tmp_path / 'onestop.sqlite3'}"
    upgrade(url)
    load_demo(url)
    yield url


def issue(url: str, count: int = 1) -> None:
    engine = make_engine(url)
    with Session(engine) as session:
        unit = session.scalars(select(Unit)).first()
        service = session.scalars(select(Service).where(Service.code == "TPHT")).one()
        for _ in range(count):
            issue_ticket(session, unit, service, actor=SYSTEM, now=utcnow(), always_open=True)
            session.commit()
    engine.dispose()


def tickets(url: str) -> int:
    engine = make_engine(url)
    with Session(engine) as session:
        count = int(session.scalar(select(func.count()).select_from(Ticket)) or 0)
    engine.dispose()
    return count


def test_sqlite_backup_is_one_private_checked_file_even_under_writes(sqlite_env: str,
                                                                    tmp_path: Path) -> None:
    issue(sqlite_env, 3)
    writer = threading.Thread(target=issue, args=(sqlite_env, 40))
    writer.start()
    result = run("backup")
    writer.join(timeout=60)
    assert result.exit_code == 0, result.output
    files = list((tmp_path / "backups").glob("onestop-*.sqlite3"))
    assert len(files) == 1 and str(files[0]) in result.output
    assert stat.S_IMODE(files[0].stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "backups").stat().st_mode) == 0o700
    assert not list((tmp_path / "backups").glob(".*part"))
    conn = sqlite3.connect(files[0])
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"  # self-contained
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("SELECT count(*) FROM tickets").fetchone()[0] >= 3
    finally:
        conn.close()
    assert ops_backup.check_sqlite_backup(files[0]) == current_heads(sqlite_env)[1]


def test_keep_prunes_only_the_oldest_backups(sqlite_env: str, tmp_path: Path) -> None:
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    (folder / "notes.txt").write_text("not a backup")
    (folder / "onestop-prerestore-20200101T000000Z.sqlite3").write_text("kept")
    made = []
    for _ in range(4):
        result = run("backup", "--dir", str(folder), "--keep", "2")
        assert result.exit_code == 0, result.output
        made.append(result.output.split("backup written: ")[1].split(" (")[0])
    # the backups' own order: "…Z.sqlite3" before "…Z-1.sqlite3" of the same second, which a
    # plain string sort puts the other way round ('-' < '.')
    left = [p.name for p in sorted(folder.glob("onestop-2*"), key=ops_backup._order)]
    assert [Path(m).name for m in made[-2:]] == left  # the two newest, in the order made
    assert (folder / "notes.txt").exists()
    assert (folder / "onestop-prerestore-20200101T000000Z.sqlite3").exists()


def test_restore_needs_yes_and_checks_the_file(sqlite_env: str, tmp_path: Path) -> None:
    assert run("backup").exit_code == 0
    good = next((tmp_path / "backups").glob("onestop-*.sqlite3"))
    refused = run("restore", str(good))
    assert refused.exit_code != 0 and "--yes" in refused.output

    junk = tmp_path / "junk.sqlite3"
    junk.write_bytes(b"hello, not a database" * 10)
    assert "not an SQLite database" in run("restore", str(junk), "--yes").output

    other = tmp_path / "other.sqlite3"
    sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.commit()
    assert "not an onestop database" in run("restore", str(other), "--yes").output

    future = tmp_path / "future.sqlite3"
    shutil.copy(good, future)
    conn = sqlite3.connect(future)
    conn.execute("UPDATE alembic_version SET version_num = '9999'")
    conn.commit()
    conn.close()
    newer = run("restore", str(future), "--yes")
    assert newer.exit_code != 0 and "9999" in newer.output
    assert not list((tmp_path / "backups").glob("onestop-prerestore-*"))  # nothing touched


def test_restore_brings_the_backup_back_and_keeps_a_safety_copy(sqlite_env: str, tmp_path: Path) -> None:
    issue(sqlite_env, 2)
    assert run("backup").exit_code == 0
    good = next((tmp_path / "backups").glob("onestop-*.sqlite3"))
    issue(sqlite_env, 5)
    assert tickets(sqlite_env) == 7

    result = run("restore", str(good), "--yes")
    assert result.exit_code == 0, result.output
    assert "restored" in result.output and "db upgrade" not in result.output
    assert tickets(sqlite_env) == 2
    safety = list((tmp_path / "backups").glob("onestop-prerestore-*.sqlite3"))
    assert len(safety) == 1 and "previous database was saved" in result.output
    assert sqlite3.connect(safety[0]).execute("SELECT count(*) FROM tickets").fetchone()[0] == 7
    issue(sqlite_env, 1)  # the restored database is writable as the servers use it
    assert tickets(sqlite_env) == 3
    conn = sqlite3.connect(sqlite_env.removeprefix("sqlite:///"))
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()


@pytest.mark.postgres
def test_postgres_backup_and_restore_round_trip(pg_url: str, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    if not (shutil.which("pg_dump") and shutil.which("pg_restore")):
        need_service("postgres", "pg_dump / pg_restore not installed (postgresql-client)")
    for key in [k for k in os.environ if k.startswith("ONESTOP_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("ONESTOP_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("ONESTOP_DATABASE_URL", pg_url)
    upgrade(pg_url)
    load_demo(pg_url)
    issue(pg_url, 2)

    result = run("backup", "--keep", "3")
    assert result.exit_code == 0, result.output
    dump = next((tmp_path / "backups").glob("onestop-*.pgdump"))
    assert stat.S_IMODE(dump.stat().st_mode) == 0o600
    issue(pg_url, 4)
    assert tickets(pg_url) == 6

    restored = run("restore", str(dump), "--yes")
    assert restored.exit_code == 0, restored.output
    assert tickets(pg_url) == 2
    assert current_heads(pg_url)[0] == current_heads(pg_url)[1]
    issue(pg_url, 1)  # sequences came back too: the next id does not collide
    assert tickets(pg_url) == 3

    junk = tmp_path / "junk.pgdump"
    junk.write_bytes(b"PGDMP but not really")
    assert run("restore", str(junk), "--yes").exit_code != 0
    assert tickets(pg_url) == 3


def test_backup_of_a_missing_sqlite_file_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ONESTOP_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("ONESTOP_DATABASE_URL", f"sqlite:///{tmp_path}/none.sqlite3")
    result = run("backup")
    assert result.exit_code != 0 and "nothing to back up" in result.output


def test_pg_settings_come_from_the_url_not_the_command_line() -> None:
    env, schema = ops_backup._pg_env_and_schema(
        "postgresql://onestop:p%40ss@db.local:5433/onestop?options=-csearch_path%3Dt_abc")
    assert (env["PGHOST"], env["PGPORT"], env["PGUSER"], env["PGDATABASE"]) == (
        "db.local", "5433", "onestop", "onestop")
    assert env["PGPASSWORD"] == "p@ss" and schema == "t_abc"


