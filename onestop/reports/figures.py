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
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy.engine import Connection

from onestop.reports import queries
from onestop.reports.periods import Period
from onestop.reports.queries import Filters
from onestop.reports.rollup import NONE, Block, collect, local_bounds
from onestop.units.models import Unit

__all__ = ["DIMENSIONS", "NOT_RATED", "SATISFIED", "build", "local_bounds",
           "percentile", "ticket_figures"]

SATISFIED = ("very_satisfied", "satisfied")
NOT_RATED = "not_rated"
DIMENSIONS = ("service", "counter", "clerk")
_TICKET = 1 << 40  # above any ticket id: (group, ticket) pairs as one integer


def percentile(values: Sequence[float] | np.ndarray, share: float) -> float | None:
    """Nearest-rank percentile of ``values`` (sorted or not); None when empty."""
    if len(values) == 0:
        return None
    data = np.asarray(values, dtype=np.float64)
    rank = max(1, math.ceil(share * data.size)) - 1
    return float(np.partition(data, rank)[rank])


def _minutes(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 60.0, 2)


def _sample_figures(waits: np.ndarray, services: np.ndarray, target_seconds: float) -> dict[str, Any]:
    n_waits, n_services = int(waits.size), int(services.size)
    return {
        "waits_counted": n_waits,
        "avg_wait_minutes": _minutes(float(waits.sum()) / n_waits) if n_waits else None,
        "p90_wait_minutes": _minutes(percentile(waits, 0.9)),
        "max_wait_minutes": _minutes(float(waits.max())) if n_waits else None,
        "avg_service_minutes": _minutes(float(services.sum()) / n_services) if n_services else None,
        "p90_service_minutes": _minutes(percentile(services, 0.9)),
        "service_level": round(int(np.count_nonzero(waits <= target_seconds)) / n_waits, 4)
        if n_waits else None,
    }


def _figures(counts: Sequence[int], missed: int, transferred: int, waits: np.ndarray,
             services: np.ndarray, target_seconds: float) -> dict[str, Any]:
    issued, served, expired = (int(c) for c in counts[:3])
    return {"issued": issued, "served": served, "missed": missed, "transferred": transferred,
            "expired": expired, **_sample_figures(waits, services, target_seconds)}


def chosen_cells(block: Block, filters: Filters) -> np.ndarray:
    """The cells that pass ``filters`` (a boolean mask)."""
    mask = np.ones(block.key.shape[0], dtype=bool)
    for column, wanted in enumerate((filters.service_id, filters.counter_id, filters.clerk_id)):
        if wanted:
            mask &= block.key[:, column] == wanted
    return mask


def _ticket_cells(block: Block) -> np.ndarray:
    """The cells with ticket facts (others hold only ratings, bookings or dossiers, and make
    no row of the breakdowns)."""
    has: np.ndarray = np.asarray(block.count[:, :3].any(axis=1), dtype=bool)
    for kind in ("waits", "services"):
        has[block.samples[kind][1]] = True
    for name in ("missed", "transferred"):
        has[block.sets[name][:, 0]] = True
    return has


