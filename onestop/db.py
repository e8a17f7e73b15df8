"""Database plumbing: declarative base, UTC datetimes, engine/session set-up, sequences.

SQLite runs in WAL mode, and every transaction starts with ``BEGIN IMMEDIATE`` so that two
writers queue on the lock instead of failing when a read lock is upgraded. The wait for that
lock is ours, not SQLite's: SQLite's busy handler sleeps inside C, which under gevent stops
every greenlet, including the one holding the lock (see ``_begin_immediate``). PostgreSQL
(psycopg 3) is selected by the URL alone.
"""

from __future__ import annotations

import datetime as dt
import itertools
import select
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import (
    JSON,
    Date,
    DateTime,
    Integer,
    MetaData,
    String,
    create_engine,
    event,
    text,
)
from sqlalchemy import exc as exc_
from sqlalchemy.engine import Dialect, Engine
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    Session,
    mapped_column,
    scoped_session,
    sessionmaker,
)
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite stores naive UTC)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class DailyCounter(Base):
    """One row per (scope, business date): the last number handed out."""

    __tablename__ = "daily_counters"
    scope: Mapped[str] = mapped_column(String(64), primary_key=True)
    business_date: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    last: Mapped[int] = mapped_column(Integer, nullable=False, default=0)


def next_sequence(session: Session, scope: str, business_date: dt.date) -> int:
    """Return the next number for ``scope`` on ``business_date`` in one statement.

    ``INSERT ... ON CONFLICT DO UPDATE ... RETURNING`` is atomic on SQLite >= 3.35 and
    PostgreSQL, so concurrent callers never see the same number; the number is only
    consumed if the caller's transaction commits.
    """
    return int(session.execute(_NEXT, {"s": scope, "d": business_date}).one()[0])


_NEXT = text(
    "INSERT INTO daily_counters (scope, business_date, last) VALUES (:s, :d, 1) "
    "ON CONFLICT (scope, business_date) DO UPDATE SET last = daily_counters.last + 1 "
    "RETURNING last"
)
_GIVE_BACK = text(
    "UPDATE daily_counters SET last = last - 1 WHERE scope = :s AND business_date = :d")


def give_back_sequence(session: Session, scope: str, business_date: dt.date) -> None:
    """Undo this transaction's ``next_sequence`` (a refused ticket). Safe because the row
    stays locked until the transaction ends: SQLite's write lock, PostgreSQL's row lock."""
    session.execute(_GIVE_BACK, {"s": scope, "d": business_date})


SQLITE_BUSY = 5
# seconds between two tries at the write lock: short at first (a request holds it ~1 ms)
LOCK_POLL_S = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.02)


def _begin_immediate(dbapi_conn: sqlite3.Connection, timeout_s: float) -> None:
    """Take SQLite's write lock, waiting at most ``timeout_s`` with ``time.sleep``.

    Under gevent ``time.sleep`` yields to the other greenlets, so a request that holds the
    lock while it waits on a socket or a subprocess can finish and let it go; SQLite's own
    busy timeout would freeze the whole worker for the full timeout and then fail. In threads
    and other processes it is an ordinary sleep.
    """
    deadline = time.monotonic() + timeout_s
    for pause in itertools.chain(LOCK_POLL_S, itertools.repeat(LOCK_POLL_S[-1])):
        try:
            dbapi_conn.execute("BEGIN IMMEDIATE")
            return
        except sqlite3.OperationalError as exc:
            if getattr(exc, "sqlite_errorcode", None) != SQLITE_BUSY or time.monotonic() >= deadline:
                raise
        time.sleep(pause)


def _configure_sqlite(engine: Engine, busy_timeout_ms: int) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
        cur = dbapi_conn.cursor()
        cur.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")  # for the pragmas below
        cur.execute("PRAGMA journal_mode = WAL")
        cur.execute("PRAGMA synchronous = NORMAL")
        cur.execute("PRAGMA foreign_keys = ON")
        # from here on only BEGIN IMMEDIATE waits (in WAL, readers and a writer holding the
        # lock never do), and it waits in Python: _begin_immediate
        cur.execute("PRAGMA busy_timeout = 0")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        try:
            _begin_immediate(conn.connection.driver_connection, busy_timeout_ms / 1000)
        except sqlite3.Error as exc:  # as SQLAlchemy's own statements would raise it
            raise exc_.OperationalError("BEGIN IMMEDIATE", None, exc) from exc


