"""Readiness: ``GET /readyz`` says whether this instance can serve, and what is wrong if not.

``/healthz`` (``onestop/web.py``) stays the cheap liveness probe: the database answers.
``/readyz`` adds the schema (the database is at the code's Alembic head; an "at head"
answer is cached for a minute, a stale one is asked again on every probe so that the
instance turns ready as soon as ``onestop db upgrade`` ran) and the message queue shared by
several instances, when one is configured. It also fails after a commit failed (until one
succeeds), when the disk holding the SQLite file is nearly full, and while the event loop's
lag stays high (one client or one heavy request holding the worker).

200 ``{"status": "ready", "checks": {name: {"status": "ok", ...}}}`` or 503
``{"status": "not_ready", "failed": [names], "checks": {...}}``. Details name the failing
piece and what to do; the error itself goes to the log only (the answer may be public).
"""

from __future__ import annotations

import logging
import shutil
import threading
import time
from pathlib import Path
from typing import Any

from flask import Blueprint, current_app
from sqlalchemy import text

from onestop.extensions import db

log = logging.getLogger(__name__)
bp = Blueprint("ops_health", __name__)

SCHEMA_TTL_S = 60.0
QUEUE_TIMEOUT_S = 2.0
COMMIT_FAIL_S = 60.0  # a failed commit keeps /readyz failing this long unless one succeeds
LAG_STAY_S = 5.0  # the loop's lag must stay high this long to fail /readyz
Check = dict[str, Any]

_schema_ok: dict[str, tuple[float, str]] = {}  # url -> (checked at, revision)
_schema_lock = threading.Lock()


def _fail(detail: str) -> Check:
    return {"status": "fail", "detail": detail}


def _error_name(exc: BaseException) -> str:
    """The error's class and first line, cut short, for the log."""
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {first}"[:200]


def check_database() -> Check:
    try:
        db.session.execute(text("SELECT 1"))
        db.session.commit()
    except Exception as exc:  # noqa: BLE001 - any failure means "not ready"
        try:
            db.session.rollback()
        except Exception:  # noqa: BLE001 - the connection may be gone
            log.debug("rollback after a failed readiness probe", exc_info=True)
        log.warning("readyz: database did not answer: %s", _error_name(exc))
        return _fail("the database does not answer: check ONESTOP_DATABASE_URL and the database "
                     "server (the log has the error)")
    return {"status": "ok"}


def schema_state(url: str, now: float | None = None) -> tuple[str | None, str | None]:
    """(database revision, code head), the "at head" answer cached for ``SCHEMA_TTL_S``."""
    from onestop.migrate import current_heads

    now = time.monotonic() if now is None else now
    with _schema_lock:
        cached = _schema_ok.get(url)
        if cached and now - cached[0] < SCHEMA_TTL_S:
            return cached[1], cached[1]
    db_rev, head = current_heads(url)
    if db_rev is not None and db_rev == head:
        with _schema_lock:
            _schema_ok[url] = (now, db_rev)
    return db_rev, head


def check_schema(url: str) -> Check:
    try:
        db_rev, head = schema_state(url)
    except Exception as exc:  # noqa: BLE001
        log.warning("readyz: schema revision unreadable: %s", _error_name(exc))
        return _fail("cannot read the schema revision (the log has the error)")
    if db_rev is None:
        return _fail("the database has no onestop schema: run `onestop db upgrade`")
    if db_rev != head:
        return _fail(f"the database is at revision {db_rev}, the code at {head}: "
                     "run `onestop db upgrade`")
    return {"status": "ok", "revision": db_rev}


