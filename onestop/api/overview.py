"""GET /overview: one tile per unit for supervisors and admins (issue 22 item 5).

A supervisor sees the units of ``user_units`` only, an admin without a unit every unit (an
admin bound to a unit: that unit). Each tile is made of
the manager dashboard's own figures (``onestop.reports.live``: people waiting and the longest
wait, today's served tickets and satisfaction; ``onestop.api.dashboard``: the printer and
device alarms as sentences), plus the number of open counters. ``?units=CODE,CODE`` narrows
the answer to some of the visible units (the overview page reloads only the tiles whose
unit changed); a code the caller may not see is left out, never an error that would tell it
exists. An integration account reads its own unit's tile: the way a hub reads this server.
An admin without a unit also gets ``remotes``: the tiles of the communes on their own
servers this server watches, or one tile per server marked ``unreachable``
(``onestop/units/remotes.py``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import current_app
from flask_login import current_user
from pydantic import Field
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from onestop.accounts.auth import require_user
from onestop.accounts.models import User, UserUnit
from onestop.api import bp
from onestop.api.common import now
from onestop.api.dashboard import alarm_messages, printer_alarms
from onestop.api.schemas import MAX_UNITS_PARAM, Strict
from onestop.extensions import db
from onestop.queueing.models import Counter
from onestop.queueing.state import iso
from onestop.reports import live
from onestop.units import remotes
from onestop.units.models import Unit

WATCHERS = ("supervisor", "admin")


class OverviewQuery(Strict):
    units: str | None = Field(default=None, max_length=MAX_UNITS_PARAM,
                              description="unit codes separated by commas (default: every unit "
                              "the caller may see)")
    lang: str | None = Field(default=None, max_length=8, description="vi or en: the alarms' language")


def visible_units(session: Session, user: User, codes: list[str] | None = None) -> list[Unit]:
    """The units ``user`` may watch, by code: a supervisor's own; every unit for an admin
    without a unit, their own for an admin bound to one (the walls between units,
    docs/security.md)."""
    query = select(Unit).order_by(Unit.code)
    if user.role == "supervisor":
        query = query.where(Unit.id.in_(select(UserUnit.unit_id).where(UserUnit.user_id == user.id)))
    elif user.role == "integration":  # a hub reading this server (onestop/units/remotes.py)
        query = query.where(Unit.id == user.unit_id)
    elif user.role != "admin":
        return []
    elif user.unit_id is not None:
        query = query.where(Unit.id == user.unit_id)
    if codes is not None:
        query = query.where(Unit.code.in_(codes))
    return list(session.scalars(query))


def split_codes(value: str | None) -> list[str] | None:
    if value is None:
        return None
    return [c.strip() for c in value.split(",") if c.strip()]


def tile(session: Session, unit: Unit, at: dt.datetime) -> dict[str, Any]:
    """One unit now: what the dashboard shows at the top, in a few numbers."""
    today = unit.business_date(at)
    fields = live.queues(session, unit, today, at)
    longest = max((f["longest_wait_minutes"] for f in fields if f["longest_wait_minutes"] is not None),
                  default=None)
    states = dict(session.execute(select(Counter.state, func.count()).where(Counter.unit_id == unit.id)
                                  .group_by(Counter.state)).tuples().all())
    printers = printer_alarms(unit)
    alarms = {**printers, "devices": live.stale_devices(session, unit, at,
                                                        {p["id"] for p in printers["printers"]})}
    satisfaction = live.satisfaction(session, unit, today)
    target = float(unit.setting("target_wait_minutes"))
    return {
        "unit": {"id": unit.id, "code": unit.code, "name": unit.name},
        "business_date": today.isoformat(),
        "waiting": sum(f["waiting"] for f in fields),
        "longest_wait_minutes": longest,
        "target_wait_minutes": target,
        "counters": {s: int(states.get(s, 0)) for s in ("open", "paused", "closed")},
        "today": live.today_totals(session, unit, today),
        "satisfaction": {"rate": satisfaction["rate"], "rated": satisfaction["rated"]},
        "alarms": alarm_messages(unit, alarms, at),
        "late": longest is not None and longest > target,
    }


@bp.get("/overview")
@require_user(*WATCHERS, "integration")
@bp.input(OverviewQuery, location="query", arg_name="query")
@bp.doc(summary="Supervisors and admins: one tile per unit they may see (people waiting, the "
        "longest wait, open counters, today's served tickets and satisfaction, printer and device "
        "alarms)", responses=[200, 401, 403])
def overview(query: OverviewQuery) -> dict[str, Any]:
    session = db.session()
    at = now()
    units = visible_units(session, current_user, split_codes(query.units))
    out = {"at": iso(at), "units": [tile(session, unit, at) for unit in units], "remotes": []}
    session.commit()
    if current_user.role == "admin" and current_user.unit_id is None and query.units is None:
        out["remotes"] = remotes.cache.get(remotes.load(current_app.config["DATA_DIR"]))
    return out
