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
import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Connection

from onestop.reports import queries
from onestop.reports.periods import Period
from onestop.reports.queries import Filters
from onestop.units.models import Unit

SATISFIED = ("very_satisfied", "satisfied")
NOT_RATED = "not_rated"
DIMENSIONS = ("service", "counter", "clerk")


def percentile(values: list[float], share: float) -> float | None:
    """Nearest-rank percentile of ``values`` (sorted or not); None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(share * len(ordered)))
    return ordered[rank - 1]


def _minutes(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 60.0, 2)


@dataclass
class Group:
    """The ticket figures of one slice (the whole unit, a field, a counter, a clerk)."""

    issued: int = 0
    served: int = 0
    expired: int = 0
    missed: set[int] = field(default_factory=set)
    transferred: set[int] = field(default_factory=set)
    waits: list[float] = field(default_factory=list)
    services: list[float] = field(default_factory=list)

    def figures(self, target_seconds: float) -> dict[str, Any]:
        waits, services = self.waits, self.services
        within = sum(1 for w in waits if w <= target_seconds)
        return {
            "issued": self.issued, "served": self.served, "missed": len(self.missed),
            "transferred": len(self.transferred), "expired": self.expired,
            "waits_counted": len(waits),
            "avg_wait_minutes": _minutes(sum(waits) / len(waits)) if waits else None,
            "p90_wait_minutes": _minutes(percentile(waits, 0.9)),
            "max_wait_minutes": _minutes(max(waits)) if waits else None,
            "avg_service_minutes": _minutes(sum(services) / len(services)) if services else None,
            "p90_service_minutes": _minutes(percentile(services, 0.9)),
            "service_level": round(within / len(waits), 4) if waits else None,
        }


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


def _passes(filters: Filters, service_id: int | None, counter_id: int | None,
            clerk_id: int | None) -> bool:
    return not ((filters.service_id and service_id != filters.service_id)
                or (filters.counter_id and counter_id != filters.counter_id)
                or (filters.clerk_id and clerk_id != filters.clerk_id))


def _add(group: Group, kind: str, ticket_id: int, seconds: float | None) -> None:
    if kind == "issue":
        group.issued += 1
    elif kind == "wait" and seconds is not None:
        group.waits.append(max(0.0, float(seconds)))
    elif kind == "finish":
        group.served += 1
        if seconds is not None:
            group.services.append(max(0.0, float(seconds)))
    elif kind == "skip":
        group.missed.add(ticket_id)
    elif kind == "transfer":
        group.transferred.add(ticket_id)
    elif kind == "expire":
        group.expired += 1


@dataclass
class TicketFigures:
    total: Group
    by: dict[str, dict[int, Group]]
    heatmap: list[list[int]]  # [weekday Mon..Sun][hour 0..23]: tickets issued
    daily: dict[dt.date, list[int]]  # date -> [issued, served]
    arrivals: dict[int, dict[int, int]]  # service -> local hour -> tickets issued
    service_days: dict[int, set[dt.date]]  # service -> business dates with tickets issued
    # the waits from issue to first call of walk-ins and of numbers from a phone, and of booked
    # tickets by ticket with their issue (Unix time), for the waits by arrival
    first_waits: dict[str, list[float]] = field(default_factory=dict)
    booked_waits: dict[int, tuple[float, float]] = field(default_factory=dict)


def ticket_figures(rows: Iterable[Any], clock: LocalClock, filters: Filters,
                   sources: dict[int, str] | None = None) -> TicketFigures:
    """Aggregate the rows of ``queries.ticket_facts``: each row is one counted event, and
    may also carry the waiting spell that event opened. ``sources``: the tickets from a
    booking or a phone (``queries.arrival_tickets``), the others being walk-ins."""
    special = sources or {}
    total = Group()
    by: dict[str, dict[int, Group]] = {d: defaultdict(Group) for d in DIMENSIONS}
    heat = [[0] * 24 for _ in range(7)]
    daily: dict[dt.date, list[int]] = defaultdict(lambda: [0, 0])
    arrivals: dict[int, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    service_days: dict[int, set[dt.date]] = defaultdict(set)
    first_waits: dict[str, list[float]] = {"walk_in": [], "remote": []}
    booked_waits: dict[int, tuple[float, float]] = {}
    by_service, by_counter, by_clerk = by["service"], by["counter"], by["clerk"]
    for (kind, ticket_id, service_id, counter_id, clerk_id, ts, service_s,
         wait_s, wait_service, wait_counter, wait_clerk) in rows:
        if wait_s is not None and _passes(filters, wait_service, wait_counter, wait_clerk):
            _credit(total, by_service, by_counter, by_clerk, "wait", ticket_id,
                    wait_service, wait_counter, wait_clerk, wait_s)
            if kind == "issue":
                source = special.get(ticket_id)
                if source is None:
                    first_waits["walk_in"].append(max(0.0, float(wait_s)))
                elif source == "booking":
                    booked_waits[ticket_id] = (float(wait_s), float(ts))
                else:
                    first_waits["remote"].append(max(0.0, float(wait_s)))
        if kind == "requeue" or not _passes(filters, service_id, counter_id, clerk_id):
            continue
        _credit(total, by_service, by_counter, by_clerk, kind, ticket_id,
                service_id, counter_id, clerk_id, service_s)
        if kind in ("issue", "finish") and ts is not None:
            day, weekday, hour = clock.parts(float(ts))
            daily[day][0 if kind == "issue" else 1] += 1
            if kind == "issue":
                heat[weekday][hour] += 1
                arrivals[service_id][hour] += 1
                service_days[service_id].add(day)
    return TicketFigures(total, by, heat, dict(daily), arrivals, service_days, first_waits,
                         booked_waits)


def _credit(total: Group, by_service: dict[int, Group], by_counter: dict[int, Group],
            by_clerk: dict[int, Group], kind: str, ticket_id: int, service_id: int | None,
            counter_id: int | None, clerk_id: int | None, seconds: float | None) -> None:
    _add(total, kind, ticket_id, seconds)
    if service_id is not None:
        _add(by_service[service_id], kind, ticket_id, seconds)
    if counter_id is not None:
        _add(by_counter[counter_id], kind, ticket_id, seconds)
    if clerk_id is not None:
        _add(by_clerk[clerk_id], kind, ticket_id, seconds)


def rating_figures(rows: Iterable[Any], filters: Filters) -> dict[str, Any]:
    """Ratings by level (codes of the unit's scale, plus ``not_rated``) and the satisfaction
    rate: (very satisfied + satisfied) / ratings given (QĐ 766, TT 01/2018)."""
    by_level: dict[str, int] = defaultdict(int)
    for level, _score, service_id, counter_id, clerk_id, _scale in rows:
        if ((filters.service_id and service_id != filters.service_id)
                or (filters.counter_id and counter_id != filters.counter_id)
                or (filters.clerk_id and clerk_id != filters.clerk_id)):
            continue
        by_level[str(level)] += 1
    rated = sum(n for level, n in by_level.items() if level != NOT_RATED)
    satisfied = sum(by_level.get(level, 0) for level in SATISFIED)
    return {"by_level": dict(by_level), "rated": rated, "not_rated": by_level.get(NOT_RATED, 0),
            "satisfied": satisfied,
            "satisfaction_rate": round(satisfied / rated, 4) if rated else None}


def dossier_figures(events: Iterable[Any], overdue: Iterable[Any], unit: Unit, cutoff: dt.datetime,
                    filters: Filters) -> dict[str, Any] | None:
    """Received, finished early / on time / late against the appointment, apologies, and
    dossiers overdue at ``cutoff``. None under a counter filter (dossiers have no counter)."""
    if filters.counter_id:
        return None
    out = {"received": 0, "finished": 0, "early": 0, "on_time": 0, "late": 0, "apologies": 0}

    def wanted(service_id: int | None, clerk_id: int | None) -> bool:
        return not ((filters.service_id and service_id != filters.service_id)
                    or (filters.clerk_id and clerk_id != filters.clerk_id))

    for action, _to, at, _id, service_id, clerk_id, appointment in events:
        if not wanted(service_id, clerk_id):
            continue
        if action == "receive":
            out["received"] += 1
        elif action == "apology":
            out["apologies"] += 1
        else:  # the result is ready
            out["finished"] += 1
            if at > appointment:
                out["late"] += 1
            elif unit.local(at).date() < unit.local(appointment).date():
                out["early"] += 1
            else:
                out["on_time"] += 1
    out["overdue"] = sum(1 for _id, service_id, clerk_id, appointment, new in overdue
                         if wanted(service_id, clerk_id) and cutoff > (new or appointment))
    finished = out["finished"]
    rate = round((out["early"] + out["on_time"]) / finished, 4) if finished else None
    return {**out, "on_time_rate": rate}


def _days(values: list[float | None]) -> dict[str, Any]:
    """How many, and the mean and median days between ready and returned (pages and exports
    round them for showing, as they do minutes)."""
    known = [v for v in values if v is not None]
    return {"returned": len(values),
            "mean_days": round(statistics.fmean(known), 2) if known else None,
            "median_days": round(statistics.median(known), 2) if known else None}


def returns_figures(rows: Iterable[Any], filters: Filters) -> dict[str, Any] | None:
    """Results handed over (trả kết quả), in total and per clerk (who recorded the hand-over),
    with the days from ready to returned. None under a counter filter, as for dossiers."""
    if filters.counter_id:
        return None
    total: list[float | None] = []
    by_clerk: dict[int, list[float | None]] = defaultdict(list)
    for clerk_id, service_id, days in rows:
        if (filters.service_id and service_id != filters.service_id) or (
                filters.clerk_id and clerk_id != filters.clerk_id):
            continue
        total.append(days)
        if clerk_id is not None:
            by_clerk[clerk_id].append(days)
    return {**_days(total), "by_clerk": [{"id": clerk, **_days(days)} for clerk, days in by_clerk.items()]}


BOOKING_STATES = ("booked", "checked_in", "no_show", "cancelled")


def _wait_stats(waits: list[float]) -> dict[str, Any]:
    return {"count": len(waits),
            "avg_wait_minutes": _minutes(sum(waits) / len(waits)) if waits else None,
            "p90_wait_minutes": _minutes(percentile(waits, 0.9))}


def arrival_waits(tickets: TicketFigures, bookings: Iterable[Any]) -> dict[str, Any]:
    """The wait from issue to first call of booked, walk-in and phone citizens.

    A booked citizen's wait starts at the slot's start or at the check-in (the ticket's
    issue), whichever is later: one who checks in 15 minutes early waits for their own time,
    not for the office. Walk-ins are every ticket neither from a booking nor from a phone
    (kiosk, counter, reception, API)."""
    slots = {ticket_id: float(start) for _s, _state, _c, start, ticket_id in bookings if ticket_id}
    booked = [max(0.0, wait - max(0.0, slots.get(ticket_id, issued) - issued))  # the call: issued + wait
              for ticket_id, (wait, issued) in tickets.booked_waits.items()]
    return {"booked": _wait_stats(booked), "walk_in": _wait_stats(tickets.first_waits["walk_in"]),
            "remote": _wait_stats(tickets.first_waits["remote"])}


def booking_figures(bookings: Iterable[Any], arrivals: Iterable[Any], clock: LocalClock,
                    filters: Filters) -> dict[str, Any] | None:
    """Bookings per state (made = all of them, on their slot's day), by channel, and numbers
    taken from a phone; per field and day too. None under a counter or clerk filter (a
    booking belongs to a field only)."""
    if filters.counter_id or filters.clerk_id:
        return None
    blank = {"made": 0, **dict.fromkeys(BOOKING_STATES, 0), "remote_tickets": 0}
    total = dict(blank)
    channels: dict[str, int] = defaultdict(int)
    rows: dict[tuple[dt.date, int], dict[str, int]] = defaultdict(lambda: dict(blank))
    for service_id, state, channel, start, _ticket in bookings:
        if filters.service_id and service_id != filters.service_id:
            continue
        day = clock.parts(float(start))[0]
        for target in (total, rows[(day, service_id)]):
            target["made"] += 1
            target[state] = target.get(state, 0) + 1
        channels[channel] += 1
    for _ticket, source, service_id, day in arrivals:
        if source == "remote" and not (filters.service_id and service_id != filters.service_id):
            total["remote_tickets"] += 1
            rows[(day, service_id)]["remote_tickets"] += 1
    daily = [{"date": day.isoformat(), "service_id": service_id, **values}
             for (day, service_id), values in sorted(rows.items())]
    return {**total, "by_channel": dict(channels), "daily": daily}


def _issued_only_by_field(dim: str, values: dict[str, Any]) -> dict[str, Any]:
    if dim != "service":
        values["issued"] = None  # a ticket is issued to a field, not to a counter or clerk
    return values


def build(conn: Connection, unit: Unit, period: Period, filters: Filters,
          now: dt.datetime) -> dict[str, Any]:
    """Every figure of the reports page for ``unit`` over ``period``."""
    start, end = local_bounds(unit, period)
    clock = LocalClock(unit.tz)
    arrivals = queries.arrival_tickets(conn, unit.id, period)
    tickets = ticket_figures(queries.ticket_facts(conn, unit.id, period), clock, filters,
                             {row[0]: row[1] for row in arrivals})
    ratings = rating_figures(queries.rating_rows(conn, unit.id, start, end), filters)
    cutoff = min(end, now)
    dossiers = dossier_figures(queries.dossier_events(conn, unit.id, start, end),
                               queries.dossiers_overdue(conn, unit.id, cutoff), unit, cutoff, filters)
    bookings = queries.booking_rows(conn, unit.id, start, end)
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
        "ratings": ratings,
        "dossiers": dossiers,
        "returns": returns_figures(queries.returned_results(conn, unit.id, start, end), filters),
        "bookings": booking_figures(bookings, arrivals, clock, filters),
        "waits_by_arrival": arrival_waits(tickets, bookings),
    }
