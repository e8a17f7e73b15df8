"""The back office under ``/admin/``: units, fields, counters, users, devices, procedures,
holidays, display and voice, ratings, webhooks, and the audit log (docs/backoffice.md).

Admins only: the blueprint's ``before_request`` sends anonymous visitors to the login page
and answers 403 to every other role, so a page added here is protected without a
decorator of its own. (``/admin/printers``, in ``printers.py``, is another blueprint under the
same layout, open to managers too.)

Each change runs in the request's one transaction: the view parses the form, changes the
rows, writes the audit entry (``onestop.audit.engine.record_request``) and commits once.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, request
from flask_login import current_user

from onestop.extensions import login

bp = Blueprint("backoffice", __name__, url_prefix="/admin", template_folder="templates",
               static_folder="static", static_url_path="/static")
# pages, not API: APIFlask's spec builder asks every blueprint with a before_request hook
bp.enable_openapi = False  # type: ignore[attr-defined]

ADMIN_ROLES = ("admin",)


@bp.before_request
def _admins_only() -> Any:
    if request.endpoint == "backoffice.static":
        return None  # CSS and JS, the same for everyone
    if not current_user.is_authenticated:
        return login.unauthorized()
    if current_user.role not in ADMIN_ROLES:
        abort(403)
    return None


@bp.context_processor
def _layout() -> dict[str, Any]:
    from onestop.backoffice.common import unit
    from onestop.backoffice.forms import ConfirmForm
    from onestop.queueing.errors import NotFound

    try:
        current = unit()
    except NotFound:  # a fresh install: the units page creates the first one
        current = None
    return {"bo_unit": current, "confirm_form": ConfirmForm()}


@bp.after_request
def _no_store(response: Any) -> Any:
    # pages show tokens, pairing codes and secrets once: never from a cache or the back button
    if request.endpoint != "backoffice.static":
        response.headers["Cache-Control"] = "no-store"
    return response


from onestop.backoffice import (  # noqa: E402,F401
    audit_views,
    bookings,
    calendar_views,
    counters,
    devices,
    index,
    media_views,
    procedures,
    services,
    settings_views,
    units,
    users,
    webhooks,
)
