"""Report cells: a unit's facts per (day, field, counter, clerk), from the events or stored.

Every figure of a report (``onestop.reports.figures``) is computed from *cells*. A cell
holds what happened on one local day in one slice (field, counter, clerk; any may be None):
tickets issued, served, expired, from a phone, the tickets missed or transferred, issues by
hour, ratings by level, bookings by state and channel, dossiers received / finished (early,
on time, late) / apologised for, and the exact samples: each wait, each service, the first
waits by arrival (walk-in, phone, booking) and the days from ready to returned.

A day's cells are kept in columns (:class:`DayBlock`: a few integer and float arrays), a
period's as the concatenation of its days' (:class:`Block`), over which the figures are
numpy sums, groupings and partitions. Days come from two places:

- :func:`from_events`: built from the events of a run of days (``queries``), as every report
  did before; today and any day not summarised yet are read this way;
- ``report_days`` (``onestop.reports.models``): the blocks of past days that are *settled*
  (the day is over and none of its tickets nor bookings is still open, so nothing can
  change it), written once by :func:`settle` (the nightly ``onestop day-close
  --yesterday``, ``onestop reports rollup``).

:func:`collect` gives a period's block, stored where it exists (at the current
:data:`VERSION`), from the events elsewhere, so a report's figures are the same either way:
the stored days carry every sample, not an approximation (tests/reports/test_rollup.py
compares both on SQLite and PostgreSQL). A year of a busy centre is 365 rows (~17,500
cells) instead of two million ticket events.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter as Tally
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy import Date, delete, insert, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session

from onestop.db import UTCDateTime, utcnow
from onestop.queueing.models import ACTIVE_STATES
from onestop.reports import queries
from onestop.reports.models import ReportDay
from onestop.reports.periods import Period
from onestop.units.models import Unit

# Bump when what a cell holds or how it is computed changes: days summarised by an older
# version are read from the events again until ``settle`` writes them anew.
VERSION = 3
# the sample arrays of a cell, in the order they are stored
SAMPLES = ("waits", "services", "walk_in", "remote", "booked", "returns")
DOSSIER_COUNTS = ("received", "finished", "early", "on_time", "late", "apologies")
Key = tuple[dt.date, int | None, int | None, int | None]  # day, field, counter, clerk


@dataclass(slots=True)
class Cell:
    """What happened in one slice on one day, built from the events (a return whose ready
    time is unknown is NaN); a day's cells are then put in columns (``DayBlock``)."""

    issued: int = 0
    served: int = 0
    expired: int = 0
    remote: int = 0  # tickets taken from a phone (issue events)
    missed: set[int] = field(default_factory=set)
    transferred: set[int] = field(default_factory=set)
    hours: dict[tuple[dt.date, int], int] = field(default_factory=Tally)  # issues by local day, hour
    served_on: dict[dt.date, int] = field(default_factory=Tally)  # finishes by local day
    ratings: dict[str, int] = field(default_factory=Tally)
    bookings: dict[str, int] = field(default_factory=Tally)  # by state
    channels: dict[str, int] = field(default_factory=Tally)
    dossiers: dict[str, int] = field(default_factory=Tally)
    samples: dict[str, Any] = field(default_factory=lambda: {name: [] for name in SAMPLES})


