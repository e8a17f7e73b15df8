"""``/admin/services``: the fields (lĩnh vực), their numbering, schedule, windows and cap.

A change reaches the kiosks on their next refresh of ``GET /api/v1/services`` and the
ticket rules at once (``issue_ticket`` reads the row); ``queue_changed`` is sent so that
open workstations and displays refresh their lists.
"""

from __future__ import annotations

from typing import Any

from flask import render_template
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from onestop import signals
from onestop.backoffice import bp
from onestop.backoffice.common import audit, done, session, snapshot, unit
from onestop.backoffice.forms import WEEKDAYS, ServiceForm, format_windows
from onestop.queueing.errors import NotFound
from onestop.queueing.models import Service
from onestop.units.models import Unit


@bp.get("/services")
def services() -> str:
    rows = session().scalars(select(Service).where(Service.unit_id == unit().id)
                             .order_by(Service.sort_order, Service.id))
    return render_template("backoffice/services.html", services=list(rows),
                           weekday_names=dict(WEEKDAYS), format_windows=format_windows)


def _clashes(form: ServiceForm, u: Unit, service_id: int | None) -> bool:
    """Code, prefix and number block must not collide with another field of the unit."""
    others = [s for s in session().scalars(select(Service).where(Service.unit_id == u.id))
              if s.id != service_id]
    code, prefix = form.code.data.strip(), (form.prefix.data or "").strip().upper()
    start, end = form.block_start.data, form.block_end.data
    found = False
    for other in others:
        if other.code.lower() == code.lower():
            form.code.errors.append(gettext("Mã lĩnh vực “%(code)s” đã có trong đơn vị.", code=code))
            found = True
        same_numbers = start is None and other.block_start is None
        if prefix and other.prefix.upper() == prefix and same_numbers and other.active:
            form.prefix.errors.append(gettext("Tiền tố “%(prefix)s” đang dùng cho lĩnh vực %(name)s.",
                                              prefix=prefix, name=other.name))
            found = True
        if (start is not None and end is not None and other.block_start is not None
                and other.block_end is not None and other.prefix.upper() == prefix
                and start <= other.block_end and other.block_start <= end):
            form.block_end.errors.append(gettext("Dải số trùng với lĩnh vực %(name)s.", name=other.name))
            found = True
    return found


def _apply(form: ServiceForm, row: Service) -> None:
    row.code, row.name = form.code.data.strip(), form.name.data.strip()
    row.name_en = (form.name_en.data or "").strip()
    row.prefix = (form.prefix.data or "").strip().upper()
    row.block_start, row.block_end = form.block_start.data, form.block_end.data
    row.daily_cap = form.daily_cap.data
    row.weekdays = sorted(set(form.weekdays.data))
    row.windows = form.parsed_windows
    row.cutoff_minutes = form.cutoff_minutes.data
    row.zone = (form.zone.data or "").strip()
    row.sort_order = form.sort_order.data
    row.active = bool(form.active.data)


def _render(form: ServiceForm, row: Service | None) -> Any:
    return render_template("backoffice/service_form.html", form=form, row=row), 422 if form.errors else 200


@bp.route("/services/new", methods=["GET", "POST"])
def service_new() -> Any:
    u = unit()
    form = ServiceForm()
    if not form.is_submitted():
        form.weekdays.data = [1, 2, 3, 4, 5]
        form.windows.data = "07:30-11:30, 13:30-17:00"
    if form.validate_on_submit() and not _clashes(form, u, None):
        row = Service(unit_id=u.id)
        _apply(form, row)
        session().add(row)
        session().flush()
        audit("create", "service", row.id, None, snapshot(row), unit_id=u.id)
        signals.queue_changed.send(session(), unit_id=u.id, service_ids=[row.id])
        return done(_l("Đã thêm lĩnh vực."), "backoffice.services")
    return _render(form, None)


@bp.route("/services/<int:service_id>", methods=["GET", "POST"])
def service_edit(service_id: int) -> Any:
    u = unit()
    row = session().get(Service, service_id) if service_id < 2**31 else None
    if row is None or row.unit_id != u.id:
        raise NotFound("service_not_found")
    form = ServiceForm(obj=row)
    if not form.is_submitted():
        form.windows.data = format_windows(row.windows)
    if form.validate_on_submit() and not _clashes(form, u, row.id):
        before = snapshot(row)
        _apply(form, row)
        audit("update", "service", row.id, before, snapshot(row), unit_id=u.id)
        signals.queue_changed.send(session(), unit_id=u.id, service_ids=[row.id])
        return done(_l("Đã lưu lĩnh vực."), "backoffice.services")
    return _render(form, row)
