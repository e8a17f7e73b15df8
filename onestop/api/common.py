"""Helpers shared by the API modules: the unit in scope, the clock, permissions."""

from __future__ import annotations

import datetime as dt
from typing import cast

from flask import current_app, g, request
from flask_login import current_user
from sqlalchemy import select

from onestop.accounts.auth import current_device
from onestop.db import utcnow
from onestop.extensions import db
from onestop.queueing.errors import DomainError, NotFound
from onestop.queueing.models import Counter
from onestop.units.models import Unit


def now() -> dt.datetime:
    return utcnow()


def resolve_unit() -> Unit:
    """The unit of the caller (user, then device), else ``?unit=CODE``, else the default."""
    if "unit" in g:
        return cast(Unit, g.unit)
    user = current_user._get_current_object()  # one look-up: each through the proxy costs one
    owner = user if user.is_authenticated and user.unit_id else None
    if owner is None:
        device = current_device()
        owner = device if device is not None and device.unit_id else None
    if owner is not None:
        unit = owner.unit  # loaded with the user or device (onestop/accounts/auth.py)
    else:
        code = request.args.get("unit") or current_app.config.get("DEFAULT_UNIT")
        query = select(Unit).where(Unit.code == code) if code else select(Unit).order_by(Unit.id)
        unit = db.session.scalars(query.limit(1)).first()
    if unit is None:
        raise NotFound("unit_not_found")
    g.unit = unit
    return unit


def always_open() -> bool:
    return bool(current_app.config.get("ALWAYS_OPEN"))


def counter_for_action(counter_id: int, unit: Unit) -> Counter:
    """The counter, if the signed-in user may act there.

    A clerk acts only at the counter they opened; managers and admins may act for any
    counter of their unit.
    """
    from onestop.queueing.engine import lock_counter

    user = current_user._get_current_object()
    if not user.is_authenticated:
        raise DomainError("unauthorized", status=401)
    counter = lock_counter(db.session(), counter_id)
    if counter.unit_id != unit.id:
        raise NotFound("counter_not_found")
    role = user.role
    if role in ("admin", "manager"):
        return counter
    if role == "clerk" and counter.clerk_id == user.id:
        return counter
    if role == "clerk":
        raise DomainError("not_counter_clerk", status=403)
    raise DomainError("forbidden", status=403)