def ping_queue(url: str, timeout: float = QUEUE_TIMEOUT_S) -> Check:
    """PING the Redis message queue; other kinds (kombu, kafka) are reported, not probed."""
    if not url.startswith(("redis://", "rediss://", "unix://")):
        return {"status": "ok", "detail": "not probed (not a Redis URL)"}
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout)
    try:
        client.ping()
    except Exception as exc:  # noqa: BLE001
        return _fail(f"the message queue does not answer ({type(exc).__name__}); "
                     "check ONESTOP_MESSAGE_QUEUE_URL and that redis-server runs")
    finally:
        client.close()
    return {"status": "ok"}


def check_commits(now: float | None = None) -> Check:
    """Fails from a failed commit (``onestop.db.COMMITS``) until a writing commit succeeds
    again, or ``COMMIT_FAIL_S`` later (nothing written since: nothing says it would fail)."""
    from onestop.db import COMMITS

    failed_at = COMMITS.failed_at
    now = time.monotonic() if now is None else now
    if failed_at is not None and now - failed_at < COMMIT_FAIL_S:
        return _fail(f"a commit failed {now - failed_at:.0f} s ago ({COMMITS.error}): the disk "
                     "may be full, the database locked or unreachable (the log has the error)")
    return {"status": "ok"}


def check_disk(url: str) -> Check:
    """Free space on the disk holding the SQLite file (``ONESTOP_DISK_FREE_READY_MB``).
    A server database (PostgreSQL) is watched on its own host."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return {"status": "ok", "detail": "not checked (not a local SQLite file)"}
    folder = Path(parsed.database).resolve().parent
    while not folder.exists() and folder != folder.parent:  # a missing file: the database check says so
        folder = folder.parent
    try:
        free_mb = shutil.disk_usage(folder).free // (1024 * 1024)
    except OSError as exc:
        log.warning("readyz: free space unreadable: %s", _error_name(exc))
        return _fail("cannot read the free space of the database's disk (the log has the error)")
    wanted = int(current_app.config.get("DISK_FREE_READY_MB") or 0)
    if free_mb < wanted:
        return _fail(f"the database's disk has {free_mb} MB free, under {wanted} MB: free space "
                     "(old backups, logs) before writes fail")
    return {"status": "ok", "free_mb": free_mb}


def check_loop(now: float | None = None) -> Check:
    """The event loop's lag (``onestop.ops.looplag``) stayed above ``ONESTOP_LOOP_LAG_READY_S``
    for ``LAG_STAY_S``: every kiosk and display of this instance waits that long."""
    from onestop.ops.looplag import MONITOR

    if not MONITOR.running:
        return {"status": "ok", "detail": "not measured (not under onestop serve)"}
    threshold = float(current_app.config.get("LOOP_LAG_READY_S") or 0.5)
    stuck = MONITOR.stuck_for(threshold, now)
    lag = round(MONITOR.latest(), 3)
    if stuck >= LAG_STAY_S:
        return {**_fail(f"the event loop has lagged over {threshold} s for {stuck:.0f} s: "
                        "something holds the worker (see onestop_event_loop_lag_seconds)"),
                "lag_s": lag}
    return {"status": "ok", "lag_s": lag}


def readiness() -> tuple[dict[str, Any], int]:
    checks: dict[str, Check] = {"database": check_database()}
    if checks["database"]["status"] == "ok":
        checks["schema"] = check_schema(str(current_app.config["DATABASE_URL"]))
    else:
        checks["schema"] = _fail("not checked: the database does not answer")
    queue_url = current_app.config.get("MESSAGE_QUEUE_URL")
    if queue_url:
        checks["message_queue"] = ping_queue(str(queue_url))
    checks.update(commit=check_commits(), disk=check_disk(str(current_app.config["DATABASE_URL"])),
                  event_loop=check_loop())
    failed = [name for name, check in checks.items() if check["status"] != "ok"]
    if failed:
        return {"status": "not_ready", "failed": failed, "checks": checks}, 503
    return {"status": "ready", "checks": checks}, 200


@bp.get("/readyz")
def readyz() -> tuple[dict[str, Any], int]:
    """200 when the database answers at the code's schema and the message queue answers."""
    return readiness()
