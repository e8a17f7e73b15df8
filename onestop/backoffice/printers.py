"""``/admin/printers``: kiosks, print agents and their printers, for admins and managers.

A page of the back office (its layout and menu), in a blueprint of its own because it is
open to managers too (the back office's blueprint answers 403 to every role but admin).
The page is rendered from the same data as ``GET /api/v1/printers``; its buttons (check the
printers now, print a test slip, reprint a ticket) call the API from ``printers.js`` with
the CSRF token of the page.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, abort, render_template
from flask_login import current_user, login_required

from onestop.api.common import resolve_unit
from onestop.extensions import db
from onestop.units.models import Unit

bp = Blueprint("admin_printers", __name__, url_prefix="/admin")

ROLES = ("admin", "manager")


@bp.get("/printers")
@login_required
def printers() -> Any:
    from onestop.api.printing import printers_view

    if current_user.role not in ROLES:
        abort(403)
    unit = resolve_unit()
    data = printers_view(unit)
    db.session.commit()  # expiring overdue jobs is a write
    return render_template("backoffice/printers.html", unit=unit, bo_unit=unit, data=data,
                           when=_local(unit))


def _local(unit: Unit) -> Any:
    """An ISO UTC string as the unit's local "dd/mm/yyyy HH:MM:SS"; "—" for none."""

    def fmt(value: str | None) -> str:
        if not value:
            return "—"
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        return unit.local(moment).strftime("%d/%m/%Y %H:%M:%S")

    return fmt
