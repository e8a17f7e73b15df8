"""GET /dashboard: the manager dashboard's figures now (managers, admins).

The page ``/manager/`` reloads this whenever the /counter namespace says something changed.
Alarms come as Vietnamese sentences (``alarms.messages``) that name the device ("Máy in
ki-ốt sảnh hết giấy", "Ki-ốt tầng 2 mất kết nối từ 10:32", the time in the unit's
timezone); what a driver or the agent said (an exception text) stays in the log and on the
printers page for the technician, never on the dashboard.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from flask_babel import gettext as _

from onestop.accounts.auth import require_user
from onestop.api import bp
from onestop.api.common import now, resolve_unit
from onestop.extensions import db
from onestop.printing.alarm_texts import device_sentence, printer_sentence
from onestop.reports import live
from onestop.units.models import Unit

log = logging.getLogger(__name__)
PRINTER_ALARM_STATES = ("paper_out", "paper_near_end", "offline")


def printer_alarms(unit: Any) -> dict[str, Any]:
    """Printers in error (paper out / near end, offline) and print jobs failed today."""
    from onestop.api.printing import printers_view

    view = printers_view(unit)
    today = unit.business_date(now())
    printers = []
    for d in view["devices"]:
        if d["status"]["state"] not in PRINTER_ALARM_STATES:
            continue
        if d["status"]["detail"]:  # for the technician: the log, not the manager's screen
            log.info("printer alarm: device %s (%s) %s: %s", d["id"], d["name"], d["status"]["state"],
                     d["status"]["detail"])
        printers.append({"id": d["id"], "name": d["name"], "kind": d["kind"],
                         "state": d["status"]["state"], "label": d["status"]["label"]})
    failed = [j for j in view["failed_jobs"] if j["created_at"] and
              unit.business_date(_parse(j["created_at"])) == today]
    return {"printers": printers, "failed_jobs_today": len(failed),
            "failed_jobs": [{"id": j["id"], "device_name": j["device_name"],
                             "ticket_label": j["ticket_label"], "message": j["message"],
                             "created_at": j["created_at"]} for j in failed[:5]]}


def _parse(value: str) -> Any:
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))


def alarm_messages(unit: Unit, alarms: dict[str, Any], at: dt.datetime) -> list[str]:
    """Every alarm as one Vietnamese sentence, printers first."""
    out = [printer_sentence(p) for p in alarms["printers"]]
    out += [device_sentence(unit, d, at) for d in alarms["devices"]]
    if alarms["failed_jobs_today"]:
        out.append(_("Hôm nay có %(n)s lệnh in lỗi", n=alarms["failed_jobs_today"]))
    return out


@bp.get("/dashboard")
@require_user("manager", "admin")
@bp.doc(summary="The manager dashboard now: counters open / paused / closed, people waiting per "
        "field, the longest wait, today's issued and served tickets, today's satisfaction, printer "
        "and device alarms", responses=[200, 401, 403])
def dashboard_now() -> dict[str, Any]:
    unit = resolve_unit()
    at = now()
    out = live.dashboard(db.session(), unit, at)
    printers = printer_alarms(unit)
    skip = {p["id"] for p in printers["printers"]}
    out["alarms"] = {**printers, "devices": live.stale_devices(db.session(), unit, at, skip)}
    out["alarms"]["messages"] = alarm_messages(unit, out["alarms"], at)
    out["unit"]["timezone"] = unit.timezone
    return out
