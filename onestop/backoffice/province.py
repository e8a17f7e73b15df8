"""``/admin/province``: the pushes to the province's dossier system, for admins and managers.

A page of the back office (its layout and menu) in a blueprint of its own, like
``/admin/printers``, because managers see it too. It shows what ``GET
/api/v1/integrations/province`` answers: the counts by state and the latest 50 pushes of the
unit with their last error. "Gửi lại" (admins only, as ``POST
/api/v1/integrations/province/retry``) sends the dead pushes again through the same
``outbox.retry_dead``. Without ``PROVINCE_URL`` the page only says that no province is set up
(and the menu does not link it).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from onestop.api.common import now, resolve_unit
from onestop.audit.engine import record_request
from onestop.backoffice.forms import ConfirmForm
from onestop.extensions import db
from onestop.integrations import outbox
from onestop.integrations.config import ProvinceConfig
from onestop.integrations.mapping import portal_status
from onestop.integrations.wakeup import wake
from onestop.units.models import Unit

bp = Blueprint("admin_province", __name__, url_prefix="/admin")

ROLES = ("admin", "manager")
RETRY_ROLES = ("admin",)


def _allow(roles: tuple[str, ...]) -> None:
    if current_user.role not in roles:
        abort(403)


@bp.get("/province")
@login_required
def province() -> Any:
    from onestop.api.integrations import latest_pushes

    _allow(ROLES)
    unit = resolve_unit()
    config = ProvinceConfig.of(current_app.config)
    counts = outbox.counts(db.session()) if config.enabled else {}
    pushes = latest_pushes(unit.id) if config.enabled else []
    for push in pushes:  # the portal's own label for the status pushed (translated in the page)
        known = portal_status(push["status"])
        push["status_label"] = known[0] if known else (push["status"] or "")
    return render_template("backoffice/province.html", unit=unit, bo_unit=unit, enabled=config.enabled,
                           url=config.url, counts=counts, pushes=pushes, when=_local(unit),
                           can_retry=current_user.role in RETRY_ROLES, confirm_form=ConfirmForm())


@bp.post("/province/retry")
@login_required
def retry() -> Any:
    """Send every dead push again (pending, attempts from zero), as the API's retry does."""
    _allow(RETRY_ROLES)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    if not ProvinceConfig.of(current_app.config).enabled:
        flash(str(_l("Chưa cấu hình kết nối với hệ thống của tỉnh.")), "error")
        return redirect(url_for("admin_province.province"))
    session = db.session()
    retried = outbox.retry_dead(session, now())
    record_request(session, action="retry", entity="province_push", after={"retried": retried},
                   unit_id=resolve_unit().id)
    session.commit()
    wake()  # the loop of this process sends them now rather than at its next poll
    flash(str(_l("Đã đưa %(n)s lần gửi vào hàng chờ gửi lại.", n=retried)), "ok")
    return redirect(url_for("admin_province.province"))


def _local(unit: Unit) -> Any:
    """A UTC datetime as the unit's local "dd/mm/yyyy HH:MM:SS"; "—" for none."""

    def fmt(value: dt.datetime | None) -> str:
        return unit.local(value).strftime("%d/%m/%Y %H:%M:%S") if value else "—"

    return fmt
