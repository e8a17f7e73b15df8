"""Clerk productivity (issue 22 item 4): per clerk, over ``[start, end)`` (UTC):

- ``open_seconds``: signed in at a counter (from its ``open`` to its ``close`` counter event,
  pauses included; a counter still open counts until ``end``);
- ``paused_seconds``: of that, paused;
- ``serving_seconds``: the tickets they called, from the citizen's arrival (``serving_at``,
  else the call) to the finish;
- ``walk_seconds`` / ``walk_mean_seconds``: call to arrival (the citizen's walk to the desk);
- ``idle_seconds``: open, not paused, not serving nor waiting for a walk;
- ``served`` and ``per_hour``: tickets finished per hour open.

The clerk of an interval is the actor of the counter's ``open`` event; the clerk of a ticket
is the actor of its (last) call. Plain reads of ``counter_events``, ``ticket_events`` and
``tickets``: a day of a busy centre is a few thousand rows.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from onestop.accounts.models import User
from onestop.queueing.models import Counter, CounterEvent, Ticket, TicketEvent
from onestop.units.models import Unit

CALLS = ("call", "unpark")


def _open_time(session: Session, unit: Unit, start: dt.datetime,
               end: dt.datetime) -> dict[int, list[float]]:
    """``clerk -> [open, paused]`` seconds within ``[start, end)``."""
    rows = session.execute(select(CounterEvent).join(Counter, Counter.id == CounterEvent.counter_id)
                           .where(Counter.unit_id == unit.id, CounterEvent.at < end)
                           .order_by(CounterEvent.counter_id, CounterEvent.at, CounterEvent.id)).scalars()
    out: dict[int, list[float]] = defaultdict(lambda: [0.0, 0.0])
    state: dict[int, tuple[int | None, dt.datetime | None, dt.datetime | None]] = {}
    clip = lambda a, b: max(0.0, (min(b, end) - max(a, start)).total_seconds())  # noqa: E731
    for e in rows:
        clerk, opened, paused = state.get(e.counter_id, (None, None, None))
        if e.action == "open":
            clerk, opened, paused = e.actor_user_id, e.at, None
        elif e.action == "pause" and opened is not None:
            paused = e.at
        elif e.action == "resume" and paused is not None and clerk is not None:
            out[clerk][1] += clip(paused, e.at)
            paused = None
        elif e.action == "close" and opened is not None and clerk is not None:
            out[clerk][0] += clip(opened, e.at)
            if paused is not None:
                out[clerk][1] += clip(paused, e.at)
            clerk, opened, paused = None, None, None
        state[e.counter_id] = (clerk, opened, paused)
    for clerk, opened, paused in state.values():  # still signed in
        if clerk is not None and opened is not None:
            out[clerk][0] += clip(opened, end)
            if paused is not None:
                out[clerk][1] += clip(paused, end)
    return out


def _served(session: Session, unit: Unit, start: dt.datetime,
            end: dt.datetime) -> dict[int, dict[str, float]]:
    """``clerk -> {served, serving, walk, walks}`` for the tickets called in ``[start, end)``."""
    caller = (select(TicketEvent.ticket_id, TicketEvent.actor_user_id, TicketEvent.at)
              .join(Ticket, Ticket.id == TicketEvent.ticket_id)
              .where(Ticket.unit_id == unit.id, TicketEvent.action.in_(CALLS),
                     TicketEvent.at >= start, TicketEvent.at < end)
              .order_by(TicketEvent.id))
    clerk_of = {tid: uid for tid, uid, _at in session.execute(caller) if uid is not None}
    out: dict[int, dict[str, float]] = defaultdict(lambda: {"served": 0, "serving": 0.0, "walk": 0.0,
                                                            "walks": 0})
    ids = list(clerk_of)
    for i in range(0, len(ids), 500):
        for t in session.scalars(select(Ticket).where(Ticket.id.in_(ids[i:i + 500]))):
            row = out[clerk_of[t.id]]
            if t.called_at and t.serving_at:
                row["walk"] += max(0.0, (t.serving_at - t.called_at).total_seconds())
                row["walks"] += 1
            if t.state == "done" and t.finished_at and t.called_at:
                row["served"] += 1
                row["serving"] += max(0.0, (t.finished_at - (t.serving_at or t.called_at)).total_seconds())
    return out


def clerks(session: Session, unit: Unit, start: dt.datetime, end: dt.datetime) -> list[dict[str, Any]]:
    """One row per clerk who was signed in or served in ``[start, end)``, by name."""
    opened = {k: v for k, v in _open_time(session, unit, start, end).items() if v[0] > 0}
    served = _served(session, unit, start, end)
    ids = sorted(set(opened) | set(served))
    names = {u.id: u.full_name or u.username for u in session.scalars(select(User).where(User.id.in_(ids)))}
    rows = []
    for uid in ids:
        open_s, paused_s = opened.get(uid, [0.0, 0.0])
        s = served.get(uid, {"served": 0, "serving": 0.0, "walk": 0.0, "walks": 0})
        idle = max(0.0, open_s - paused_s - s["serving"] - s["walk"])
        rows.append({
            "clerk_id": uid, "clerk": names.get(uid, str(uid)), "open_seconds": round(open_s),
            "paused_seconds": round(paused_s), "serving_seconds": round(s["serving"]),
            "walk_seconds": round(s["walk"]), "idle_seconds": round(idle),
            "walk_mean_seconds": round(s["walk"] / s["walks"]) if s["walks"] else None,
            "served": int(s["served"]),
            "per_hour": round(s["served"] / (open_s / 3600), 1) if open_s >= 60 else None,
        })
    return sorted(rows, key=lambda r: (str(r["clerk"]), r["clerk_id"]))


def day_bounds(unit: Unit, start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """``[start 00:00, end+1 00:00)`` in the unit's timezone, as UTC."""
    first = dt.datetime.combine(start, dt.time(), unit.tz).astimezone(dt.UTC)
    last = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), unit.tz).astimezone(dt.UTC)
    return first, last
