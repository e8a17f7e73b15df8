"""Shared fixtures: an app on a fresh SQLite file, the demo centre, tokens, services.

PostgreSQL and Redis tests skip with a reason when those are absent, and fail instead when
ONESTOP_REQUIRE_SERVICES=1 (CI sets it). Browser tests do the same with
ONESTOP_REQUIRE_BROWSER=1.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import os
import queue
import socket
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from werkzeug.security import generate_password_hash

from onestop import demo
from onestop.app import create_app
from onestop.db import make_engine
from onestop.extensions import db
from onestop.models import Base

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
PG_URL = os.environ.get("ONESTOP_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("ONESTOP_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
SECRET = "test-secret-key-for-onestop-tests"


def local(year: int, month: int, day: int, hour: int = 9, minute: int = 0) -> dt.datetime:
    """A moment given in Vietnam time, returned as aware UTC (what the engine takes)."""
    return dt.datetime(year, month, day, hour, minute, tzinfo=TZ).astimezone(dt.UTC)


# Monday 23 November 2026, 09:00 in Hà Nội: every demo MWF and weekday field is open.
MONDAY_9 = local(2026, 11, 23, 9, 0)


def need_service(kind: str, reason: str) -> None:
    """Skip, or fail when CI requires the service."""
    env = "ONESTOP_REQUIRE_BROWSER" if kind == "browser" else "ONESTOP_REQUIRE_SERVICES"
    if os.environ.get(env) == "1":
        pytest.fail(f"{reason} (required because {env}=1)")
    pytest.skip(reason)


def _port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def make_sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'onestop.sqlite3'}"


def create_schema(url: str) -> None:
    engine = make_engine(url)
    Base.metadata.create_all(engine)
    engine.dispose()


def _cheap_hash(password: str) -> str:
    return generate_password_hash(password, method="pbkdf2:sha256:1")


@pytest.fixture(scope="session", autouse=True)
def cheap_password_hashing() -> Iterator[None]:
    """The demo data hashes ten passwords per test with scrypt (about 1 s).

    The method is part of the stored hash, so a one-round pbkdf2 hash checks exactly like a
    production one. Only this test process is affected; server subprocesses hash for real.
    """
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("onestop.accounts.models.generate_password_hash", _cheap_hash)
        yield


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh PostgreSQL schema for one test; dropped afterwards."""
    if not _port_open("127.0.0.1", 5432):
        need_service("postgres", "PostgreSQL is not listening on 127.0.0.1:5432")
    import psycopg

    schema = f"t_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    yield f"{PG_URL}?options=-csearch_path%3D{schema}"
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA {schema} CASCADE")


@pytest.fixture
def redis_url() -> str:
    if not _port_open("127.0.0.1", 6379):
        need_service("redis", "Redis is not listening on 127.0.0.1:6379")
    return REDIS_URL


