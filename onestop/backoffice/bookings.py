"""Bookings in the back office (issue 20 item 9).

Admins only (the back office's blueprint): a field's booking settings
(``/admin/services/<id>/booking``) and the unit's check-in and number-from-the-phone settings
(``/admin/booking-settings``). Each save is audited like any other change.

For every member of staff (``booking_desk``, its own blueprint): the day's bookings list, a
booking made for a citizen on the phone, a cancel, and the poster for the entrance.
"""

from __future__ import annotations

from typing import Any

from flask import render_template, url_for
from flask_babel import lazy_gettext as _l

from onestop import signals
from onestop.backoffice import bp
from onestop.backoffice.booking_forms import BookingSettingsForm, UnitBookingForm
from onestop.backoffice.common import audit, done, session, unit
from onestop.backoffice.forms import parse_windows
from onestop.bookings.settings import BOOKING_DEFAULTS, booking_settings
from onestop.queueing.errors import NotFound
from onestop.queueing.models import Service
from onestop.units.models import Unit


def _service(u: Unit, service_id: int) -> Service:
    row = session().get(Service, service_id) if service_id < 2**31 else None
    if row is None or row.unit_id != u.id:
        raise NotFound("service_not_found")
    return row


def _longest_window(row: Service) -> int | None:
    """Minutes of the field's longest opening window (None: open all day)."""
    spans = [(int(b[:2]) * 60 + int(b[3:])) - (int(a[:2]) * 60 + int(a[3:]))
             for a, b in parse_windows(", ".join(f"{a}-{b}" for a, b in (row.windows or [])))]
    return max(spans) if spans else None


def _form_data(row: Service) -> dict[str, Any]:
    current = booking_settings(row)
    values = dict(BOOKING_DEFAULTS) if current is None else {
        key: getattr(current, key) for key in BOOKING_DEFAULTS}
    values["walkin_share"] = round(float(values["walkin_share"]) * 100)
    return {**values, "enabled": current is not None}


@bp.route("/services/<int:service_id>/booking", methods=["GET", "POST"])
def service_booking(service_id: int) -> Any:
    u = unit()
    row = _service(u, service_id)
    form = BookingSettingsForm(data=_form_data(row), longest_window=_longest_window(row))
    if form.validate_on_submit():
        before = {"booking": row.booking}
        row.booking = form.stored()
        audit("update", "service", row.id, before, {"booking": row.booking}, unit_id=u.id)
        signals.queue_changed.send(session(), unit_id=u.id, service_ids=[row.id])
        message = (_l("Đã lưu cài đặt đặt lịch hẹn.") if row.booking
                   else _l("Đã tắt đặt lịch hẹn cho lĩnh vực."))
        return done(message, "backoffice.service_booking", service_id=row.id)
    return render_template("backoffice/booking_settings.html", form=form, row=row,
                           keys=BookingSettingsForm.KEYS), 422 if form.errors else 200


@bp.route("/booking-settings", methods=["GET", "POST"])
def booking_unit_settings() -> Any:
    u = unit()
    current = {key: u.setting(key) for key in UnitBookingForm.KEYS}
    current["remote_share"] = round(float(current["remote_share"]) * 100)
    form = UnitBookingForm(data=current)
    if form.validate_on_submit():
        values = form.stored()
        before = {key: u.setting(key) for key in values}
        u.settings = {**(u.settings or {}), **values}  # a new dict: JSON columns track assignment
        audit("update", "unit_settings", u.id, before, values, unit_id=u.id)
        return done(_l("Đã lưu cài đặt lịch hẹn và lấy số trực tuyến."),
                    "backoffice.booking_unit_settings")
    return render_template("backoffice/booking_unit_settings.html", form=form, keys=UnitBookingForm.KEYS,
                           title=_l("Lịch hẹn, lấy số trực tuyến"),
                           poster_url=url_for("booking_desk.poster")), 422 if form.errors else 200