class LocalClock:
    """Unix times to the unit's local (date, weekday, hour), cached per quarter hour
    (every real UTC offset is a multiple of 15 minutes)."""

    def __init__(self, tz: ZoneInfo) -> None:
        self.tz = tz
        self._cache: dict[int, tuple[dt.date, int, int]] = {}

    def parts(self, ts: float) -> tuple[dt.date, int, int]:
        key = int(ts // 900)
        hit = self._cache.get(key)
        if hit is None:
            moment = dt.datetime.fromtimestamp(key * 900, self.tz)
            hit = self._cache[key] = (moment.date(), moment.weekday(), moment.hour)
        return hit


def local_bounds(unit: Unit, period: Period) -> tuple[dt.datetime, dt.datetime]:
    """The UTC instants of the first local midnight of ``period`` and of the day after it."""
    start = dt.datetime.combine(period.start, dt.time(), unit.tz).astimezone(dt.UTC)
    end = dt.datetime.combine(period.end + dt.timedelta(days=1), dt.time(), unit.tz)
    return start, end.astimezone(dt.UTC)


class Cells(dict[Key, Cell]):
    def at(self, key: Key) -> Cell:
        cell = self.get(key)
        if cell is None:
            cell = self[key] = Cell()
        return cell


def from_events(conn: Connection, unit: Unit, period: Period) -> Cells:
    """The cells of ``period`` (business dates; ratings, bookings and dossier events by the
    unit's local date), read from the events."""
    cells = Cells()
    clock = LocalClock(unit.tz)
    start, end = local_bounds(unit, period)
    sources = {row[0]: row[1] for row in queries.arrival_tickets(conn, unit.id, period)}
    bookings = queries.booking_rows(conn, unit.id, start, end)
    slots = {ticket_id: float(begin) for _s, _state, _c, begin, ticket_id in bookings if ticket_id}
    _tickets(cells, queries.ticket_facts(conn, unit.id, period), clock, sources, slots)
    for level, _score, service_id, counter_id, clerk_id, _scale, at in queries.rating_rows(
            conn, unit.id, start, end):
        cells.at((clock.parts(float(at))[0], service_id, counter_id, clerk_id)).ratings[str(level)] += 1
    for service_id, state, channel, begin, _ticket in bookings:
        cell = cells.at((clock.parts(float(begin))[0], service_id, None, None))
        cell.bookings[state] += 1
        cell.channels[channel] += 1
    for action, _to, at, _id, service_id, clerk_id, appointment in queries.dossier_events(
            conn, unit.id, start, end):
        cell = cells.at((unit.local(at).date(), service_id, None, clerk_id))
        if action == "receive":
            cell.dossiers["received"] += 1
        elif action == "apology":
            cell.dossiers["apologies"] += 1
        else:  # the result is ready: against the appointment (docs/reports.md)
            cell.dossiers["finished"] += 1
            cell.dossiers["late" if at > appointment else
                          "early" if unit.local(at).date() < unit.local(appointment).date()
                          else "on_time"] += 1
    for clerk_id, service_id, days, at in queries.returned_results(conn, unit.id, start, end):
        cells.at((clock.parts(float(at))[0], service_id, None, clerk_id)).samples["returns"].append(
            float("nan") if days is None else float(days))
    return cells


def _tickets(cells: Cells, rows: Iterable[Any], clock: LocalClock, sources: dict[int, str],
             slots: dict[int, float]) -> None:
    """Each row of ``queries.ticket_facts`` is one counted event, and may carry the waiting
    spell that event opened (credited to the field waited for and who called it)."""
    for (kind, ticket_id, service_id, counter_id, clerk_id, ts, service_s,
         wait_s, wait_service, wait_counter, wait_clerk, day) in rows:
        if wait_s is not None:
            samples = cells.at((day, wait_service, wait_counter, wait_clerk)).samples
            wait = max(0.0, float(wait_s))
            samples["waits"].append(wait)
            if kind == "issue":
                source = sources.get(ticket_id)
                if source is None:
                    samples["walk_in"].append(wait)
                elif source == "booking":
                    # from the slot's start or the check-in, whichever is later
                    issued = float(ts)
                    late_by = max(0.0, slots.get(ticket_id, issued) - issued)
                    samples["booked"].append(max(0.0, float(wait_s) - late_by))
                else:
                    samples["remote"].append(wait)
        if kind == "requeue":
            continue
        cell = cells.at((day, service_id, counter_id, clerk_id))
        if kind == "issue":
            cell.issued += 1
            if sources.get(ticket_id) == "remote":
                cell.remote += 1
            local_day, _weekday, hour = clock.parts(float(ts))
            cell.hours[(local_day, hour)] += 1
        elif kind == "finish":
            cell.served += 1
            if service_s is not None:
                cell.samples["services"].append(max(0.0, float(service_s)))
            if ts is not None:
                cell.served_on[clock.parts(float(ts))[0]] += 1
        elif kind == "skip":
            cell.missed.add(ticket_id)
        elif kind == "transfer":
            cell.transferred.add(ticket_id)
        elif kind == "expire":
            cell.expired += 1


def _runs(days: Iterable[dt.date], longest: int | None = None) -> Iterator[Period]:
    """Consecutive days as periods (at most ``longest`` days each)."""
    ordered = sorted(days)
    i = 0
    while i < len(ordered):
        j = i
        while (j + 1 < len(ordered) and ordered[j + 1] - ordered[j] == dt.timedelta(days=1)
               and (longest is None or j + 1 - i < longest)):
            j += 1
        yield Period(ordered[i], ordered[j])
        i = j + 1


_STORED_DAYS = text("SELECT day FROM report_days WHERE unit_id = :unit AND day >= :d0 "
                    "AND day <= :d1 AND version = :v").columns(day=Date())
_STORED_BLOCKS = text(
    "SELECT day, facts, block FROM report_days WHERE unit_id = :unit AND day >= :d0 "
    "AND day <= :d1 AND version = :v").columns(day=Date())


def collect(conn: Connection, unit: Unit, period: Period) -> Block:
    """The facts of ``period`` as one block: the stored days' blocks, the other days (today,
    usually) built from the events (one run of queries per stretch of days not summarised)."""
    params = {"unit": unit.id, "d0": period.start, "d1": period.end, "v": VERSION}
    parts = [decode(day, facts, bytes(blob))
             for day, facts, blob in conn.execute(_STORED_BLOCKS, params).all()]
    stored = {part.day for part in parts}
    for run in _runs(d for d in period.dates() if d not in stored):
        parts.extend(day_blocks(from_events(conn, unit, run)))
    return Block.join(parts)


# -- the columnar form: a day's cells as a few arrays, a period as their concatenation ------

COUNTS = ("issued", "served", "expired", "remote")
TALLIES = ("hours", "served_on", "ratings", "bookings", "channels", "dossiers")
SETS = ("missed", "transferred")
NONE = -1  # a cell's field, counter or clerk that is None


@dataclass
class DayBlock:
    """One day's cells as arrays (n cells): ``key`` [n, 3] (field, counter, clerk; ``NONE``),
    ``count`` [n, 4] (``COUNTS``); per tally [m, 3] rows (cell, code, number) and its codes
    (strings: an hour as ``YYYY-MM-DD HH``, a date, a level, a state...); per set [k, 2]
    rows (cell, ticket id); per sample kind its values and how many belong to each cell."""

    day: dt.date
    key: np.ndarray
    count: np.ndarray
    tallies: dict[str, tuple[np.ndarray, list[str]]]
    sets: dict[str, np.ndarray]
    samples: dict[str, tuple[np.ndarray, np.ndarray]]  # kind -> (values, per-cell numbers)


def _none(value: int | None) -> int:
    return NONE if value is None else value


def day_blocks(cells: dict[Key, Cell]) -> list[DayBlock]:
    """Cells built from events, as one block per day."""
    by_day: dict[dt.date, list[tuple[Key, Cell]]] = {}
    for key, cell in cells.items():
        by_day.setdefault(key[0], []).append((key, cell))
    return [_day_block(day, items) for day, items in sorted(by_day.items())]


def _day_block(day: dt.date, items: list[tuple[Key, Cell]]) -> DayBlock:
    n = len(items)
    key = np.array([[_none(k[1]), _none(k[2]), _none(k[3])] for k, _c in items],
                   dtype=np.int64).reshape(n, 3)
    count = np.array([[c.issued, c.served, c.expired, c.remote] for _k, c in items],
                     dtype=np.int64).reshape(n, 4)
    tallies = {}
    for name in TALLIES:
        codes: dict[str, int] = {}
        rows = []
        for i, (_k, cell) in enumerate(items):
            for code, number in _tally(cell, name).items():
                if number:
                    rows.append((i, codes.setdefault(code, len(codes)), number))
        tallies[name] = (np.array(rows, dtype=np.int64).reshape(len(rows), 3), list(codes))
    sets = {name: np.array([(i, t) for i, (_k, c) in enumerate(items) for t in sorted(getattr(c, name))],
                           dtype=np.int64).reshape(-1, 2) for name in SETS}
    samples = {}
    for kind in SAMPLES:
        values = [v for _k, c in items for v in c.samples[kind]]
        samples[kind] = (np.array(values, dtype=np.float64),
                         np.array([len(c.samples[kind]) for _k, c in items], dtype=np.int64))
    return DayBlock(day, key, count, tallies, sets, samples)


def _tally(cell: Cell, name: str) -> dict[str, int]:
    if name == "hours":
        return {f"{d.isoformat()} {h:02d}": n for (d, h), n in cell.hours.items()}
    if name == "served_on":
        return {d.isoformat(): n for d, n in cell.served_on.items()}
    return dict(getattr(cell, name))


def encode(block: DayBlock) -> tuple[str, bytes]:
    """``(facts, block)`` as ``report_days`` stores them: the codes and the arrays' lengths
    as JSON, the arrays' bytes one after the other (int64 and float64, this machine's order)."""
    arrays = [block.key, block.count, *(block.tallies[t][0] for t in TALLIES),
              *(block.sets[s] for s in SETS), *(a for k in SAMPLES for a in block.samples[k])]
    facts = {"n": int(block.key.shape[0]),
             "codes": {t: block.tallies[t][1] for t in TALLIES},
             "m": [int(block.tallies[t][0].shape[0]) for t in TALLIES],
             "k": [int(block.sets[s].shape[0]) for s in SETS],
             "p": [int(block.samples[k][0].shape[0]) for k in SAMPLES]}
    return json.dumps(facts, separators=(",", ":")), b"".join(np.ascontiguousarray(a).tobytes()
                                                             for a in arrays)


def decode(day: dt.date, facts_text: str, blob: bytes) -> DayBlock:
    facts = json.loads(facts_text)
    n, at = facts["n"], 0

    def take(dtype: type, count: int, width: int = 1) -> np.ndarray:
        nonlocal at
        array: np.ndarray = np.frombuffer(blob, dtype=dtype, count=count * width, offset=at)
        at += array.nbytes
        return array.reshape(count, width) if width > 1 else array

    key, count = take(np.int64, n, 3), take(np.int64, n, 4)
    tallies = {t: (take(np.int64, m, 3), facts["codes"][t])
               for t, m in zip(TALLIES, facts["m"], strict=True)}
    sets = {s: take(np.int64, k, 2) for s, k in zip(SETS, facts["k"], strict=True)}
    samples = {kind: (take(np.float64, p), take(np.int64, n))
               for kind, p in zip(SAMPLES, facts["p"], strict=True)}
    return DayBlock(day, key, count, tallies, sets, samples)


@dataclass
class Block:
    """A period's cells (N), joined from its days' blocks: ``day`` [N] (date ordinals),
    ``key`` [N, 3], ``count`` [N, 4]; per tally [M, 3] rows (cell, code, number) over the
    period's codes; per set [K, 2] rows (cell, ticket id); per sample kind (values [P],
    their cells [P])."""

    day: np.ndarray
    key: np.ndarray
    count: np.ndarray
    tallies: dict[str, tuple[np.ndarray, list[str]]]
    sets: dict[str, np.ndarray]
    samples: dict[str, tuple[np.ndarray, np.ndarray]]
    per_cell: dict[str, np.ndarray]  # per sample kind: how many each cell has

    @classmethod
    def join(cls, parts: list[DayBlock]) -> Block:
        offsets = np.cumsum([0] + [p.key.shape[0] for p in parts])
        day = np.concatenate([np.full(p.key.shape[0], p.day.toordinal(), dtype=np.int64)
                              for p in parts] or [np.empty(0, np.int64)])
        key = np.concatenate([p.key for p in parts] or [np.empty((0, 3), np.int64)])
        count = np.concatenate([p.count for p in parts] or [np.empty((0, 4), np.int64)])
        tallies = {}
        for name in TALLIES:
            codes: dict[str, int] = {}
            rows = []
            for part, offset in zip(parts, offsets, strict=False):
                entries, local = part.tallies[name]
                if entries.shape[0]:
                    remap = np.array([codes.setdefault(c, len(codes)) for c in local], dtype=np.int64)
                    rows.append(np.column_stack((entries[:, 0] + offset, remap[entries[:, 1]],
                                                 entries[:, 2])))
            tallies[name] = (np.concatenate(rows) if rows else np.empty((0, 3), np.int64), list(codes))
        sets = {}
        for name in SETS:
            rows = [np.column_stack((p.sets[name][:, 0] + o, p.sets[name][:, 1]))
                    for p, o in zip(parts, offsets, strict=False) if p.sets[name].shape[0]]
            sets[name] = np.concatenate(rows) if rows else np.empty((0, 2), np.int64)
        samples, counts = {}, {}
        for kind in SAMPLES:
            values = [p.samples[kind][0] for p in parts if p.samples[kind][0].shape[0]]
            per_cell = np.concatenate([p.samples[kind][1] for p in parts] or [np.empty(0, np.int64)])
            samples[kind] = (np.concatenate(values) if values else np.empty(0, np.float64),
                             np.repeat(np.arange(per_cell.shape[0], dtype=np.int64), per_cell))
            counts[kind] = per_cell
        return cls(day, key, count, tallies, sets, samples, counts)


# -- writing: the settled days ---------------------------------------------------------

def _first_day(conn: Connection, unit: Unit) -> dt.date | None:
    """The unit's first local day with anything a report counts."""
    found: list[dt.date] = []
    day = conn.execute(text("SELECT MIN(business_date) AS d FROM tickets WHERE unit_id = :u")
                       .columns(d=Date()), {"u": unit.id}).scalar()
    if day is not None:
        found.append(day)
    for table, column in (("ratings", "rated_at"), ("dossiers", "received_at"), ("bookings", "start")):
        first = conn.execute(text(f"SELECT MIN({column}) AS t FROM {table} WHERE unit_id = :u")
                             .columns(t=UTCDateTime()), {"u": unit.id}).scalar()
        if first is not None:
            found.append(unit.local(first).date())
    return min(found) if found else None


def settled_days(conn: Connection, unit: Unit, today: dt.date, *, rebuild: bool = False,
                 start: dt.date | None = None, end: dt.date | None = None) -> list[dt.date]:
    """The unit's days before ``today`` (within ``[start, end]``) that are over, with no
    ticket still open nor booking still waiting for its check-in (the day close settles
    both), and are not summarised at the current version (all of them with ``rebuild``)."""
    first = _first_day(conn, unit)
    last = min(end or today, today - dt.timedelta(days=1))
    if first is None:
        return []
    first = max(first, start) if start else first
    if first > last:
        return []
    params = {"unit": unit.id, "d0": first, "d1": last, "v": VERSION}
    done = set() if rebuild else set(conn.execute(_STORED_DAYS, params).scalars())
    active = ", ".join(f"'{s}'" for s in ACTIVE_STATES)
    open_days = set(conn.execute(text(
        "SELECT DISTINCT business_date FROM tickets WHERE unit_id = :unit AND business_date >= :d0 "
        f"AND business_date <= :d1 AND state IN ({active})").columns(business_date=Date()),
        params).scalars())
    # bookings of a day not closed yet are still "booked": the close makes them no-shows
    until = local_bounds(unit, Period(first, last))[1]
    for (begin,) in conn.execute(text(
            "SELECT start FROM bookings WHERE unit_id = :unit AND state = 'booked' AND start < :t1")
            .columns(start=UTCDateTime()), {"unit": unit.id, "t1": queries.utc_param(conn, until)}):
        open_days.add(unit.local(begin).date())
    return [d for d in Period(first, last).dates() if d not in done and d not in open_days]


@dataclass
class Settled:
    days: int = 0
    cells: int = 0


def settle(engine: Engine, unit_id: int, today: dt.date, *, rebuild: bool = False,
           start: dt.date | None = None, end: dt.date | None = None, chunk_days: int = 31) -> Settled:
    """Summarise the unit's settled days not summarised yet (or all with ``rebuild``).

    Each stretch of up to ``chunk_days`` days is read through a read-only connection
    (``queries.reading``: no write lock while the events are read), then written in one short
    transaction that replaces whatever that stretch had."""
    out = Settled()
    with queries.reading(engine) as conn:
        unit = Session(bind=conn).get(Unit, unit_id)
        assert unit is not None
        todo = settled_days(conn, unit, today, rebuild=rebuild, start=start, end=end)
    for run in _runs(todo, chunk_days):
        with queries.reading(engine) as conn:
            unit = Session(bind=conn).get(Unit, unit_id)
            assert unit is not None
            cells = from_events(conn, unit, run)
        blocks = {block.day: block for block in day_blocks(cells)}
        now = utcnow()
        rows: list[dict[str, Any]] = []
        for day in run.dates():
            block = blocks.get(day) or _day_block(day, [])
            facts, blob = encode(block)
            rows.append({"unit_id": unit_id, "day": day, "version": VERSION,
                         "cells": int(block.key.shape[0]), "facts": facts, "block": blob,
                         "written_at": now})
        with engine.begin() as write:
            write.execute(delete(ReportDay).where(ReportDay.unit_id == unit_id,
                                                  ReportDay.day >= run.start, ReportDay.day <= run.end))
            write.execute(insert(ReportDay), rows)
        out.days += run.days
        out.cells += sum(int(block.key.shape[0]) for block in blocks.values())
    return out
