"""Report figures for a unit and a period, from the facts of ``onestop.reports.queries``.

Definitions (docs/reports.md has the long form):

* issued: ``issue`` events; served: ``finish`` events (the ticket is done); missed: tickets
  marked absent (``skip``) at least once; transferred: tickets sent on (``transfer``);
  expired: tickets still open at day close.
* wait: from an event that puts the ticket in the queue (issue, requeue, transfer) to the
  next call from the queue; one sample per such spell, in the field it waited for,
  credited to the counter and clerk that called it.
* service: from the start of service (``start``; without one, the call) to ``finish``.
* p90: nearest rank (the value at position ceil(0.9 n) of the sorted samples).
* service level: the share of waits not longer than the unit's ``target_wait_minutes``.
* bookings: counted on their slot's day (made = every booking, then by state); numbers from
  a phone: tickets of source ``remote``. Waits by arrival: issue to first call; a booked
  citizen's from the slot's start or the check-in, whichever is later (``arrival_waits``).
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sqlalchemy.engine import Connection

from onestop.reports import queries
from onestop.reports.periods import Period
from onestop.reports.queries import Filters
from onestop.reports.rollup import Cell, Key, LocalClock, collect, local_bounds
from onestop.units.models import Unit

__all__ = ["DIMENSIONS", "NOT_RATED", "SATISFIED", "LocalClock", "build", "local_bounds",
           "percentile", "ticket_figures"]

SATISFIED = ("very_satisfied", "satisfied")
NOT_RATED = "not_rated"
DIMENSIONS = ("service", "counter", "clerk")


def percentile(values: Sequence[float] | np.ndarray, share: float) -> float | None:
    """Nearest-rank percentile of ``values`` (sorted or not); None when empty."""
    if len(values) == 0:
        return None
    data = np.asarray(values, dtype=np.float64)
    rank = max(1, math.ceil(share * data.size)) - 1
    return float(np.partition(data, rank)[rank])


def _minutes(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 60.0, 2)


def _joined(chunks: list[Any]) -> np.ndarray:
    if not chunks:
        return np.empty(0, dtype=np.float64)
    return np.concatenate([np.asarray(c, dtype=np.float64) for c in chunks])


@dataclass
class Group:
    """The ticket figures of one slice (the whole unit, a field, a counter, a clerk); the
    samples as the cells' arrays, joined when the figures are asked for."""

    issued: int = 0
    served: int = 0
    expired: int = 0
    missed: set[int] = field(default_factory=set)
    transferred: set[int] = field(default_factory=set)
    wait_chunks: list[Any] = field(default_factory=list)
    service_chunks: list[Any] = field(default_factory=list)

    def add(self, cell: Cell) -> None:
        self.issued += cell.issued
        self.served += cell.served
        self.expired += cell.expired
        if cell.missed:
            self.missed |= cell.missed
        if cell.transferred:
            self.transferred |= cell.transferred
        if len(cell.samples["waits"]):
            self.wait_chunks.append(cell.samples["waits"])
        if len(cell.samples["services"]):
            self.service_chunks.append(cell.samples["services"])

    @property
    def waits(self) -> np.ndarray:
        return _joined(self.wait_chunks)

    @property
    def services(self) -> np.ndarray:
        return _joined(self.service_chunks)

    def figures(self, target_seconds: float) -> dict[str, Any]:
        waits, services = self.waits, self.services
        n_waits, n_services = int(waits.size), int(services.size)
        return {
            "issued": self.issued, "served": self.served, "missed": len(self.missed),
            "transferred": len(self.transferred), "expired": self.expired,
            "waits_counted": n_waits,
            "avg_wait_minutes": _minutes(float(waits.sum()) / n_waits) if n_waits else None,
            "p90_wait_minutes": _minutes(percentile(waits, 0.9)),
            "max_wait_minutes": _minutes(float(waits.max())) if n_waits else None,
            "avg_service_minutes": _minutes(float(services.sum()) / n_services) if n_services else None,
            "p90_service_minutes": _minutes(percentile(services, 0.9)),
            "service_level": round(int(np.count_nonzero(waits <= target_seconds)) / n_waits, 4)
            if n_waits else None,
        }


def _passes(filters: Filters, service_id: int | None, counter_id: int | None,
            clerk_id: int | None) -> bool:
    return not ((filters.service_id and service_id != filters.service_id)
                or (filters.counter_id and counter_id != filters.counter_id)
                or (filters.clerk_id and clerk_id != filters.clerk_id))


def _chosen(cells: dict[Key, Cell], filters: Filters) -> list[tuple[Key, Cell]]:
    return [(key, cell) for key, cell in cells.items() if _passes(filters, *key[1:])]


