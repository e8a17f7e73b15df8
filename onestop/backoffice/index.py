"""``/admin/``: one card per section, with a count where it helps."""

from __future__ import annotations

from typing import Any

from flask import redirect, render_template, url_for
from sqlalchemy import func, select

from onestop.accounts.models import Device, User
from onestop.backoffice import bp
from onestop.backoffice.common import session, unit
from onestop.dossiers.models import Procedure
from onestop.queueing.errors import NotFound
from onestop.queueing.models import Counter, Service
from onestop.units.models import UnitDay
from onestop.webhooks.models import Webhook


def _count(model: Any, *where: Any) -> int:
    return session().scalar(select(func.count()).select_from(model).where(*where)) or 0


@bp.get("/")
def index() -> Any:
    try:
        u = unit()
    except NotFound:  # no unit yet: create the first one
        return redirect(url_for("backoffice.unit_new"))
    counts = {
        "services": _count(Service, Service.unit_id == u.id),
        "counters": _count(Counter, Counter.unit_id == u.id),
        "users": _count(User, User.unit_id == u.id, User.active.is_(True)),
        "devices": _count(Device, Device.unit_id == u.id, Device.revoked_at.is_(None)),
        "procedures": _count(Procedure, Procedure.unit_id == u.id, Procedure.active.is_(True)),
        "days": _count(UnitDay, UnitDay.unit_id == u.id),
        "webhooks": _count(Webhook, Webhook.unit_id == u.id, Webhook.active.is_(True)),
    }
    return render_template("backoffice/index.html", counts=counts)
