"""``/admin/bookings``: the bookings (lịch hẹn) of a day for staff, and the entrance poster.

A page of the back office (its layout and menu) in a blueprint of its own, like
``/admin/printers``, because clerks use it as much as admins: every member of staff of the
unit sees the day's list per field (time, code, masked phone, name, procedure, state),
prints it (the print stylesheet of ``bookings.css``), books a slot for a citizen who calls
(the code to read out on the answer page; the phone shown in full there, since the clerk
typed it) and cancels a booking. Every change is audited; the phone in the audit entry is
masked (``onestop.phones.mask_phone``). The rules are the engine's
(``onestop.bookings.engine``): a full slot, a closed day, a phone already booked that day
are refused with the same codes as the API, shown in Vietnamese.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import select

from onestop.accounts.auth import current_actor
from onestop.api.common import now, resolve_unit
from onestop.audit.engine import record_change
from onestop.backoffice.booking_forms import OnBehalfForm
from onestop.backoffice.forms import ConfirmForm
from onestop.backoffice.poster import render_poster
from onestop.bookings import engine
from onestop.bookings.models import Booking
from onestop.dossiers.models import Procedure
from onestop.extensions import db
from onestop.phones import mask_phone
from onestop.queueing.errors import DomainError, NotFound
from onestop.queueing.models import Service
from onestop.units.models import Unit

bp = Blueprint("booking_desk", __name__, url_prefix="/admin")
bp.enable_openapi = False  # type: ignore[attr-defined]

ROLES = ("admin", "manager", "clerk", "reception")
POSTER_ROLES = ("admin", "manager")
STATES = {"booked": _l("Đã đặt"), "checked_in": _l("Đã đến"), "cancelled": _l("Đã huỷ"),
          "no_show": _l("Không đến")}
REFUSALS = {
    "slot_full": _l("Giờ hẹn này vừa hết chỗ. Vui lòng chọn giờ khác."),
    "not_bookable": _l("Không đặt được lịch vào giờ này (ngày nghỉ, ngoài giờ tiếp nhận, đã qua "
                       "hoặc quá thời hạn đặt)."),
    "already_booked": _l("Số điện thoại này đã có lịch hẹn trong lĩnh vực này vào ngày đã chọn."),
    "invalid_phone": _l("Số điện thoại di động không hợp lệ (ví dụ 0912 345 678)."),
    "invalid_procedure": _l("Thủ tục không thuộc lĩnh vực này."),
}
CANT_CANCEL = _l("Lịch hẹn này không còn huỷ được (đã đến, đã huỷ hoặc không đến).")


def _allow(roles: tuple[str, ...]) -> Unit:
    if current_user.role not in roles:
        abort(403)
    return resolve_unit()


def _day(u: Unit) -> dt.date:
    """The day asked for (``?day=YYYY-MM-DD``), today by default."""
    raw = request.args.get("day", "")
    try:
        return dt.date.fromisoformat(raw) if raw else u.business_date(now())
    except ValueError:
        return u.business_date(now())


def _bounds(u: Unit, day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    start = dt.datetime.combine(day, dt.time(), u.tz)
    return start.astimezone(dt.UTC), (start + dt.timedelta(days=1)).astimezone(dt.UTC)


def _services(u: Unit, *, bookable: bool) -> list[Service]:
    rows = db.session.scalars(select(Service).where(Service.unit_id == u.id)
                              .order_by(Service.sort_order, Service.id))
    return [s for s in rows if not bookable or (s.booking is not None and s.active)]


def _service(u: Unit, raw: Any) -> Service | None:
    try:
        service_id = int(raw)
    except (TypeError, ValueError):
        return None
    row = db.session.get(Service, service_id) if 0 < service_id < 2**31 else None
    return row if row is not None and row.unit_id == u.id else None


def _procedure_names(u: Unit) -> dict[str, str]:
    return {p.code: p.name for p in db.session.scalars(select(Procedure).where(Procedure.unit_id == u.id))}


def _rows(u: Unit, day: dt.date, service: Service | None) -> dict[int, list[dict[str, Any]]]:
    t0, t1 = _bounds(u, day)
    query = (select(Booking).where(Booking.unit_id == u.id, Booking.start >= t0, Booking.start < t1)
             .order_by(Booking.start, Booking.id))
    if service is not None:
        query = query.where(Booking.service_id == service.id)
    procedures = _procedure_names(u)
    out: dict[int, list[dict[str, Any]]] = {}
    for b in db.session.scalars(query):
        out.setdefault(b.service_id, []).append({
            "id": b.id, "time": f"{u.local(b.start):%H:%M}–{u.local(b.end):%H:%M}", "code": b.code,
            "phone": mask_phone(b.phone), "name": b.name or "", "state": b.state,
            "state_label": STATES.get(b.state, b.state),
            "procedure": procedures.get(b.procedure_code or "", b.procedure_code or "")})
    return out


@bp.get("/bookings")
@login_required
def bookings() -> Any:
    u = _allow(ROLES)
    day, service = _day(u), _service(u, request.args.get("service_id"))
    rows = _rows(u, day, service)
    services = [s for s in _services(u, bookable=False)
                if (service is None or s.id == service.id) and (s.booking is not None or s.id in rows)]
    today = u.business_date(now())
    return render_template("backoffice/bookings.html", unit=u, bo_unit=u, day=day, today=today,
                           tomorrow=today + dt.timedelta(days=1), services=services, rows=rows,
                           service=service, all_services=_services(u, bookable=False),
                           confirm_form=ConfirmForm(), can_poster=current_user.role in POSTER_ROLES)


@bp.post("/bookings/<int:booking_id>/cancel")
@login_required
def cancel(booking_id: int) -> Any:
    u = _allow(ROLES)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    booking = db.session.get(Booking, booking_id) if booking_id < 2**31 else None
    if booking is None or booking.unit_id != u.id:
        raise NotFound("booking_not_found")
    back = url_for("booking_desk.bookings", day=u.local(booking.start).date().isoformat(),
                   service_id=request.args.get("service_id") or None)
    if booking.state != "booked":
        flash(str(CANT_CANCEL), "error")
        return redirect(back)
    try:
        engine.cancel(db.session(), booking, actor=current_actor(), now=now(), by_staff=True)
    except DomainError as exc:
        db.session.rollback()
        flash(str(REFUSALS.get(exc.code, CANT_CANCEL)), "error")
        return redirect(back)
    record_change(db.session(), "cancel", "booking", booking.id, {"state": "booked"},
                  {"state": booking.state, "code": booking.code, "phone": mask_phone(booking.phone)},
                  unit_id=u.id)
    db.session.commit()
    flash(str(_l("Đã huỷ lịch hẹn %(code)s.", code=booking.code)), "ok")
    return redirect(back)


def _slot_choices(u: Unit, service: Service, day: dt.date) -> list[tuple[str, str]]:
    """The day's slots that still have a place, as (ISO start, "09:30–09:45 (còn 2 chỗ)")."""
    out = []
    for slot in engine.slots(db.session(), u, service, day, now=now()):
        if slot.free > 0:
            begins, ends = u.local(slot.start).strftime("%H:%M"), u.local(slot.end).strftime("%H:%M")
            label = _l("%(start)s–%(end)s (còn %(n)s chỗ)", start=begins, end=ends, n=slot.free)
            out.append((u.local(slot.start).isoformat(), str(label)))
    return out


