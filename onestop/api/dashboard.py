"""GET /dashboard: the manager dashboard's figures now (managers, admins).

The page ``/manager/`` reloads this whenever the /counter namespace says something changed.
"""

from __future__ import annotations

from typing import Any

from onestop.accounts.auth import require_user
from onestop.api import bp
from onestop.api.common import now, resolve_unit
from onestop.extensions import db
from onestop.reports import live

PRINTER_ALARM_STATES = ("paper_out", "paper_near_end", "offline")


def printer_alarms(unit: Any) -> dict[str, Any]:
    """Printers in error (paper out / near end, offline) and print jobs failed today."""
    from onestop.api.printing import printers_view

    view = printers_view(unit)
    today = unit.business_date(now())
    printers = [{"id": d["id"], "name": d["name"], "kind": d["kind"], "state": d["status"]["state"],
                 "label": d["status"]["label"], "detail": d["status"]["detail"]}
                for d in view["devices"] if d["status"]["state"] in PRINTER_ALARM_STATES]
    failed = [j for j in view["failed_jobs"] if j["created_at"] and
              unit.business_date(_parse(j["created_at"])) == today]
    return {"printers": printers, "failed_jobs_today": len(failed),
            "failed_jobs": [{"id": j["id"], "device_name": j["device_name"],
                             "ticket_label": j["ticket_label"], "message": j["message"],
                             "created_at": j["created_at"]} for j in failed[:5]]}


def _parse(value: str) -> Any:
    import datetime as dt

    return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))


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
    return out
