"""Kiosk screens: home (field tiles), the field step (procedure, priority, ticket), pairing, QR."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import qrcode
import qrcode.image.svg
from flask import Response, current_app, render_template, request
from flask_babel import get_locale
from qrcode.constants import ERROR_CORRECT_M
from sqlalchemy import select

from kiosk import bp
from kiosk.texts import (
    CLOSED_REASONS,
    WEEKDAYS,
    days_text,
    hours_text,
    next_opening_text,
    priority_choices,
    weekday_date,
)
from onestop.accounts.auth import current_device
from onestop.accounts.engine import PAIRING_ALPHABET
from onestop.api import common
from onestop.dossiers.models import Procedure
from onestop.extensions import db
from onestop.queueing.errors import NotFound
from onestop.queueing.models import Service, Ticket
from onestop.queueing.state import iso, service_list
from onestop.textsort import vi_key
from onestop.tokens import ticket_url, verify_mac
from onestop.units.models import Unit

MAX_ID = 2**31 - 1
IDLE_MIN, IDLE_MAX = 3, 3600


def lang() -> str:
    return str(get_locale() or "vi")


def idle_seconds(unit: Unit) -> int:
    try:
        value = int(unit.setting("kiosk_idle_seconds"))
    except (TypeError, ValueError):
        value = 20
    return max(IDLE_MIN, min(IDLE_MAX, value))


def paired_kiosk() -> bool:
    device = current_device()
    return device is not None and device.kind == "kiosk" and device.revoked_at is None


def frame(unit: Unit, page: str) -> dict[str, Any]:
    """What every kiosk screen shows or passes to its script (header, clock, idle, pairing)."""
    now = common.now()
    local = unit.local(now)
    return {
        "unit": unit, "page": page, "idle": idle_seconds(unit), "paired": paired_kiosk(),
        "now_iso": iso(now), "today": weekday_date(local.date()), "clock": f"{local:%H:%M}",
        "lang": lang(),
        # JavaScript's getDay() order: Sunday first
        "weekday_names": json.dumps([str(WEEKDAYS[d]) for d in (7, 1, 2, 3, 4, 5, 6)],
                                    ensure_ascii=False),
    }


def service_name(service: Service) -> str:
    return service.name_en if lang() == "en" and service.name_en else service.name


def tiles(unit: Unit, now: dt.datetime) -> list[dict[str, Any]]:
    """One tile per field: open or closed with the reason, days, hours, next opening, queue."""
    session = db.session()
    rows = service_list(session, unit, now, common.always_open())
    by_id = {s.id: s for s in session.scalars(select(Service).where(Service.unit_id == unit.id))}
    local = unit.local(now)
    out = []
    for row in rows:
        svc = by_id[row["id"]]
        reason = row["closed_reason"]
        out.append({
            "id": svc.id, "name": service_name(svc), "prefix": svc.prefix or svc.code[:1],
            "open": row["open_now"], "reason": str(CLOSED_REASONS.get(reason or "", "")),
            "days": days_text(svc.weekdays or []), "hours": hours_text(svc),
            # numbers ran out: the field takes nobody else today, whatever its hours say
            "next": "" if row["open_now"] or reason == "daily_cap_reached"
            else next_opening_text(svc, local),
            "waiting": row["waiting"], "minutes": row["estimated_wait_minutes"],
        })
    return out


@bp.errorhandler(NotFound)
def not_found(error: NotFound) -> Any:
    """A citizen's page never shows a bare error: the kiosk offers the way home, the phone
    page asks to scan again (the same page for an unknown ticket and a forged token)."""
    db.session.rollback()
    if request.path.startswith("/t/"):
        return render_template("kiosk/ticket_missing.html"), 404
    if request.path.startswith("/kiosk/qr/"):
        return Response(status=404)
    try:
        unit = common.resolve_unit()
    except NotFound:
        return Response(str(error.code), status=404, mimetype="text/plain")
    return render_template("kiosk/missing.html", **frame(unit, "missing")), 404


def takes_bookings(unit: Unit) -> bool:
    """Whether a field of the unit takes bookings: the home screen then offers the check-in."""
    # in Python: a JSON column may hold SQL NULL or JSON null for "none"
    return any(db.session.scalars(select(Service.booking).where(
        Service.unit_id == unit.id, Service.active.is_(True))))


@bp.get("/kiosk/")
def home() -> str:
    unit = common.resolve_unit()
    return render_template("kiosk/home.html", tiles=tiles(unit, common.now()), bookings=takes_bookings(unit),
                           **frame(unit, "home"))


def _service(unit: Unit, service_id: int) -> Service:
    service = db.session.get(Service, service_id) if service_id <= MAX_ID else None
    if service is None or service.unit_id != unit.id:
        raise NotFound("service_not_found")
    return service


@bp.get("/kiosk/field/<int:service_id>")
def field(service_id: int) -> str:
    """Step two: an optional procedure and priority, then the ticket (issued by the script)."""
    unit = common.resolve_unit()
    service = _service(unit, service_id)
    tile = next(t for t in tiles(unit, common.now()) if t["id"] == service.id)
    procedures = sorted(db.session.scalars(  # Vietnamese order: Đ after D
        select(Procedure).where(Procedure.unit_id == unit.id, Procedure.service_id == service.id,
                                Procedure.active.is_(True))), key=lambda p: (vi_key(p.name), p.id))
    selected = request.args.get("procedure", type=int)
    return render_template(
        "kiosk/field.html", service=service, tile=tile, procedures=procedures, selected=selected,
        priorities=priority_choices(unit.setting("priority_classes")), **frame(unit, "field"))


@bp.get("/kiosk/pair")
def pair() -> str:
    unit = common.resolve_unit()
    device = current_device()
    keys = sorted(PAIRING_ALPHABET, key=lambda c: (not c.isdigit(), c))
    context = frame(unit, "pair")
    context["idle"] = max(context["idle"], 120)  # staff type a code: give them time
    code = request.args.get("code", "")[:16].strip().upper()  # a pairing URL carries it
    return render_template("kiosk/pair.html", keys=keys, device=device, code=code, **context)


def qr_svg(data: str) -> str:
    """``data`` as an SVG QR code (error correction M, 4-module quiet zone, white ground)."""
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=4,
                         image_factory=qrcode.image.svg.SvgPathFillImage)
    code.add_data(data)
    code.make(fit=True)
    svg: str = code.make_image().to_string(encoding="unicode")
    return svg


@bp.get("/kiosk/qr/<int:ticket_id>.svg")
def ticket_qr(ticket_id: int) -> Response:
    """The QR of a ticket's public page: with the ticket's ``k`` token, or for the kiosk that
    issued it (its script does not know the token). Anything else: the same 404."""
    secret = current_app.config["SECRET_KEY"]
    ticket = db.session.get(Ticket, ticket_id) if ticket_id <= MAX_ID else None
    device = current_device()
    allowed = ticket is not None and (
        verify_mac(secret, "ticket", str(ticket_id), request.args.get("k"))
        or (device is not None and device.kind == "kiosk" and ticket.device_id == device.id))
    if ticket is None or not allowed:
        raise NotFound("ticket_not_found")
    url = ticket_url(current_app.config["PUBLIC_BASE_URL"], secret, ticket.id)
    response = Response(qr_svg(url), mimetype="image/svg+xml")
    response.headers["Cache-Control"] = "private, max-age=86400"
    response.headers["X-Ticket-Url"] = url  # lets a test or a scanner check the payload
    return response
