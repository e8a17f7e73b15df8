"""``/admin/audit``: the audit log, newest first, filtered by entity, user and dates, with
each entry's before / after values side by side. Every time on the page is the unit's
local time (the entry's moment and any moment among the values). Read-only (the JSON twin
is ``GET /api/v1/audit``, in ISO 8601 with offsets)."""

from __future__ import annotations

import datetime as dt
import functools
import json
import re
from typing import Any

from flask import render_template, request
from sqlalchemy import select, true

from onestop.accounts.models import User
from onestop.backoffice import bp
from onestop.backoffice.auditlog import Filters, diff, entities, search
from onestop.backoffice.common import ACTION_LABELS, ENTITY_LABELS, bound_unit_id, session, unit
from onestop.backoffice.forms import AuditFilterForm
from onestop.units.models import Unit

PAGE = 50


# a moment as the audit trail stores it: ISO 8601 with an offset (UTC, "+00:00" or "Z")
MOMENT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$")


def _value(value: Any, u: Unit | None = None) -> str:
    """A before / after value as a person reads it; a stored moment in the unit's time."""
    if value is None:
        return "—"
    if isinstance(value, str):
        if u is not None and MOMENT.match(value):
            moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
            return u.local(moment).strftime("%d/%m/%Y %H:%M:%S")
        return value
    return json.dumps(value, ensure_ascii=False)


def _int(text: str | None) -> int | None:
    try:
        value = int(text or "")
    except ValueError:
        return None
    return value if 0 < value < 2**31 else None


@bp.get("/audit")
def audit() -> Any:
    u = unit()
    form = AuditFilterForm(request.args)
    bound = bound_unit_id()  # an admin of one unit: that unit's entries and accounts only
    form.entity.choices = [("", "—")] + [(e, str(ENTITY_LABELS.get(e, e)))
                                         for e in entities(session(), u, unit_only=bound is not None)]
    users = session().scalars(select(User).order_by(User.username)
                              .where(User.unit_id == bound if bound is not None else true()))
    form.user_id.choices = [("", "—")] + [(str(x.id), f"{x.username} — {x.full_name}") for x in users]
    valid = form.validate()
    before_id, user_id = _int(request.args.get("before_id")), _int(form.user_id.data)
    filters = Filters(entity=form.entity.data or None, user_id=user_id,
                      date_from=form.date_from.data if valid else None,
                      date_to=form.date_to.data if valid else None, unit_only=bound is not None)
    rows = search(session(), u, filters, limit=PAGE, before_id=before_id)
    args = {k: v for k, v in request.args.items() if k != "before_id" and v}
    older = dict(args, before_id=rows[-1].id) if len(rows) == PAGE else None
    return render_template("backoffice/audit.html", form=form, rows=rows, diff=diff,
                           value=functools.partial(_value, u=u),
                           entity_labels=ENTITY_LABELS, action_labels=ACTION_LABELS,
                           when=lambda v: u.local(v).strftime("%d/%m/%Y %H:%M:%S"),
                           older=older, newest=args if before_id else None), 200 if valid else 422
