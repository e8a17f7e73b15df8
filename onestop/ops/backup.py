"""``onestop backup`` and ``onestop restore``.

SQLite: SQLite's online backup API (``sqlite3.Connection.backup``) copies a consistent
snapshot while the servers keep running (WAL: readers never block the writer); the copy is
switched to a plain rollback journal so that it is one self-contained file, checked with
``PRAGMA quick_check``, then renamed into place. PostgreSQL: ``pg_dump -Fc`` (only the
schema named by ``search_path`` in the URL's ``options``, when there is one).

Backups are ``onestop-YYYYmmddTHHMMSSZ.sqlite3`` / ``.pgdump`` in ``BACKUP_DIR`` (default
``DATA_DIR/backups``), mode 0600 (they hold citizens' personal data); ``keep`` prunes the
oldest of those beyond N, nothing else.

Restore checks the file first (an SQLite database with onestop's tables at a revision this
code knows, or a pg_dump archive with onestop's tables). SQLite: a safety copy of the
current database goes to ``onestop-prerestore-*.sqlite3`` in the backup folder, then the
backup is written into the live file through the backup API (SQLite's own locking, so the
WAL and shared-memory files stay consistent, unlike a plain file copy). PostgreSQL:
``pg_restore --clean --if-exists --single-transaction`` (all or nothing). Stop the servers
first: ``systemctl stop 'onestop@*'``.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from sqlalchemy.engine import make_url

NAME = re.compile(r"^onestop-\d{8}T\d{6}Z(?:-\d+)?\.(?:sqlite3|pgdump)$")
REQUIRED_TABLES = {"alembic_version", "units", "services", "tickets", "daily_counters"}


class BackupError(RuntimeError):
    """A backup or restore that did not happen; the message says why and what to do."""


@dataclass(frozen=True)
class Restored:
    path: Path
    revision: str | None
    head: str | None
    safety_copy: Path | None = None


def backup_dir(settings: dict[str, Any], directory: Path | None = None) -> Path:
    return Path(directory or settings.get("BACKUP_DIR") or Path(settings["DATA_DIR"]) / "backups")


def sqlite_path(url: str) -> Path | None:
    """The file of an ``sqlite:///`` URL; None for PostgreSQL (and in-memory SQLite)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return None
    if not parsed.database or parsed.database == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up")
    return Path(parsed.database)