@dataclass
class TicketFigures:
    total: Group
    by: dict[str, dict[int, Group]]
    heatmap: list[list[int]]  # [weekday Mon..Sun][hour 0..23]: tickets issued
    daily: dict[dt.date, list[int]]  # date -> [issued, served]
    arrivals: dict[int, dict[int, int]]  # service -> local hour -> tickets issued
    service_days: dict[int, set[dt.date]]  # service -> business dates with tickets issued
    # the first waits (issue to first call) by arrival: walk-in, phone, booked (a booked
    # citizen's from the slot's start or the check-in, whichever is later)
    first_waits: dict[str, list[Any]] = field(default_factory=dict)


def ticket_figures(cells: dict[Key, Cell], filters: Filters) -> TicketFigures:
    """The ticket figures of the cells that pass ``filters``: every slice's counts and
    samples, the heat map, the daily counts, the arrivals by hour per field."""
    total = Group()
    by: dict[str, dict[int, Group]] = {d: defaultdict(Group) for d in DIMENSIONS}
    heat = [[0] * 24 for _ in range(7)]
    daily: dict[dt.date, list[int]] = defaultdict(lambda: [0, 0])
    arrivals: dict[int, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    service_days: dict[int, set[dt.date]] = defaultdict(set)
    first: dict[str, list[Any]] = {"walk_in": [], "remote": [], "booked": []}
    for (_day, service_id, counter_id, clerk_id), cell in _chosen(cells, filters):
        total.add(cell)
        for dim, key in (("service", service_id), ("counter", counter_id), ("clerk", clerk_id)):
            if key is not None:
                by[dim][key].add(cell)
        for (day, hour), n in cell.hours.items():
            daily[day][0] += n
            heat[day.weekday()][hour] += n
            if service_id is not None:
                arrivals[service_id][hour] += n
                service_days[service_id].add(day)
        for day, n in cell.served_on.items():
            daily[day][1] += n
        for kind, chunks in first.items():
            if len(cell.samples[kind]):
                chunks.append(cell.samples[kind])
    return TicketFigures(total, by, heat, dict(daily), arrivals, service_days, first)


def rating_figures(chosen: Iterable[tuple[Key, Cell]]) -> dict[str, Any]:
    """Ratings by level (codes of the unit's scale, plus ``not_rated``) and the satisfaction
    rate: (very satisfied + satisfied) / ratings given (QĐ 766, TT 01/2018)."""
    by_level: dict[str, int] = defaultdict(int)
    for _key, cell in chosen:
        for level, n in cell.ratings.items():
            by_level[level] += n
    rated = sum(n for level, n in by_level.items() if level != NOT_RATED)
    satisfied = sum(by_level.get(level, 0) for level in SATISFIED)
    return {"by_level": dict(by_level), "rated": rated, "not_rated": by_level.get(NOT_RATED, 0),
            "satisfied": satisfied,
            "satisfaction_rate": round(satisfied / rated, 4) if rated else None}


def dossier_figures(chosen: Iterable[tuple[Key, Cell]], overdue: Iterable[Any], cutoff: dt.datetime,
                    filters: Filters) -> dict[str, Any] | None:
    """Received, finished early / on time / late against the appointment, apologies, and
    dossiers overdue at ``cutoff``. None under a counter filter (dossiers have no counter)."""
    if filters.counter_id:
        return None
    out = dict.fromkeys(("received", "finished", "early", "on_time", "late", "apologies"), 0)
    for _key, cell in chosen:
        for name, n in cell.dossiers.items():
            out[name] += n

    def wanted(service_id: int | None, clerk_id: int | None) -> bool:
        return not ((filters.service_id and service_id != filters.service_id)
                    or (filters.clerk_id and clerk_id != filters.clerk_id))

    out["overdue"] = sum(1 for _id, service_id, clerk_id, appointment, new in overdue
                         if wanted(service_id, clerk_id) and cutoff > (new or appointment))
    finished = out["finished"]
    rate = round((out["early"] + out["on_time"]) / finished, 4) if finished else None
    return {**out, "on_time_rate": rate}


def _days(chunks: list[Any]) -> dict[str, Any]:
    """How many, and the mean and median days between ready and returned (NaN: no ready
    time known; pages and exports round them for showing, as they do minutes)."""
    values = _joined(chunks)
    known = values[~np.isnan(values)]
    return {"returned": int(values.size),
            "mean_days": round(float(known.mean()), 2) if known.size else None,
            "median_days": round(float(np.median(known)), 2) if known.size else None}


def returns_figures(chosen: Iterable[tuple[Key, Cell]], filters: Filters) -> dict[str, Any] | None:
    """Results handed over (trả kết quả), in total and per clerk (who recorded the hand-over),
    with the days from ready to returned. None under a counter filter, as for dossiers."""
    if filters.counter_id:
        return None
    total: list[Any] = []
    by_clerk: dict[int, list[Any]] = defaultdict(list)
    for (_day, _service, _counter, clerk_id), cell in chosen:
        returns = cell.samples["returns"]
        if len(returns):
            total.append(returns)
            if clerk_id is not None:
                by_clerk[clerk_id].append(returns)
    return {**_days(total), "by_clerk": [{"id": clerk, **_days(days)} for clerk, days in by_clerk.items()]}


BOOKING_STATES = ("booked", "checked_in", "no_show", "cancelled")


def _wait_stats(chunks: list[Any]) -> dict[str, Any]:
    waits = _joined(chunks)
    return {"count": int(waits.size),
            "avg_wait_minutes": _minutes(float(waits.sum()) / waits.size) if waits.size else None,
            "p90_wait_minutes": _minutes(percentile(waits, 0.9))}


def arrival_waits(tickets: TicketFigures) -> dict[str, Any]:
    """The wait from issue to first call of booked, walk-in and phone citizens. Walk-ins are
    every ticket neither from a booking nor from a phone (kiosk, counter, reception, API)."""
    return {kind: _wait_stats(tickets.first_waits[kind]) for kind in ("booked", "walk_in", "remote")}


def booking_figures(chosen: Iterable[tuple[Key, Cell]], filters: Filters) -> dict[str, Any] | None:
    """Bookings per state (made = all of them, on their slot's day), by channel, and numbers
    taken from a phone; per field and day too. None under a counter or clerk filter (a
    booking belongs to a field only)."""
    if filters.counter_id or filters.clerk_id:
        return None
    blank = {"made": 0, **dict.fromkeys(BOOKING_STATES, 0), "remote_tickets": 0}
    total = dict(blank)
    channels: dict[str, int] = defaultdict(int)
    rows: dict[tuple[dt.date, int | None], dict[str, int]] = {}
    for (day, service_id, _counter, _clerk), cell in chosen:
        if not (cell.bookings or cell.remote):
            continue
        row = rows.setdefault((day, service_id), dict(blank))
        for target in (total, row):
            for state, n in cell.bookings.items():
                target["made"] += n
                target[state] = target.get(state, 0) + n
            target["remote_tickets"] += cell.remote
        for channel, n in cell.channels.items():
            channels[channel] += n
    daily = [{"date": day.isoformat(), "service_id": service_id, **values}
             for (day, service_id), values in sorted(rows.items(), key=lambda kv: (kv[0][0], kv[0][1] or 0))]
    return {**total, "by_channel": dict(channels), "daily": daily}


def _issued_only_by_field(dim: str, values: dict[str, Any]) -> dict[str, Any]:
    if dim != "service":
        values["issued"] = None  # a ticket is issued to a field, not to a counter or clerk
    return values


def build(conn: Connection, unit: Unit, period: Period, filters: Filters,
          now: dt.datetime) -> dict[str, Any]:
    """Every figure of the reports page for ``unit`` over ``period``."""
    start, end = local_bounds(unit, period)
    cells = collect(conn, unit, period)
    chosen = _chosen(cells, filters)
    tickets = ticket_figures(cells, filters)
    cutoff = min(end, now)
    running = (queries.dossiers_running(conn, unit.id) if cutoff >= now
               else queries.dossiers_overdue(conn, unit.id, cutoff))
    dossiers = dossier_figures(chosen, running, cutoff, filters)
    target = float(unit.setting("target_wait_minutes"))
    summary = tickets.total.figures(target * 60)
    if filters.counter_id or filters.clerk_id:
        summary["issued"] = None  # a ticket is issued to a field, not to a counter or clerk
    return {
        "unit": {"id": unit.id, "code": unit.code, "name": unit.name},
        "period": {"from": period.start.isoformat(), "to": period.end.isoformat(),
                   "days": period.days},
        "target_wait_minutes": target,
        "summary": summary,
        "breakdown": {dim: {key: _issued_only_by_field(dim, g.figures(target * 60))
                            for key, g in groups.items()} for dim, groups in tickets.by.items()},
        "heatmap": tickets.heatmap,
        "daily": [{"date": d.isoformat(), "issued": v[0], "served": v[1]}
                  for d, v in sorted(tickets.daily.items())],
        "ratings": rating_figures(chosen),
        "dossiers": dossiers,
        "returns": returns_figures(chosen, filters),
        "bookings": booking_figures(chosen, filters),
        "waits_by_arrival": arrival_waits(tickets),
    }
