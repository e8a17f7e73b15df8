"""Report cells: a unit's facts per (day, field, counter, clerk), from the events or stored.

Every figure of a report (``onestop.reports.figures``) is computed from *cells*. A cell
holds what happened on one local day in one slice (field, counter, clerk; any may be None):
tickets issued, served, expired, from a phone, the tickets missed or transferred, issues by
hour, ratings by level, bookings by state and channel, dossiers received / finished (early,
on time, late) / apologised for, and the exact samples: each wait, each service, the first
waits by arrival (walk-in, phone, booking) and the days from ready to returned.

Cells come from two places:

- :func:`from_events`: built from the events of a run of days (``queries``), as every report
  did before; today and any day not summarised yet are read this way;
- the ``report_cells`` table (``onestop.reports.models``): the cells of past days that are
  *settled* (the day is over and none of its tickets is still open, so nothing can change
  it), written once by :func:`settle` (the nightly ``onestop day-close --yesterday``,
  ``onestop reports rollup``).

:func:`collect` gives a period's cells, stored where they exist (at the current
:data:`VERSION`), from the events elsewhere, so a report's figures are the same either way:
the stored cells carry every sample, not an approximation (tests/reports/test_rollup.py
compares both on SQLite and PostgreSQL). A year of a busy centre is ~15,000 cells instead
of two million ticket events.
"""

from __future__ import annotations

import datetime as dt
import json
from array import array
from collections import Counter as Tally
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy import Date, Integer, delete, insert, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session

from onestop.db import UTCDateTime, utcnow
from onestop.queueing.models import ACTIVE_STATES
from onestop.reports import queries
from onestop.reports.models import ReportCell, ReportDay
from onestop.reports.periods import Period
from onestop.units.models import Unit

# Bump when what a cell holds or how it is computed changes: days summarised by an older
# version are read from the events again until ``settle`` writes them anew.
VERSION = 2
# the sample arrays of a cell, in the order they are stored
SAMPLES = ("waits", "services", "walk_in", "remote", "booked", "returns")
DOSSIER_COUNTS = ("received", "finished", "early", "on_time", "late", "apologies")
Key = tuple[dt.date, int | None, int | None, int | None]  # day, field, counter, clerk


@dataclass(slots=True)
class Cell:
    """What happened in one slice on one day. Samples are lists while built from events,
    numpy arrays once read from the table; a return whose ready time is unknown is NaN."""

    issued: int = 0
    served: int = 0
    expired: int = 0
    remote: int = 0  # tickets taken from a phone (issue events)
    missed: set[int] = field(default_factory=set)
    transferred: set[int] = field(default_factory=set)
    # counts: a Counter while built from events, a plain dict once read
    hours: dict[tuple[dt.date, int], int] = field(default_factory=Tally)  # issues by local day, hour
    served_on: dict[dt.date, int] = field(default_factory=Tally)  # finishes by local day
    ratings: dict[str, int] = field(default_factory=Tally)
    bookings: dict[str, int] = field(default_factory=Tally)  # by state
    channels: dict[str, int] = field(default_factory=Tally)
    dossiers: dict[str, int] = field(default_factory=Tally)
    samples: dict[str, Any] = field(default_factory=lambda: {name: [] for name in SAMPLES})

    def to_row(self, day: dt.date) -> tuple[str, bytes]:
        """``(facts, samples)`` as stored for the cell of ``day``: only what is not empty
        (most cells hold waits and services and little else), issues by hour of ``day``
        (an issue is on its ticket's business date), finishes of another day apart."""
        facts: dict[str, Any] = {"n": [len(self.samples[name]) for name in SAMPLES]}
        parts: list[tuple[str, Any]] = [
            ("i", self.issued), ("s", self.served), ("e", self.expired), ("p", self.remote),
            ("m", sorted(self.missed)), ("t", sorted(self.transferred)), ("r", dict(self.ratings)),
            ("b", dict(self.bookings)), ("c", dict(self.channels)), ("d", dict(self.dossiers))]
        hours = [[h, n] for (d, h), n in sorted(self.hours.items()) if d == day]
        other_hours = [[d.isoformat(), h, n] for (d, h), n in sorted(self.hours.items()) if d != day]
        later = {d.isoformat(): n for d, n in sorted(self.served_on.items()) if d != day}
        for key, value in [*parts, ("h", hours), ("ho", other_hours), ("so", later)]:
            if value:
                facts[key] = value
        if sum(self.served_on.values()) != self.served:  # a finish without a time: none today
            facts["sd"] = self.served_on.get(day, 0)
        blob = array("d")
        for name in SAMPLES:
            blob.extend(float(v) for v in self.samples[name])
        return json.dumps(facts, separators=(",", ":")), blob.tobytes()

    @classmethod
    def from_row(cls, day: dt.date, facts_text: str, blob: bytes, dates: dict[str, dt.date]) -> Cell:
        """A stored cell of ``day``; ``dates``: a cache of parsed ISO dates shared by the
        cells of one read. What a cell does not hold is a shared empty value, never changed
        (the figures only read cells): a year is ~17,000 cells, each built here."""
        facts = json.loads(facts_text)
        samples = dict(_NO_SAMPLES)
        if any(facts["n"]):
            values = np.frombuffer(blob, dtype=np.float64)
            at = 0
            for name, length in zip(SAMPLES, facts["n"], strict=True):
                if length:
                    samples[name] = values[at:at + length]
                    at += length

        def parsed(iso: str) -> dt.date:
            found = dates.get(iso)
            if found is None:
                found = dates[iso] = dt.date.fromisoformat(iso)
            return found

        hours: dict[tuple[dt.date, int], int] = _NO_COUNTS  # type: ignore[assignment]
        if "h" in facts or "ho" in facts:
            hours = {(day, h): n for h, n in facts.get("h", ())}
            hours.update({(parsed(d), h): n for d, h, n in facts.get("ho", ())})
        served = facts.get("s", 0)
        served_on: dict[dt.date, int] = _NO_COUNTS  # type: ignore[assignment]
        if served or "so" in facts:
            later = {parsed(d): n for d, n in facts.get("so", {}).items()}
            own = facts.get("sd", served - sum(later.values()))
            served_on = {day: own, **later} if own else later
        return cls(issued=facts.get("i", 0), served=served, expired=facts.get("e", 0),
                   remote=facts.get("p", 0),
                   missed=set(facts["m"]) if "m" in facts else _NO_IDS,
                   transferred=set(facts["t"]) if "t" in facts else _NO_IDS,
                   hours=hours, served_on=served_on, ratings=facts.get("r", _NO_COUNTS),
                   bookings=facts.get("b", _NO_COUNTS), channels=facts.get("c", _NO_COUNTS),
                   dossiers=facts.get("d", _NO_COUNTS), samples=samples)


