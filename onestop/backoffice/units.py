"""``/admin/units``: the service centres (đơn vị). Other sections manage the admin's own unit.

An admin bound to a unit sees and edits that unit only (another unit's page is a 404) and
cannot create units (403): that is the power of an admin without a unit."""

from __future__ import annotations

from typing import Any

from flask import render_template
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from onestop.backoffice import bp
from onestop.backoffice.common import audit, bound_unit_id, done, in_scope, require_unbound, session, snapshot
from onestop.backoffice.forms import UnitForm
from onestop.queueing.errors import NotFound
from onestop.units.models import Unit

CODE_TAKEN = _l("Mã đơn vị này đã có.")


@bp.get("/units")
def units() -> str:
    query = select(Unit).order_by(Unit.name)
    if (bound := bound_unit_id()) is not None:
        query = query.where(Unit.id == bound)
    return render_template("backoffice/units.html", units=list(session().scalars(query)),
                           may_create=bound is None)


def _code_taken(code: str, unit_id: int | None) -> bool:
    other = session().scalar(select(Unit).where(Unit.code == code))
    return other is not None and other.id != unit_id


@bp.route("/units/new", methods=["GET", "POST"])
def unit_new() -> Any:
    require_unbound()
    form = UnitForm()
    if form.validate_on_submit():
        if _code_taken(form.code.data.strip(), None):
            form.code.errors.append(str(CODE_TAKEN))
        else:
            row = Unit(code=form.code.data.strip(), name=form.name.data.strip(),
                       address=form.address.data.strip(), timezone=form.timezone.data, settings={})
            session().add(row)
            session().flush()
            audit("create", "unit", row.id, None, snapshot(row), unit_id=row.id)
            return done(_l("Đã tạo đơn vị."), "backoffice.units")
    return render_template("backoffice/unit_form.html", form=form, row=None), 422 if form.errors else 200


@bp.route("/units/<int:unit_id>", methods=["GET", "POST"])
def unit_edit(unit_id: int) -> Any:
    row = session().get(Unit, unit_id) if unit_id < 2**31 else None
    if row is None or not in_scope(row.id):
        raise NotFound("unit_not_found")
    form = UnitForm(obj=row)
    if form.validate_on_submit():
        if _code_taken(form.code.data.strip(), row.id):
            form.code.errors.append(str(CODE_TAKEN))
        else:
            before = snapshot(row, exclude=frozenset({"settings"}))
            row.code, row.name = form.code.data.strip(), form.name.data.strip()
            row.address, row.timezone = form.address.data.strip(), form.timezone.data
            audit("update", "unit", row.id, before, snapshot(row, exclude=frozenset({"settings"})),
                  unit_id=row.id)
            return done(_l("Đã lưu đơn vị."), "backoffice.units")
    return render_template("backoffice/unit_form.html", form=form, row=row), 422 if form.errors else 200