def _stamp(now: dt.datetime | None) -> str:
    return (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")


def _target(folder: Path, suffix: str, now: dt.datetime | None) -> Path:
    """A new name that sorts after every backup of the same second (pruning may have freed
    an earlier name, which must not be reused: it would sort oldest)."""
    stamp = _stamp(now)
    taken = [_order(p)[1] for p in folder.glob(f"onestop-{stamp}*") if NAME.match(p.name)]
    if not taken:
        return folder / f"onestop-{stamp}{suffix}"
    return folder / f"onestop-{stamp}-{max(taken) + 1}{suffix}"


def _private_dir(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)


def backup(settings: dict[str, Any], directory: Path | None = None, keep: int | None = None,
           now: dt.datetime | None = None) -> Path:
    """Write one backup of the configured database; prune to ``keep``; return its path."""
    folder = backup_dir(settings, directory)
    _private_dir(folder)
    url = str(settings["DATABASE_URL"])
    source = sqlite_path(url)
    if source is None:
        path = _target(folder, ".pgdump", now)
        _pg_dump(url, path)
    else:
        path = _target(folder, ".sqlite3", now)
        _sqlite_backup(source, path, int(settings.get("SQLITE_BUSY_TIMEOUT_MS") or 10000))
    if keep is None:
        keep = int(settings.get("BACKUP_KEEP") or 0)
    if keep > 0:
        prune(folder, keep)
    return path


def _sqlite_backup(source: Path, path: Path, busy_timeout_ms: int) -> None:
    if not source.is_file():
        raise BackupError(f"no database file at {source}: nothing to back up")
    part = path.with_name(f".{path.name}.part")
    fd = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.close(fd)
    src = sqlite3.connect(source, timeout=busy_timeout_ms / 1000)
    dst = sqlite3.connect(part)
    try:
        src.backup(dst)  # one step: a consistent snapshot, the writer is not blocked (WAL)
        dst.execute("PRAGMA journal_mode = DELETE")  # one self-contained file
        check = dst.execute("PRAGMA quick_check").fetchone()[0]
        if check != "ok":
            raise BackupError(f"the copy failed its integrity check: {check}")
    except BaseException:
        dst.close()
        part.unlink(missing_ok=True)
        raise
    finally:
        src.close()
    dst.close()
    os.replace(part, path)


def prune(folder: Path, keep: int) -> list[Path]:
    """Delete the oldest ``onestop-<stamp>`` backups beyond ``keep``; return what went."""
    backups = sorted((p for p in folder.iterdir() if NAME.match(p.name)), key=_order)
    doomed = backups[:-keep] if keep > 0 else []
    for path in doomed:
        path.unlink(missing_ok=True)
    return doomed


def _order(path: Path) -> tuple[str, int]:
    stem = path.name.split(".", 1)[0]  # onestop-20260101T000000Z[-n]
    stamp, _, n = stem[len("onestop-"):].partition("-")
    return stamp, int(n or 0)


def latest(folder: Path) -> Path | None:
    if not folder.is_dir():
        return None
    backups = sorted((p for p in folder.iterdir() if NAME.match(p.name)), key=_order)
    return backups[-1] if backups else None


# -- PostgreSQL ----------------------------------------------------------------------------------


def _pg_env_and_schema(url: str) -> tuple[dict[str, str], str | None]:
    """libpq environment for the URL (the password stays out of ``ps``) and its schema."""
    parsed = make_url(url)
    env = dict(os.environ)
    for key, value in (("PGHOST", parsed.host), ("PGPORT", parsed.port), ("PGUSER", parsed.username),
                       ("PGPASSWORD", parsed.password), ("PGDATABASE", parsed.database)):
        if value is not None:
            env[key] = str(value)
    schema = None
    options = parsed.query.get("options")
    options_text = " ".join(options) if isinstance(options, tuple) else (options or "")
    found = re.search(r"search_path\s*=\s*([A-Za-z_][A-Za-z0-9_]*)", unquote(options_text))
    if found:
        schema = found.group(1)
    for key in ("sslmode", "sslrootcert", "sslcert", "sslkey"):
        given = parsed.query.get(key)
        if isinstance(given, str):
            env[f"PG{key.upper()}"] = given
    return env, schema


def _tool(name: str) -> str:
    found = shutil.which(name)
    if not found:
        raise BackupError(f"{name} not found: apt-get install postgresql-client "
                          "(its major version at least the server's)")
    return found


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(args, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise BackupError(f"{Path(args[0]).name} failed ({result.returncode}): "
                          f"{result.stderr.strip()[-800:]}")
    return result


def _pg_dump(url: str, path: Path) -> None:
    env, schema = _pg_env_and_schema(url)
    part = path.with_name(f".{path.name}.part")
    args = [_tool("pg_dump"), "-Fc", "--no-owner", "-f", str(part)]
    if schema:
        args += ["-n", schema]
    old_umask = os.umask(0o077)
    try:
        _run(args, env)
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    finally:
        os.umask(old_umask)
    os.replace(part, path)


def _pg_archive_tables(path: Path, env: dict[str, str]) -> set[str]:
    listing = _run([_tool("pg_restore"), "--list", str(path)], env).stdout
    return {m.group(1) for m in re.finditer(r"\bTABLE (?:DATA )?\S+ (\w+) ", listing)}


# -- restore -------------------------------------------------------------------------------------


def check_sqlite_backup(path: Path) -> str:
    """The file's Alembic revision, if it is an intact onestop SQLite database; else BackupError."""
    with path.open("rb") as fh:
        if fh.read(16) != b"SQLite format 3\x00":
            raise BackupError(f"{path} is not an SQLite database")
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        check = conn.execute("PRAGMA quick_check").fetchone()[0]
        if check != "ok":
            raise BackupError(f"{path} is damaged: {check}")
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        missing = REQUIRED_TABLES - tables
        if missing:
            raise BackupError(f"{path} is not an onestop database (missing {', '.join(sorted(missing))})")
        row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{path} cannot be read: {exc}") from exc
    finally:
        conn.close()
    if row is None:
        raise BackupError(f"{path} has no schema revision")
    return str(row[0])


def _known_revisions(url: str) -> tuple[set[str], str | None]:
    from alembic.script import ScriptDirectory

    from onestop.migrate import alembic_config

    script = ScriptDirectory.from_config(alembic_config(url))
    return {rev.revision for rev in script.walk_revisions()}, script.get_current_head()


def restore(settings: dict[str, Any], path: Path, now: dt.datetime | None = None) -> Restored:
    """Replace the configured database with the backup at ``path`` (checked first)."""
    url = str(settings["DATABASE_URL"])
    known, head = _known_revisions(url)
    target = sqlite_path(url)
    if target is None:
        return _pg_restore(url, path, head)
    revision = check_sqlite_backup(path)
    if revision not in known:
        raise BackupError(f"{path} is at schema revision {revision}, which this onestop does not know "
                          "(a backup from a newer version?)")
    safety = None
    if target.is_file():
        folder = backup_dir(settings)
        _private_dir(folder)
        safety = folder / f"onestop-prerestore-{_stamp(now)}.sqlite3"
        _sqlite_backup(target, safety, int(settings.get("SQLITE_BUSY_TIMEOUT_MS") or 10000))
    target.parent.mkdir(parents=True, exist_ok=True)
    src = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    dst = sqlite3.connect(target, timeout=int(settings.get("SQLITE_BUSY_TIMEOUT_MS") or 10000) / 1000)
    try:
        src.backup(dst)
        dst.execute("PRAGMA journal_mode = WAL")  # as the servers run it
    finally:
        src.close()
        dst.close()
    return Restored(path=path, revision=revision, head=head, safety_copy=safety)


def _pg_restore(url: str, path: Path, head: str | None) -> Restored:
    env, schema = _pg_env_and_schema(url)
    tables = _pg_archive_tables(path, env)
    missing = REQUIRED_TABLES - tables
    if missing:
        raise BackupError(f"{path} is not an onestop pg_dump archive (missing {', '.join(sorted(missing))})")
    args = [_tool("pg_restore"), "--clean", "--if-exists", "--no-owner", "--single-transaction",
            "-d", env.get("PGDATABASE") or env.get("PGUSER") or "postgres"]
    if schema:
        args += ["-n", schema]  # the tables of that schema; the schema itself stays
    _run(args + [str(path)], env)
    from onestop.migrate import current_heads

    revision, _ = current_heads(url)
    return Restored(path=path, revision=revision, head=head)
