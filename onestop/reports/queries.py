"""The report queries: pair ticket events into waits and services in the database.

Reports read through :func:`reading`: on SQLite a separate connection that starts a
*deferred* transaction (the app's sessions start ``BEGIN IMMEDIATE``, which would hold the
write lock for the whole report and stall the kiosks); in WAL mode such a reader never
blocks a writer. On PostgreSQL it is an ordinary connection of the app's engine.

The heavy lifting is one statement per kind of fact: the unit's tickets of the business
dates asked for (the ``ix_tickets_queue`` index), their events (``ticket_id`` index), each
spell's start paired with its end by an indexed look-up, and the durations in seconds
computed by the database. What comes back is one short numeric row per
fact; percentiles are taken in Python (neither SQLite nor portable SQL has them).
"""

from __future__ import annotations

import datetime as dt
import weakref
from collections import Counter as Tally
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Date, Integer, String, bindparam, create_engine, event, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import NullPool

from onestop.db import UTCDateTime
from onestop.reports.periods import Period

_READERS: weakref.WeakKeyDictionary[Engine, Engine] = weakref.WeakKeyDictionary()

# the events counted, or that open a waiting spell
COUNTED = ("issue", "requeue", "transfer", "finish", "skip", "expire")


def _sqlite_reader(engine: Engine) -> Engine:
    reader = _READERS.get(engine)
    if reader is None:
        reader = create_engine(engine.url, poolclass=NullPool,
                               connect_args={"check_same_thread": False, "timeout": 10})

        @event.listens_for(reader, "connect")
        def _connect(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None  # we say BEGIN ourselves, deferred
            dbapi_conn.execute("PRAGMA busy_timeout = 10000")
            dbapi_conn.execute("PRAGMA query_only = ON")

        @event.listens_for(reader, "begin")
        def _begin(conn: Any) -> None:
            conn.exec_driver_sql("BEGIN")

        _READERS[engine] = reader
    return reader


@contextmanager
def reading(engine: Engine) -> Iterator[Connection]:
    """A read-only connection for a report (one consistent snapshot on both back ends)."""
    source = _sqlite_reader(engine) if engine.dialect.name == "sqlite" else engine
    with source.connect() as conn, conn.begin():
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        yield conn


def epoch(conn: Connection, column: str) -> str:
    """SQL for the Unix time (seconds, float) of a stored UTC timestamp column."""
    if conn.dialect.name == "sqlite":  # naive UTC text, see onestop.db.UTCDateTime
        # julianday() is a double: round to the millisecond, so 08:00:00 stays 08:00:00
        return f"ROUND((julianday({column}) - 2440587.5) * 86400.0, 3)"
    return f"EXTRACT(EPOCH FROM {column})"


@dataclass(frozen=True)
class Filters:
    """What a report is narrowed to (``None``: everything of the unit)."""

    service_id: int | None = None
    counter_id: int | None = None
    clerk_id: int | None = None


def _in(values: Sequence[str]) -> str:
    return "(" + ", ".join(f"'{v}'" for v in values) + ")"


def ticket_facts(conn: Connection, unit_id: int, period: Period) -> list[Any]:
    """One row per counted event of the unit's tickets of ``period`` (business dates).

    Columns: ``action`` (issue, requeue, transfer, finish, skip, expire), ``ticket_id``,
    ``service_id`` (for a transfer: the field it left), ``counter_id``, ``clerk_id`` (for a
    finish: who served it, i.e. the last call, start or unpark before it, as ratings are
    credited; else who marked it absent or transferred it), ``ts`` (Unix time of the event;
    for a finish the start of the service), ``service_s`` (finish: the service in seconds), then the
    waiting spell the event opens, if it was called from the queue: ``wait_s``,
    ``wait_service_id`` (the field waited for), ``wait_counter_id``, ``wait_clerk_id`` (who
    called), and last the ticket's ``business_date``. Spells are paired by
    correlated look-ups on the ``ticket_id`` index, which SQLite runs faster than
    ``LAG``/``LEAD`` windows.
    """
    def t(column: str) -> str:
        return epoch(conn, column)

    # the spell's end: the first later event that leaves the queue; the service's start: the
    # last call or start before the finish (the event id index is (ticket_id, id) in effect)
    sql = f"""
    WITH ev AS (
      SELECT e.id, e.ticket_id, e.action, e.from_state, e.to_state, e.counter_id, e.service_id,
        e.actor_user_id, e.at, t.business_date,
        CASE WHEN e.to_state = 'waiting' AND (e.from_state IS NULL OR e.from_state <> 'waiting')
          THEN (SELECT MIN(x.id) FROM ticket_events x WHERE x.ticket_id = e.ticket_id
                AND x.id > e.id AND x.from_state = 'waiting') END AS n_id,
        CASE WHEN e.action IN ('finish', 'transfer')
          THEN (SELECT MAX(x.id) FROM ticket_events x WHERE x.ticket_id = e.ticket_id
                AND x.id < e.id AND x.action IN ('start', 'call', 'unpark')) END AS p_id
      FROM tickets t JOIN ticket_events e ON e.ticket_id = t.id
      WHERE t.unit_id = :unit AND t.business_date >= :d0 AND t.business_date <= :d1
        AND e.action IN {_in(COUNTED)}
    )
    SELECT ev.action, ev.ticket_id,
      CASE WHEN ev.action = 'transfer' THEN COALESCE(p.service_id, ev.service_id)
           ELSE ev.service_id END,
      ev.counter_id,
      CASE WHEN ev.action = 'finish' THEN COALESCE(p.actor_user_id, ev.actor_user_id)
           WHEN ev.action IN ('skip', 'transfer') THEN ev.actor_user_id END,
      {t("COALESCE(p.at, ev.at)")},
      CASE WHEN ev.action = 'finish' AND p.id IS NOT NULL THEN {t("ev.at")} - {t("p.at")} END,
      CASE WHEN n.action = 'call' THEN {t("n.at")} - {t("ev.at")} END,
      ev.service_id, n.counter_id, n.actor_user_id, ev.business_date
    FROM ev LEFT JOIN ticket_events n ON n.id = ev.n_id
      LEFT JOIN ticket_events p ON p.id = ev.p_id
    """
    query = text(sql).columns(business_date=Date())
    return list(conn.execute(query, {"unit": unit_id, "d0": period.start, "d1": period.end}))


def rating_rows(conn: Connection, unit_id: int, start: dt.datetime, end: dt.datetime) -> list[Any]:
    """``(level, score, service_id, counter_id, clerk_id, scale, rated_at)`` of the unit's
    ratings given in ``[start, end)`` (UTC), ``rated_at`` as Unix time."""
    sql = text(f"SELECT level, score, service_id, counter_id, clerk_id, scale, {epoch(conn, 'rated_at')} "
               "FROM ratings WHERE unit_id = :unit AND rated_at >= :t0 AND rated_at < :t1")
    return list(conn.execute(sql, _range(conn, unit_id, start, end)))


def utc_param(conn: Connection, moment: dt.datetime) -> dt.datetime:
    """``moment`` as a parameter compared with a stored UTC column in plain SQL."""
    if conn.dialect.name == "sqlite":  # stored as naive UTC
        return moment.astimezone(dt.UTC).replace(tzinfo=None)
    return moment


def _range(conn: Connection, unit_id: int, start: dt.datetime, end: dt.datetime) -> dict[str, Any]:
    return {"unit": unit_id, "t0": utc_param(conn, start), "t1": utc_param(conn, end)}


def dossier_events(conn: Connection, unit_id: int, start: dt.datetime, end: dt.datetime) -> list[Any]:
    """``(action, to_state, at, dossier_id, service_id, received_by, appointment_at)`` of
    the unit's dossier events in ``[start, end)``: receipts, results ready, apologies."""
    sql = text(
        "SELECT e.action, e.to_state, e.at, d.id, d.service_id, d.received_by_id, d.appointment_at "
        "FROM dossier_events e JOIN dossiers d ON d.id = e.dossier_id "
        "WHERE d.unit_id = :unit AND e.at >= :t0 AND e.at < :t1 "
        "AND (e.action IN ('receive', 'apology') OR (e.action = 'state' AND e.to_state = 'ready'))"
    ).columns(action=String(), to_state=String(), at=UTCDateTime(), id=Integer(),
              service_id=Integer(), received_by_id=Integer(), appointment_at=UTCDateTime())
    return list(conn.execute(sql, _range(conn, unit_id, start, end)))


def returned_results(conn: Connection, unit_id: int, start: dt.datetime, end: dt.datetime) -> list[Any]:
    """``(clerk_id, service_id, days, at)`` of the unit's results handed over in ``[start, end)``:
    the clerk credited is who recorded the hand-over (the event's actor), ``days`` the time
    from the result being ready to its return, in days (None when no ready time is known),
    ``at`` the hand-over (Unix time)."""
    sql = text(
        f"SELECT e.actor_user_id, d.service_id, "
        f"CASE WHEN d.ready_at IS NOT NULL THEN ({epoch(conn, 'e.at')} - {epoch(conn, 'd.ready_at')}) "
        f"/ 86400.0 END, {epoch(conn, 'e.at')} "
        "FROM dossier_events e JOIN dossiers d ON d.id = e.dossier_id "
        "WHERE d.unit_id = :unit AND e.at >= :t0 AND e.at < :t1 AND e.to_state = 'returned' "
        "AND (e.from_state IS NULL OR e.from_state <> 'returned')"
    ).columns(actor_user_id=Integer(), service_id=Integer())
    return list(conn.execute(sql, _range(conn, unit_id, start, end)))


def dossiers_overdue(conn: Connection, unit_id: int, cutoff: dt.datetime) -> list[Any]:
    """``(dossier_id, service_id, received_by, appointment_at, new_appointment_at)`` of the
    dossiers still with the office at ``cutoff`` (their last event before it left them
    ``received`` or ``processing``); the caller compares the appointment in force.

    Only the dossiers that can have been running then are looked at (received before
    ``cutoff``, neither ready nor closed before it: a dossier is ready once and never goes
    back), so the cost follows the dossiers in progress, not the years of history."""
    sql = text(
        "SELECT d.id, d.service_id, d.received_by_id, d.appointment_at, d.new_appointment_at "
        "FROM dossiers d JOIN dossier_events e ON e.dossier_id = d.id "
        "WHERE d.unit_id = :unit AND d.received_at < :t1 "
        "AND (d.ready_at IS NULL OR d.ready_at >= :t1) AND (d.closed_at IS NULL OR d.closed_at >= :t1) "
        "AND e.id = (SELECT MAX(x.id) FROM dossier_events x "
        "  WHERE x.dossier_id = d.id AND x.at < :t1) "
        "AND e.to_state IN ('received', 'processing')"
    ).columns(id=Integer(), service_id=Integer(), received_by_id=Integer(),
              appointment_at=UTCDateTime(), new_appointment_at=UTCDateTime())
    params = _range(conn, unit_id, cutoff, cutoff)
    return list(conn.execute(sql, params))


def dossiers_running(conn: Connection, unit_id: int, cutoff: dt.datetime) -> list[Any]:
    """The dossiers overdue now per field and clerk, as ``(service_id, received_by,
    number)``: those whose state is ``received`` or ``processing`` (their last event left
    them so, :func:`dossiers_overdue`) past the appointment in force. A busy centre has
    thousands in progress: the database compares their appointments, and only the overdue
    come back (counted here: a GROUP BY made SQLite walk every dossier of the unit in the
    field's order instead of the ones in progress through ``ix_dossiers_unit_state_received``)."""
    sql = text(
        "SELECT d.service_id, d.received_by_id FROM dossiers d "
        "WHERE d.unit_id = :unit AND d.state IN ('received', 'processing') "
        "AND COALESCE(d.new_appointment_at, d.appointment_at) < :cutoff"
    ).bindparams(bindparam("cutoff", type_=UTCDateTime()))
    counted = Tally(tuple(row) for row in conn.execute(sql, {"unit": unit_id, "cutoff": cutoff}))
    return [(service_id, clerk_id, n) for (service_id, clerk_id), n in counted.items()]


def counter_events(conn: Connection, unit_id: int, end: dt.datetime) -> list[Any]:
    """``(counter_id, at, to_state)`` of the unit's counters before ``end``, in order."""
    sql = text("SELECT e.counter_id, e.at, e.to_state FROM counter_events e "
               "JOIN counters c ON c.id = e.counter_id WHERE c.unit_id = :unit AND e.at < :t1 "
               "ORDER BY e.counter_id, e.at, e.id"
               ).columns(counter_id=Integer(), at=UTCDateTime(), to_state=String())
    return list(conn.execute(sql, _range(conn, unit_id, end, end)))


def booking_rows(conn: Connection, unit_id: int, start: dt.datetime, end: dt.datetime) -> list[Any]:
    """``(service_id, state, channel, start, ticket_id)`` of the unit's bookings whose slot
    starts in ``[start, end)`` (UTC), ``start`` as Unix time: every booking counts on its
    slot's day; ``ticket_id``: the ticket of its check-in."""
    sql = text(f"SELECT service_id, state, channel, {epoch(conn, 'start')}, ticket_id FROM bookings "
               "WHERE unit_id = :unit AND start >= :t0 AND start < :t1"
               ).columns(service_id=Integer(), state=String(), channel=String(), ticket_id=Integer())
    return list(conn.execute(sql, _range(conn, unit_id, start, end)))


def arrival_tickets(conn: Connection, unit_id: int, period: Period) -> list[Any]:
    """``(ticket_id, source, service_id, business_date)`` of the unit's tickets of ``period``
    that came from a booking's check-in or from a phone: a few beside the walk-ins. A plain
    scan of the period's tickets, cheaper than carrying the source on every ticket fact."""
    sql = text(
        "SELECT id, source, issued_service_id, business_date FROM tickets "
        "WHERE unit_id = :unit AND business_date >= :d0 AND business_date <= :d1 "
        "AND source IN ('booking', 'remote')"
    ).columns(id=Integer(), source=String(), issued_service_id=Integer(), business_date=Date())
    return list(conn.execute(sql, {"unit": unit_id, "d0": period.start, "d1": period.end}))