@dataclass
class Grouping:
    """The chosen cells in groups: ``ids`` the group keys, ``of_cell`` each cell's group
    (-1: none)."""

    ids: np.ndarray
    of_cell: np.ndarray

    @classmethod
    def of(cls, block: Block, mask: np.ndarray, column: int | None) -> Grouping:
        of_cell = np.full(block.key.shape[0], -1, dtype=np.int64)
        if column is None:  # one group: the whole selection
            of_cell[mask] = 0
            return cls(np.zeros(1, dtype=np.int64), of_cell)
        chosen = mask & (block.key[:, column] != NONE)
        ids, inverse = np.unique(block.key[chosen, column], return_inverse=True)
        of_cell[chosen] = inverse
        return cls(ids, of_cell)

    def counts(self, block: Block) -> np.ndarray:
        """[groups, 4] the counts summed per group."""
        inside = self.of_cell >= 0
        out = np.zeros((self.ids.size, block.count.shape[1]), dtype=np.int64)
        np.add.at(out, self.of_cell[inside], block.count[inside])
        return out

    def distinct(self, entries: np.ndarray) -> np.ndarray:
        """[groups] distinct tickets per group of ``entries`` (cell, ticket) rows."""
        groups = self.of_cell[entries[:, 0]]
        pairs = np.unique(groups[groups >= 0] * _TICKET + entries[groups >= 0, 1])
        return np.bincount(pairs // _TICKET, minlength=self.ids.size)

    def samples(self, values: np.ndarray, per_cell: np.ndarray) -> list[np.ndarray]:
        """Each group's samples. A kind's samples lie cell after cell (``per_cell``: how
        many each cell has), so the cells are put in group order, not the samples: the
        samples' order follows from the cells' runs in one vectorised step."""
        starts = np.cumsum(per_cell) - per_cell
        cells = np.flatnonzero((self.of_cell >= 0) & (per_cell > 0))
        cells = cells[np.argsort(self.of_cell[cells], kind="stable")]
        lengths = per_cell[cells]
        total = int(lengths.sum())
        # sample positions: each chosen cell's run, one after the other
        shift = np.repeat(starts[cells] - (np.cumsum(lengths) - lengths), lengths)
        ordered = values[np.arange(total, dtype=np.int64) + shift]
        group_sizes = np.bincount(self.of_cell[cells], weights=lengths, minlength=self.ids.size)
        bounds = np.concatenate(([0], np.cumsum(group_sizes.astype(np.int64))))
        return [ordered[bounds[i]:bounds[i + 1]] for i in range(self.ids.size)]

    def figures(self, block: Block, target_seconds: float) -> list[dict[str, Any]]:
        counts = self.counts(block)
        missed = self.distinct(block.sets["missed"])
        transferred = self.distinct(block.sets["transferred"])
        waits = self.samples(block.samples["waits"][0], block.per_cell["waits"])
        services = self.samples(block.samples["services"][0], block.per_cell["services"])
        return [_figures(counts[i], int(missed[i]), int(transferred[i]), waits[i], services[i],
                         target_seconds) for i in range(self.ids.size)]


@dataclass
class TicketFigures:
    summary: dict[str, Any]
    by: dict[str, dict[int, dict[str, Any]]]
    heatmap: list[list[int]]  # [weekday Mon..Sun][hour 0..23]: tickets issued
    daily: dict[dt.date, list[int]]  # date -> [issued, served]
    arrivals: dict[int, dict[int, int]]  # service -> local hour -> tickets issued
    service_days: dict[int, set[dt.date]]  # service -> dates with tickets issued
    mean_service_s: dict[int, float]  # service -> mean service (seconds), where measured
    first_waits: dict[str, np.ndarray]  # walk_in, remote, booked: issue to first call


def _hours(block: Block, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The chosen issues by hour: (cell, date ordinal, hour, number) arrays."""
    entries, codes = block.tallies["hours"]
    entries = entries[mask[entries[:, 0]]]
    day = np.array([dt.date.fromisoformat(c[:10]).toordinal() for c in codes], dtype=np.int64)
    hour = np.array([int(c[11:]) for c in codes], dtype=np.int64)
    return entries[:, 0], day[entries[:, 1]], hour[entries[:, 1]], entries[:, 2]


def ticket_figures(block: Block, filters: Filters, target_seconds: float = 0.0) -> TicketFigures:
    """The ticket figures of the cells that pass ``filters``: the summary, every slice's
    figures, the heat map, the daily counts, the arrivals by hour per field."""
    mask = chosen_cells(block, filters)
    tickets = mask & _ticket_cells(block)
    summary = Grouping.of(block, tickets, None).figures(block, target_seconds)[0]
    by: dict[str, dict[int, dict[str, Any]]] = {}
    mean_service_s: dict[int, float] = {}
    for column, dim in enumerate(DIMENSIONS):
        grouping = Grouping.of(block, tickets, column)
        by[dim] = {int(k): f for k, f in zip(grouping.ids, grouping.figures(block, target_seconds),
                                            strict=True)}
        if dim == "service":
            for key, services in zip(grouping.ids, grouping.samples(block.samples["services"][0],
                                                                    block.per_cell["services"]),
                                     strict=True):
                if services.size:
                    mean_service_s[int(key)] = float(services.mean())
    cells, day, hour, number = _hours(block, mask)
    heat = np.zeros((7, 24), dtype=np.int64)
    np.add.at(heat, ((day + 6) % 7, hour), number)
    daily: dict[dt.date, list[int]] = defaultdict(lambda: [0, 0])
    arrivals: dict[int, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    service_days: dict[int, set[dt.date]] = defaultdict(set)
    dates: dict[int, dt.date] = {}
    services_of = block.key[cells, 0]
    for ordinal, h, n, service in zip(day.tolist(), hour.tolist(), number.tolist(),
                                      services_of.tolist(), strict=True):
        when = dates.get(ordinal) or dates.setdefault(ordinal, dt.date.fromordinal(ordinal))
        daily[when][0] += n
        if service != NONE:
            arrivals[service][h] += n
            service_days[service].add(when)
    entries, codes = block.tallies["served_on"]
    entries = entries[mask[entries[:, 0]]]
    served = np.bincount(entries[:, 1], weights=entries[:, 2], minlength=len(codes))
    for code, n in zip(codes, served.tolist(), strict=True):
        if n:
            daily[dt.date.fromisoformat(code)][1] += int(n)
    first = {kind: values[mask[cells_of]] for kind in ("walk_in", "remote", "booked")
             for values, cells_of in [block.samples[kind]]}
    return TicketFigures(summary, by, heat.tolist(), dict(daily), arrivals, service_days,
                         mean_service_s, first)


def _tally(block: Block, mask: np.ndarray, name: str) -> dict[str, int]:
    entries, codes = block.tallies[name]
    entries = entries[mask[entries[:, 0]]]
    sums = np.bincount(entries[:, 1], weights=entries[:, 2], minlength=len(codes))
    return {code: int(n) for code, n in zip(codes, sums.tolist(), strict=True) if n}


def rating_figures(block: Block, mask: np.ndarray) -> dict[str, Any]:
    """Ratings by level (codes of the unit's scale, plus ``not_rated``) and the satisfaction
    rate: (very satisfied + satisfied) / ratings given (QĐ 766, TT 01/2018)."""
    by_level = _tally(block, mask, "ratings")
    rated = sum(n for level, n in by_level.items() if level != NOT_RATED)
    satisfied = sum(by_level.get(level, 0) for level in SATISFIED)
    return {"by_level": by_level, "rated": rated, "not_rated": by_level.get(NOT_RATED, 0),
            "satisfied": satisfied,
            "satisfaction_rate": round(satisfied / rated, 4) if rated else None}


def dossier_figures(block: Block, mask: np.ndarray, overdue: Sequence[tuple[Any, Any, int]],
                    filters: Filters) -> dict[str, Any] | None:
    """Received, finished early / on time / late against the appointment, apologies, and
    dossiers overdue (``(service_id, received_by, number)`` rows). None under a counter
    filter (dossiers have no counter)."""
    if filters.counter_id:
        return None
    out = dict.fromkeys(("received", "finished", "early", "on_time", "late", "apologies"), 0)
    out.update(_tally(block, mask, "dossiers"))

    def wanted(service_id: int | None, clerk_id: int | None) -> bool:
        return not ((filters.service_id and service_id != filters.service_id)
                    or (filters.clerk_id and clerk_id != filters.clerk_id))

    out["overdue"] = sum(int(n) for service_id, clerk_id, n in overdue if wanted(service_id, clerk_id))
    finished = out["finished"]
    rate = round((out["early"] + out["on_time"]) / finished, 4) if finished else None
    return {**out, "on_time_rate": rate}


def _days(values: np.ndarray) -> dict[str, Any]:
    """How many, and the mean and median days between ready and returned (NaN: no ready
    time known; pages and exports round them for showing, as they do minutes)."""
    known = values[~np.isnan(values)]
    return {"returned": int(values.size),
            "mean_days": round(float(known.mean()), 2) if known.size else None,
            "median_days": round(float(np.median(known)), 2) if known.size else None}


def returns_figures(block: Block, mask: np.ndarray, filters: Filters) -> dict[str, Any] | None:
    """Results handed over (trả kết quả), in total and per clerk (who recorded the hand-over),
    with the days from ready to returned. None under a counter filter, as for dossiers."""
    if filters.counter_id:
        return None
    values, cells = block.samples["returns"]
    total = values[mask[cells]]
    clerks = Grouping.of(block, mask, 2)
    per_clerk = clerks.samples(values, block.per_cell["returns"])
    return {**_days(total), "by_clerk": [{"id": int(clerk), **_days(days)}
                                         for clerk, days in zip(clerks.ids, per_clerk, strict=True)
                                         if days.size]}


BOOKING_STATES = ("booked", "checked_in", "no_show", "cancelled")


def _wait_stats(waits: np.ndarray) -> dict[str, Any]:
    return {"count": int(waits.size),
            "avg_wait_minutes": _minutes(float(waits.sum()) / waits.size) if waits.size else None,
            "p90_wait_minutes": _minutes(percentile(waits, 0.9))}


def arrival_waits(tickets: TicketFigures) -> dict[str, Any]:
    """The wait from issue to first call of booked, walk-in and phone citizens. Walk-ins are
    every ticket neither from a booking nor from a phone (kiosk, counter, reception, API); a
    booked citizen's from the slot's start or the check-in, whichever is later."""
    return {kind: _wait_stats(tickets.first_waits[kind]) for kind in ("booked", "walk_in", "remote")}


def booking_figures(block: Block, mask: np.ndarray, filters: Filters) -> dict[str, Any] | None:
    """Bookings per state (made = all of them, on their slot's day), by channel, and numbers
    taken from a phone; per field and day too. None under a counter or clerk filter (a
    booking belongs to a field only)."""
    if filters.counter_id or filters.clerk_id:
        return None
    blank = {"made": 0, **dict.fromkeys(BOOKING_STATES, 0), "remote_tickets": 0}
    total = dict(blank)
    rows: dict[tuple[int, int], dict[str, int]] = {}
    entries, codes = block.tallies["bookings"]
    entries = entries[mask[entries[:, 0]]]
    for cell, code, n in entries.tolist():
        row = rows.setdefault((int(block.day[cell]), int(block.key[cell, 0])), dict(blank))
        for target in (total, row):
            target["made"] += n
            target[codes[code]] = target.get(codes[code], 0) + n
    remote = np.flatnonzero(mask & (block.count[:, 3] > 0))
    for cell in remote.tolist():
        n = int(block.count[cell, 3])
        rows.setdefault((int(block.day[cell]), int(block.key[cell, 0])), dict(blank))["remote_tickets"] += n
        total["remote_tickets"] += n
    daily = [{"date": dt.date.fromordinal(day).isoformat(),
              "service_id": None if service == NONE else service, **values}
             for (day, service), values in sorted(rows.items())]
    return {**total, "by_channel": _tally(block, mask, "channels"), "daily": daily}


def _issued_only_by_field(dim: str, values: dict[str, Any]) -> dict[str, Any]:
    if dim != "service":
        values["issued"] = None  # a ticket is issued to a field, not to a counter or clerk
    return values


def build(conn: Connection, unit: Unit, period: Period, filters: Filters,
          now: dt.datetime) -> dict[str, Any]:
    """Every figure of the reports page for ``unit`` over ``period``."""
    start, end = local_bounds(unit, period)
    block = collect(conn, unit, period)
    mask = chosen_cells(block, filters)
    target = float(unit.setting("target_wait_minutes"))
    tickets = ticket_figures(block, filters, target * 60)
    cutoff = min(end, now)
    if cutoff >= now:
        overdue = queries.dossiers_running(conn, unit.id, cutoff)
    else:
        overdue = [(service_id, clerk_id, 1) for _id, service_id, clerk_id, appointment, new
                   in queries.dossiers_overdue(conn, unit.id, cutoff) if cutoff > (new or appointment)]
    summary = tickets.summary
    if filters.counter_id or filters.clerk_id:
        summary["issued"] = None  # a ticket is issued to a field, not to a counter or clerk
    return {
        "unit": {"id": unit.id, "code": unit.code, "name": unit.name},
        "period": {"from": period.start.isoformat(), "to": period.end.isoformat(),
                   "days": period.days},
        "target_wait_minutes": target,
        "summary": summary,
        "breakdown": {dim: {key: _issued_only_by_field(dim, values) for key, values in groups.items()}
                      for dim, groups in tickets.by.items()},
        "heatmap": tickets.heatmap,
        "daily": [{"date": d.isoformat(), "issued": v[0], "served": v[1]}
                  for d, v in sorted(tickets.daily.items())],
        "ratings": rating_figures(block, mask),
        "dossiers": dossier_figures(block, mask, overdue, filters),
        "returns": returns_figures(block, mask, filters),
        "bookings": booking_figures(block, mask, filters),
        "waits_by_arrival": arrival_waits(tickets),
    }
