"""The manager dashboard's figures right now: counters, queues, today's totals.

Read from the live tables for what is current (counters, waiting tickets) and from the
event trails for today's totals (served = ``finish`` events of today's tickets), so the
dashboard and the reports agree.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from onestop.accounts.models import Device
from onestop.queueing.models import Ticket, TicketEvent
from onestop.queueing.state import counter_list, iso, services
from onestop.ratings.models import Rating
from onestop.reports.figures import NOT_RATED, SATISFIED, local_bounds
from onestop.reports.periods import Period
from onestop.units.models import Unit


def _minutes(since: dt.datetime | None, now: dt.datetime) -> float | None:
    return None if since is None else round(max(0.0, (now - since).total_seconds()) / 60.0, 1)


def queues(session: Session, unit: Unit, today: dt.date, now: dt.datetime) -> list[dict[str, Any]]:
    """People waiting and the longest wait, per field (oldest place in the queue)."""
    rows = session.execute(
        select(Ticket.service_id, func.count(), func.min(Ticket.queue_at)).where(
            Ticket.unit_id == unit.id, Ticket.business_date == today, Ticket.state == "waiting")
        .group_by(Ticket.service_id)).all()
    waiting = {int(sid): (int(n), first) for sid, n, first in rows}
    out = []
    for svc in services(session, unit):
        n, first = waiting.get(svc.id, (0, None))
        if first is not None and first.tzinfo is None:  # aggregates skip the column type
            first = first.replace(tzinfo=dt.UTC)
        out.append({"id": svc.id, "name": svc.name, "waiting": n,
                    "longest_wait_minutes": _minutes(first, now)})
    return out


def today_totals(session: Session, unit: Unit, today: dt.date) -> dict[str, int]:
    """Tickets issued and served (``finish`` events) of today's business date.

    The events are bounded by the day's start as well (a ticket's trail begins with its
    issue, on its business date): without it PostgreSQL may hash-join a scan of every
    event ever written, which grows with history (tests/reports/test_dashboard_history.py)."""
    start, _end = local_bounds(unit, Period(today, today))
    counts = dict(session.execute(
        select(TicketEvent.action, func.count()).join(Ticket, Ticket.id == TicketEvent.ticket_id)
        .where(Ticket.unit_id == unit.id, Ticket.business_date == today, TicketEvent.at >= start,
               TicketEvent.action.in_(("issue", "finish"))).group_by(TicketEvent.action)).tuples().all())
    return {"issued": int(counts.get("issue", 0)), "served": int(counts.get("finish", 0))}


def previous_day(session: Session, unit: Unit, today: dt.date) -> dict[str, Any] | None:
    """The last business date before today that had tickets (within a month): its totals,
    beside today's, so that a manager reads today against the day before, and the first
    morning of a fresh demo shows its history."""
    day = session.scalar(select(Ticket.business_date).where(
        Ticket.unit_id == unit.id, Ticket.business_date < today,
        Ticket.business_date >= today - dt.timedelta(days=31))
        .order_by(Ticket.business_date.desc()).limit(1))
    if day is None:
        return None
    return {"business_date": day.isoformat(), **today_totals(session, unit, day),
            "satisfaction_rate": satisfaction(session, unit, day)["rate"]}


def satisfaction(session: Session, unit: Unit, today: dt.date) -> dict[str, Any]:
    start, end = local_bounds(unit, Period(today, today))
    rows = session.execute(select(Rating.level, func.count()).where(
        Rating.unit_id == unit.id, Rating.rated_at >= start, Rating.rated_at < end)
        .group_by(Rating.level)).tuples().all()
    by_level = {str(level): int(n) for level, n in rows}
    rated = sum(n for level, n in by_level.items() if level != NOT_RATED)
    happy = sum(by_level.get(level, 0) for level in SATISFIED)
    return {"rated": rated, "satisfied": happy, "by_level": by_level,
            "rate": round(happy / rated, 4) if rated else None}


def stale_devices(session: Session, unit: Unit, now: dt.datetime, skip: set[int]) -> list[dict[str, Any]]:
    """Devices of the kinds that report in (``device_heartbeat_kinds``) silent for longer
    than ``device_stale_minutes``."""
    kinds = [str(k) for k in unit.setting("device_heartbeat_kinds") or []]
    limit = now - dt.timedelta(minutes=float(unit.setting("device_stale_minutes")))
    devices = session.scalars(select(Device).where(
        Device.unit_id == unit.id, Device.revoked_at.is_(None), Device.kind.in_(kinds),
        (Device.last_seen_at.is_(None)) | (Device.last_seen_at < limit)).order_by(Device.id))
    return [{"id": d.id, "name": d.name, "kind": d.kind, "last_seen_at": iso(d.last_seen_at),
             "silent_minutes": _minutes(d.last_seen_at, now)} for d in devices if d.id not in skip]


def dashboard(session: Session, unit: Unit, now: dt.datetime) -> dict[str, Any]:
    """Everything but the printer alarms (the API adds those)."""
    today = unit.business_date(now)
    counters = counter_list(session, unit)
    fields = queues(session, unit, today, now)
    longest = max((f["longest_wait_minutes"] for f in fields if f["longest_wait_minutes"] is not None),
                  default=None)
    states = {s: sum(1 for c in counters if c["state"] == s) for s in ("open", "paused", "closed")}
    return {
        "at": iso(now), "business_date": today.isoformat(),
        "unit": {"id": unit.id, "code": unit.code, "name": unit.name},
        "target_wait_minutes": float(unit.setting("target_wait_minutes")),
        "counters": {**states, "list": counters},
        "waiting": {"total": sum(f["waiting"] for f in fields), "by_service": fields},
        "longest_wait_minutes": longest,
        "today": today_totals(session, unit, today),
        "satisfaction": satisfaction(session, unit, today),
        "previous": previous_day(session, unit, today),
    }