# A pooled PostgreSQL connection idle longer than this gets a real ping (a round trip) at
# checkout; a busier one only the local check of ``_check_on_checkout``.
PING_AFTER_IDLE_S = 10.0
_IDLE_SINCE = "onestop_idle_since"


def _socket_readable(fd: int) -> bool:
    """Whether ``fd`` has something to read (or is closed) right now, without waiting and
    without yielding to gevent (the original ``select.poll``)."""
    poller = _POLL()
    poller.register(fd, select.POLLIN | select.POLLERR | select.POLLHUP)
    return bool(poller.poll(0))


try:  # the unpatched poll under gevent's monkey patching (a zero timeout never waits)
    from gevent.monkey import get_original

    _POLL = get_original("select", "poll")
except ImportError:  # pragma: no cover - gevent is a dependency
    _POLL = select.poll


def _check_on_checkout(engine: Engine) -> None:
    """Check a pooled PostgreSQL connection before use, mostly without a round trip.

    ``pool_pre_ping`` sends a statement on every checkout: a round trip per request, and
    its Python cost in psycopg and the pool (~0.1 ms of the server's CPU per request). A
    connection whose server went away (a PostgreSQL restart or crash, the backend
    terminated, a proxy cut) has its socket closed by the other side, and an idle
    connection has nothing to read otherwise: so a socket that polls readable, or a
    connection libpq already knows bad, is replaced (``DisconnectionError``: the pool
    reconnects, and drops the other connections older than the failure, as after a failed
    pre-ping). Only a connection idle more than ``PING_AFTER_IDLE_S`` (a peer that vanished
    without closing) or with unexpected input gets the real ping."""
    import psycopg

    @event.listens_for(engine, "checkin")
    def _checkin(_dbapi_conn: Any, record: Any) -> None:
        if record is not None:
            record.info[_IDLE_SINCE] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checkout(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.pop(_IDLE_SINCE, None)
        if idle_since is None:  # a fresh connection
            return
        pgconn = dbapi_conn.pgconn
        if pgconn.status != psycopg.pq.ConnStatus.OK:
            raise exc_.DisconnectionError("connection bad")
        if not _socket_readable(pgconn.socket) and time.monotonic() - idle_since < PING_AFTER_IDLE_S:
            return
        try:
            engine.dialect.do_ping(dbapi_conn)
        except psycopg.Error as error:
            raise exc_.DisconnectionError(str(error)) from error


def _psycopg_cursor() -> type:
    """psycopg's cursor with a ``description`` built only when its items are read.

    SQLAlchemy asks every result for ``cursor.description`` (is there a row set?), and
    psycopg answers with a new ``Column`` per column, each decoding its name and looking up
    its type: ~2 us a column, 40-100 columns a request (the ticket and the service loaded
    whole). For a statement it has seen before SQLAlchemy reads the result's shape from its
    cache and never looks inside the list; this one has the same length and items, made
    on first use."""
    from collections.abc import Sequence
    from types import SimpleNamespace

    import psycopg
    from psycopg import Column
    from psycopg.pq import ExecStatus

    class LazyDescription(Sequence[Column]):
        __slots__ = ("_source", "_size", "_columns")

        def __init__(self, cursor: psycopg.Cursor[Any], result: Any) -> None:
            # what Column reads of a cursor, with this result kept (the cursor may move on)
            self._source: Any = (cursor, result)
            self._size = int(result.nfields)
            self._columns: list[Column] | None = None

        def _built(self) -> list[Column]:
            if self._columns is None:
                cursor, result = self._source
                view = SimpleNamespace(pgresult=result, _encoding=cursor._encoding,
                                       adapters=cursor.adapters)
                self._columns = [Column(view, i) for i in range(self._size)]  # type: ignore[arg-type]
            return self._columns

        def __len__(self) -> int:
            return self._size

        def __getitem__(self, index: Any) -> Any:
            return self._built()[index]

        def __iter__(self) -> Iterator[Column]:
            return iter(self._built())

        def __eq__(self, other: object) -> bool:
            return self._built() == other

        def __repr__(self) -> str:
            return repr(self._built())

    rows = (ExecStatus.TUPLES_OK, ExecStatus.SINGLE_TUPLE, ExecStatus.TUPLES_CHUNK)

    class Cursor(psycopg.Cursor[Any]):
        __slots__ = ()

        @property
        def description(self) -> Any:  # as psycopg's, lazily
            res = self.pgresult
            if res and (res.nfields or res.status in rows):
                return LazyDescription(self, res)
            return None

    return Cursor


def make_engine(url: str, busy_timeout_ms: int = 10000) -> Engine:
    """Create the engine for ``url``; SQLite gets WAL + busy timeout + BEGIN IMMEDIATE;
    PostgreSQL's pooled connections are checked before use (``_check_on_checkout``)."""
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    psycopg_url = url.startswith("postgresql+psycopg://")
    kwargs: dict[str, Any] = {"pool_pre_ping": not psycopg_url}  # psycopg: see above
    if url.startswith("sqlite"):
        # "named": a parameter used many times in one statement (the queue heads of
        # onestop/queueing/policy.py name the unit and the day in each of ~55 parts) is sent
        # and converted once, not once per place as with "qmark" (~65 us off every call)
        kwargs = {"connect_args": {"check_same_thread": False, "timeout": busy_timeout_ms / 1000},
                  "paramstyle": "named"}
    else:
        kwargs.update(pool_size=10, max_overflow=20)
        if psycopg_url:
            kwargs["connect_args"] = {"cursor_factory": _psycopg_cursor()}
    engine = create_engine(url, **kwargs)
    if engine.dialect.name == "sqlite":
        _configure_sqlite(engine, busy_timeout_ms)
    elif psycopg_url:
        _check_on_checkout(engine)
    return engine


class CommitHealth:
    """Whether this process's last writing commit failed (a full disk, a lock, a lost
    connection), for ``/readyz``. Cleared by the next writing commit that succeeds."""

    def __init__(self) -> None:
        self.failed_at: float | None = None
        self.error = ""

    def failed(self, error: BaseException) -> None:
        self.failed_at = time.monotonic()
        self.error = type(error).__name__

    def succeeded(self) -> None:
        self.failed_at = None
        self.error = ""


COMMITS = CommitHealth()
_WROTE = "onestop_wrote"  # session.info: a write (flush or DML) since the last commit


class TrackedSession(Session):
    """A session that reports its commits to ``COMMITS``. A failed commit is re-raised:
    the request's error handler answers 503 ``unavailable`` (``onestop/api/errors.py``)."""

    def commit(self) -> None:
        wrote = bool(self.info.get(_WROTE) or self.new or self.dirty or self.deleted)
        try:
            super().commit()
        except Exception as error:
            COMMITS.failed(error)
            raise
        finally:
            self.info.pop(_WROTE, None)
        if wrote:
            COMMITS.succeeded()


def mark_written(session: Session) -> None:
    """Count a write made outside the ORM's flush and DML (a text statement) for the
    commit health of ``TrackedSession``."""
    session.info[_WROTE] = True


@event.listens_for(TrackedSession, "after_flush")
def _flushed(session: Session, _context: Any) -> None:
    session.info[_WROTE] = True


@event.listens_for(TrackedSession, "do_orm_execute")
def _executed(state: Any) -> None:
    if state.is_insert or state.is_update or state.is_delete:  # text() counts as none
        state.session.info[_WROTE] = True


class Database:
    """Engine plus a scoped session, bound to an app by ``init_app`` (one per app)."""

    def __init__(self) -> None:
        self.engine: Engine | None = None
        self.session_factory: sessionmaker[Session] = sessionmaker(
            class_=TrackedSession, expire_on_commit=False)
        self.session = scoped_session(self.session_factory)

    def init_app(self, app: Any) -> None:
        self.engine = make_engine(app.config["DATABASE_URL"], app.config["SQLITE_BUSY_TIMEOUT_MS"])
        self.session_factory.configure(bind=self.engine)
        app.extensions["onestop_db"] = self

        @app.teardown_appcontext
        def _remove_session(_exc: BaseException | None) -> None:
            self.session.remove()

    def release(self) -> None:
        """End the current request's transaction before slow work (audio, a printer, the
        network), so that SQLite's write lock is not held meanwhile; it commits, since a
        request may have touched something (a device's last-seen time) worth keeping."""
        self.session.commit()

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A unit of work outside a request (CLI, jobs): commit on success, else roll back."""
        session = self.session_factory()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()


def standalone_database(settings: dict[str, Any]) -> Database:
    """A database handle without a Flask app (CLI commands need no web layer), from the
    settings of ``onestop.config.load_settings``."""
    Path(settings["DATA_DIR"]).mkdir(parents=True, exist_ok=True)
    database = Database()
    database.engine = make_engine(settings["DATABASE_URL"], settings["SQLITE_BUSY_TIMEOUT_MS"])
    database.session_factory.configure(bind=database.engine)
    return database