CHROMIUM = "/usr/bin/chromium"  # Debian's; Playwright never downloads a browser here
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--autoplay-policy=no-user-gesture-required"]


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Headless Chromium driven by Playwright, shared by every browser test."""
    if not os.path.exists(CHROMIUM):
        need_service("browser", f"Chromium is not installed at {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


def app_config(tmp_path: Path, **extra: Any) -> dict[str, Any]:
    return {"DATA_DIR": str(tmp_path), "DATABASE_URL": make_sqlite_url(tmp_path),
            "SECRET_KEY": SECRET, "TESTING": True, "ASYNC_MODE": "threading",
            "RATELIMIT_ENABLED": False, "QUEUE_EVENT_INTERVAL_S": 0, **extra}


@contextmanager
def demo_app(tmp_path: Path, **extra: Any) -> Iterator[Any]:
    """An app on a fresh SQLite file with the demo centre loaded (always open unless
    ``ALWAYS_OPEN=False`` is given)."""
    application = create_app(app_config(tmp_path, **{"ALWAYS_OPEN": True, **extra}))
    create_schema(application.config["DATABASE_URL"])
    with application.app_context():
        demo.load(db.session())
        db.session.commit()
    yield application
    db.session.remove()
    assert db.engine is not None
    db.engine.dispose()


@pytest.fixture
def app(tmp_path: Path) -> Iterator[Any]:
    with demo_app(tmp_path) as application:
        yield application


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def app_both(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    """The demo centre on a SQLite file, then on a PostgreSQL schema (a module that runs on
    both names it as its ``app``)."""
    extra = {} if request.param == "sqlite" else {"DATABASE_URL": request.getfixturevalue("pg_url")}
    with demo_app(tmp_path, **extra) as application:
        yield application


def race_processes(target: Callable[..., None], arg_rows: list[tuple[Any, ...]],
                   timeout: float = 120.0) -> list[dict[str, Any]]:
    """Run ``target(*row, barrier, results, index)`` in one spawned process per row, all
    released by one barrier; return their reports (dicts with ``index`` and ``errors``)."""
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(len(arg_rows))
    results = ctx.Queue()
    procs = [ctx.Process(target=target, args=(*row, barrier, results, i), daemon=True)
             for i, row in enumerate(arg_rows)]
    for proc in procs:
        proc.start()
    out: list[dict[str, Any]] = []
    try:
        for _ in procs:
            out.append(results.get(timeout=timeout))
    except queue.Empty:
        pytest.fail(f"only {len(out)} of {len(procs)} workers reported within {timeout} s")
    finally:
        for proc in procs:
            proc.join(timeout=10)
            if proc.is_alive():
                proc.kill()
    errors = [e for row in out for e in row["errors"]]
    assert not errors, "\n".join(errors)
    assert all(proc.exitcode == 0 for proc in procs), [p.exitcode for p in procs]
    return sorted(out, key=lambda row: row["index"])


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def race_config(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, Any]:
    """An app configuration (always open) on a SQLite file, then on a PostgreSQL schema: the
    races of several processes run on both."""
    extra = {} if request.param == "sqlite" else {"DATABASE_URL": request.getfixturevalue("pg_url")}
    return app_config(tmp_path, ALWAYS_OPEN=True, **extra)


@pytest.fixture
def client(app: Any) -> Any:
    return app.test_client()


@pytest.fixture
def session(app: Any) -> Iterator[Any]:
    """A session for direct engine calls (demo data loaded).

    It holds an app context open: Flask-Login caches the signed-in user in ``g`` for that
    context, so do not make test-client requests as different users while using it.
    """
    with app.app_context():
        yield db.session()
        db.session.rollback()


def token_for(client: Any, username: str, password: str = demo.DEMO_PASSWORD) -> str:
    res = client.post("/api/v1/auth/token", json={"username": username, "password": password})
    assert res.status_code == 201, res.get_json()
    return str(res.get_json()["token"])


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def espeak() -> str:
    """espeak-ng with its Vietnamese voice: the program (Debian package ``espeak-ng``) or the
    library of the ``espeakng-loader`` wheel (a dependency on Linux x86-64)."""
    from hardware.voice import Espeak

    engine = Espeak().engine()
    if not engine:
        need_service("services", "espeak-ng is not installed (pip install espeakng-loader, "
                     "or apt-get install espeak-ng)")
    return engine


@pytest.hookimpl(tryfirst=True)  # the marks before xdist's own hook reads them
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """``make test`` runs the suite on two pytest-xdist workers (``--dist loadgroup``). A
    module stays on one worker, so that its module-wide live server starts once; the modules
    that talk to Redis all share one worker, one after the other: Redis's pub/sub channels
    are the same for every database number, so two of them at once would hear each other.

    The group travels as a ``@group`` suffix of the node id. pytest-xdist 3.8 writes it to
    ``item._nodeid``, which pytest 9 no longer reads (its node id is ``item._id``): the
    suffix never appeared and every test was scheduled on its own, the tests of one module
    on both workers, each with a live server of its own (the hall display's restart test
    saw a server where no earlier test had opened counter 2, the floods' metrics test one
    that had seen no flood). So the suffix is set here, where xdist's did not take."""
    def module(item: pytest.Item) -> str:
        return item.nodeid.split("::", 1)[0]

    on_redis = {module(item) for item in items if "redis_url" in getattr(item, "fixturenames", ())}
    for item in items:
        group = "redis" if module(item) in on_redis else module(item)
        item.add_marker(pytest.mark.xdist_group(group))
        if config.getoption("loadgroup", False) and "@" not in item.nodeid.rsplit("]", 1)[-1]:
            from _pytest.nodeid import NodeId

            item._id = NodeId.parse(f"{item.nodeid}@{group}")  # type: ignore[attr-defined]
