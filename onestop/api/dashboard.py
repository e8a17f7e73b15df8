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
from sqlalchemy import func, select

from onestop.accounts.auth import require_user
from onestop.api import bp
from onestop.api.common import now, resolve_unit
from onestop.extensions import db
from onestop.printing.alarm_texts import device_sentence, printer_sentence
from onestop.printing.models import PrintJob
from onestop.queueing.models import Ticket
from onestop.queueing.state import iso
from onestop.reports import live
from onestop.reports.figures import local_bounds
from onestop.reports.periods import Period
from onestop.units.models import Unit

log = logging.getLogger(__name__)
PRINTER_ALARM_STATES = ("paper_out", "paper_near_end", "offline")


def printer_alarms(unit: Any) -> dict[str, Any]:
    """Printers in error (paper out / near end, offline) and print jobs failed today.

    Read for today only, through ``ix_print_jobs_unit_created`` from the start of the
    unit's day, so that a year of printed slips costs nothing: the printers page's list of
    the last 24 h (newest id first) had SQLite walk every id back, and its expiry of
    pending jobs (``service.expire_due``) reads every job of the unit for ``state =
    'pending'``. A job still pending past its time counts as failed here; the expiry
    itself (its alarm) comes with the next print, the agent's next report or the printers
    page."""
    from onestop.api.errors import MESSAGES
    from onestop.api.printing import status_label
    from onestop.printing import dispatch, service

    session, at = db.session(), now()
    stale_s = dispatch.PrintConfig.of().stale_s
    printers, devices = [], service.printer_devices(session, unit)
    for device in devices:
        target = service.resolve_target(session, device)
        agent = target.agent if target and target.agent and target.agent.id != device.id else None
        status = service.device_status(device, agent, at, stale_s)
        if status["state"] not in PRINTER_ALARM_STATES:
            continue
        if status["detail"]:  # for the technician: the log, not the manager's screen
            log.info("printer alarm: device %s (%s) %s: %s", device.id, device.name, status["state"],
                     status["detail"])
        printers.append({"id": device.id, "name": device.name, "kind": device.kind,
                         "state": status["state"], "label": status_label(status["state"])})
    start, end = local_bounds(unit, Period(unit.business_date(at), unit.business_date(at)))
    today = (PrintJob.unit_id == unit.id, PrintJob.created_at >= start, PrintJob.created_at < end,
             PrintJob.state.in_(("failed", "expired"))
             | ((PrintJob.state == "pending") & (PrintJob.expires_at < at)))
    count = int(session.scalar(select(func.count()).select_from(PrintJob).where(*today)) or 0)
    names = {d.id: d.name for d in devices}
    failed = session.execute(
        select(PrintJob, Ticket.label).outerjoin(Ticket, Ticket.id == PrintJob.ticket_id)
        .where(*today).order_by(PrintJob.created_at.desc(), PrintJob.id.desc()).limit(5)).tuples()
    return {"printers": printers, "failed_jobs_today": count,
            "failed_jobs": [{"id": job.id, "device_name": names.get(job.device_id or 0),
                             "ticket_label": label,
                             "message": str(MESSAGES.get(job.error or "print_expired",
                                                         job.error or "")),
                             "created_at": iso(job.created_at)} for job, label in failed]}


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