# the shared empty values of stored cells (read only, see Cell.from_row)
_NO_IDS: set[int] = set()
_NO_COUNTS: dict[str, int] = {}
_NO_SAMPLES = {name: np.empty(0, dtype=np.float64) for name in SAMPLES}


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
_STORED_CELLS = text(
    "SELECT c.day, c.service_id, c.counter_id, c.clerk_id, c.facts, c.samples FROM report_cells c "
    "JOIN report_days d ON d.unit_id = c.unit_id AND d.day = c.day "
    "WHERE c.unit_id = :unit AND c.day >= :d0 AND c.day <= :d1 AND d.version = :v"
).columns(day=Date(), service_id=Integer(), counter_id=Integer(), clerk_id=Integer())


def collect(conn: Connection, unit: Unit, period: Period) -> Cells:
    """The cells of ``period``: the stored ones of its summarised days, the others from the
    events (one run of queries per stretch of days not summarised: today, usually)."""
    params = {"unit": unit.id, "d0": period.start, "d1": period.end, "v": VERSION}
    stored = set(conn.execute(_STORED_DAYS, params).scalars())
    cells = Cells()
    dates: dict[str, dt.date] = {}
    for run in _runs(d for d in period.dates() if d not in stored):
        cells.update(from_events(conn, unit, run))
    if stored:
        for day, service_id, counter_id, clerk_id, facts, blob in conn.execute(_STORED_CELLS, params).all():
            cells[(day, service_id, counter_id, clerk_id)] = Cell.from_row(day, facts, bytes(blob), dates)
    return cells


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
    skipped_open: int = 0


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
        rows = []
        for (day, service_id, counter_id, clerk_id), cell in cells.items():
            facts, blob = cell.to_row(day)
            rows.append({"unit_id": unit_id, "day": day, "service_id": service_id,
                         "counter_id": counter_id, "clerk_id": clerk_id, "facts": facts,
                         "samples": blob})
        per_day = Tally(row["day"] for row in rows)
        now = utcnow()
        with engine.begin() as write:
            for table in (ReportCell, ReportDay):
                write.execute(delete(table).where(table.unit_id == unit_id, table.day >= run.start,
                                                  table.day <= run.end))
            if rows:
                write.execute(insert(ReportCell), rows)
            write.execute(insert(ReportDay), [
                {"unit_id": unit_id, "day": day, "version": VERSION, "cells": per_day.get(day, 0),
                 "written_at": now} for day in run.dates()])
        out.days += run.days
        out.cells += len(rows)
    return out
