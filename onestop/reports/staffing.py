"""Staffing advice: counters each field needs per hour of the day, beside those that were open.

For each field and local hour of the day, over the period's working days:

* arrivals per hour = tickets issued in that hour / the field's days (working days of the
  unit's calendar on the field's weekdays, up to today, plus any other day it issued);
* mean service time = the field's mean service time in the period (the unit's
  ``default_service_minutes`` when nothing was served);
* needed = ``erlang.required_servers``: the smallest number of counters that keeps the
  share of citizens waiting longer than ``target_wait_minutes`` at or under 20 % (Erlang C,
  M/M/N);
* open = counter-hours actually open (``CounterEvent``: open / resume start, pause / close
  end) of the counters linked to the field now (``counter_services``), averaged over the
  same days. A counter that serves several fields counts for each of them.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from sqlalchemy.engine import Connection

from onestop.reports import erlang, queries
from onestop.reports.figures import local_bounds, ticket_figures
from onestop.reports.periods import Period
from onestop.reports.queries import Filters
from onestop.reports.rollup import collect
from onestop.units.calendar import UnitCalendar
from onestop.units.models import Unit

HOUR = dt.timedelta(hours=1)


Slot = tuple[dt.date, int]  # local date, local hour


def open_seconds(events: Iterable[Any], unit: Unit, start: dt.datetime,
                 end: dt.datetime) -> dict[int, dict[Slot, float]]:
    """``{counter_id: {(local date, hour): seconds open}}`` within ``[start, end)``, from the
    counters' events in order (those before ``start`` give the state at ``start``)."""
    out: dict[int, dict[Slot, float]] = defaultdict(lambda: defaultdict(float))
    since: dict[int, dt.datetime | None] = {}
    for counter_id, at, to_state in events:
        opened = since.get(counter_id)
        if opened is not None and to_state != "open":
            _spread(out[counter_id], unit, max(opened, start), min(at, end))
        if to_state == "open":
            since[counter_id] = opened or at
        else:
            since[counter_id] = None
    for counter_id, opened in since.items():
        if opened is not None:
            _spread(out[counter_id], unit, max(opened, start), end)
    return out


def _spread(hours: dict[Slot, float], unit: Unit, begin: dt.datetime, finish: dt.datetime) -> None:
    """Add the seconds of ``[begin, finish)`` to the local hours they fall in."""
    moment = begin
    while moment < finish:
        local = unit.local(moment)
        boundary = (local.replace(minute=0, second=0, microsecond=0) + HOUR).astimezone(dt.UTC)
        step_end = min(boundary, finish)
        hours[(local.date(), local.hour)] += (step_end - moment).total_seconds()
        moment = step_end


def field_days(calendar: UnitCalendar, weekdays: list[int], period: Period, today: dt.date,
               issued_on: set[dt.date]) -> set[dt.date]:
    """Days a field worked in ``period``: its scheduled working days up to today, plus any
    other day it issued tickets."""
    days = {d for d in period.dates() if d <= today and calendar.is_working_day(d)
            and d.isoweekday() in (weekdays or [])}
    return days | issued_on


def advice(conn: Connection, unit: Unit, period: Period, now: dt.datetime, calendar: UnitCalendar,
           services: list[dict[str, Any]], links: dict[int, list[int]]) -> dict[str, Any]:
    """The staffing table. ``services``: ``[{id, name, weekdays}]``; ``links``: counter id ->
    the service ids it serves."""
    target = float(unit.setting("target_wait_minutes"))
    default_minutes = float(unit.setting("default_service_minutes"))
    start, end = local_bounds(unit, period)
    figures = ticket_figures(collect(conn, unit, period), Filters())
    opened = open_seconds(queries.counter_events(conn, unit.id, end), unit, start, min(end, now))
    today = unit.business_date(now)
    rows = []
    for svc in services:
        sid = svc["id"]
        days_set = field_days(calendar, svc.get("weekdays") or [], period, today,
                          figures.service_days.get(sid, set()))
        measured = sid in figures.mean_service_s
        mean = figures.mean_service_s[sid] / 60.0 if measured else default_minutes
        open_by_hour: dict[int, float] = defaultdict(float)
        for counter_id, slots in opened.items():
            if sid in links.get(counter_id, []):
                for (day, hour), seconds in slots.items():
                    if day in days_set:
                        open_by_hour[hour] += seconds
        arrivals = figures.arrivals.get(sid, {})
        rows.append(_field_row(svc, len(days_set), mean, measured, arrivals, open_by_hour, target))
    return {"target_wait_minutes": target, "max_late_share": erlang.DEFAULT_MAX_LATE_SHARE,
            "period": {"from": period.start.isoformat(), "to": period.end.isoformat()},
            "services": rows}


def _field_row(svc: dict[str, Any], days: int, mean: float, measured: bool,
               arrivals: dict[int, int], open_by_hour: dict[int, float],
               target: float) -> dict[str, Any]:
    hours = sorted(h for h in set(arrivals) | set(open_by_hour)
                   if arrivals.get(h) or open_by_hour.get(h, 0) >= 60)
    table = []
    for hour in hours:
        per_hour = arrivals.get(hour, 0) / days if days else 0.0
        traffic = per_hour / 60.0 * mean
        needed = erlang.required_servers(per_hour / 60.0, mean, target) if days else 0
        table.append({
            "hour": hour, "arrivals_per_hour": round(per_hour, 2), "traffic": round(traffic, 2),
            "needed": needed,
            "open": round(open_by_hour.get(hour, 0.0) / 3600.0 / days, 2) if days else 0.0,
            "expected_wait_minutes": round(erlang.mean_wait(needed, traffic, mean), 2)
            if needed else 0.0,
        })
    return {"id": svc["id"], "name": svc["name"], "days": days,
            "mean_service_minutes": round(mean, 2), "service_time_measured": measured,
            "hours": table}