@bp.route("/bookings/new", methods=["GET", "POST"])
@login_required
def on_behalf() -> Any:
    """Book for a citizen on the phone: field and day (GET), then a free slot, phone, name."""
    u = _allow(ROLES)
    day, service = _day(u), _service(u, request.args.get("service_id"))
    if service is not None and service.booking is None:
        service = None
    form = OnBehalfForm()
    refusal = None
    if service is not None:
        form.start.choices = _slot_choices(u, service, day)
        form.procedure_code.choices = [("", "—")] + [
            (p.code, f"{p.code} · {p.name}") for p in db.session.scalars(
                select(Procedure).where(Procedure.unit_id == u.id, Procedure.service_id == service.id,
                                        Procedure.active).order_by(Procedure.code))]
        if form.validate_on_submit():
            booked, refusal = _book(u, service, form)
            if booked is not None:
                return render_template("backoffice/booking_done.html", unit=u, bo_unit=u, booking=booked,
                                       service=service, when=u.local(booked.start))
            form.start.choices = _slot_choices(u, service, day)  # what is free now
    status = 422 if (form.errors or refusal) else 200
    return render_template("backoffice/booking_new.html", unit=u, bo_unit=u, form=form, day=day,
                           service=service, services=_services(u, bookable=True), refusal=refusal,
                           today=u.business_date(now())), status


def _book(u: Unit, service: Service, form: OnBehalfForm) -> tuple[Booking | None, Any]:
    try:
        start = dt.datetime.fromisoformat(form.start.data)
        if start.tzinfo is None:
            raise ValueError
    except (TypeError, ValueError):
        return None, REFUSALS["not_bookable"]
    try:
        booked = engine.book(db.session(), u, service, start=start, phone=form.phone.data,
                             name=(form.name.data or "").strip() or None,
                             procedure_code=form.procedure_code.data or None,
                             actor=current_actor(), now=now(), channel="staff")
    except DomainError as exc:
        db.session.rollback()
        if exc.code == "invalid_phone":
            form.phone.errors = [str(REFUSALS["invalid_phone"])]
            return None, None
        return None, REFUSALS.get(exc.code, REFUSALS["not_bookable"])
    record_change(db.session(), "create", "booking", booked.id, None,
                  {"code": booked.code, "service_id": service.id, "start": booked.start.isoformat(),
                   "phone": mask_phone(booked.phone), "channel": "staff"}, unit_id=u.id)
    db.session.commit()
    return booked, None


@bp.get("/bookings/poster.pdf")
@login_required
def poster() -> Response:
    """The A4 poster for the entrance: the QRs of ``/q/`` and ``/book/``."""
    u = _allow(POSTER_ROLES)
    body = render_poster(u.name, str(current_app.config.get("PUBLIC_BASE_URL") or request.host_url))
    response = Response(body, mimetype="application/pdf")
    response.headers["Content-Disposition"] = 'inline; filename="ap-phich-lay-so-dat-lich.pdf"'
    response.headers["Cache-Control"] = "private, no-store"
    return response
