"""Helpers shared by the back-office views: the unit managed, the audit entry, the commit."""

from __future__ import annotations

from typing import Any, cast

from flask import abort, flash, redirect, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import Session

from onestop.api.common import now, resolve_unit
from onestop.audit.engine import record_change, snapshot
from onestop.extensions import db
from onestop.units.models import Unit

__all__ = ["audit", "bound_unit_id", "done", "in_scope", "now", "require_unbound", "session",
           "snapshot", "unit", "unit_choices"]

# what the audit page and the flash messages call each kind of row
ENTITY_LABELS: dict[str, Any] = {
    "unit": _l("Đơn vị"), "unit_settings": _l("Cài đặt đơn vị"), "service": _l("Lĩnh vực"),
    "counter": _l("Quầy"), "user": _l("Người dùng"), "device": _l("Thiết bị"),
    "procedure": _l("Thủ tục hành chính"), "unit_day": _l("Ngày nghỉ / ngày làm bù"),
    "webhook": _l("Webhook"), "dossier": _l("Hồ sơ"), "book": _l("Sổ theo dõi hồ sơ"),
    "person": _l("Dữ liệu cá nhân của người nộp hồ sơ"),
    "booking": _l("Lịch hẹn"),
}
ACTION_LABELS: dict[str, Any] = {
    "create": _l("Tạo mới"), "update": _l("Sửa"), "delete": _l("Xoá"), "disable": _l("Khoá"),
    "enable": _l("Mở khoá"), "reset_password": _l("Đặt lại mật khẩu"), "revoke": _l("Thu hồi"),
    "rotate_token": _l("Cấp lại mã"), "import": _l("Nhập tệp"), "deactivate": _l("Vô hiệu hoá"),
    "read": _l("Xem"), "login": _l("Đăng nhập"), "lock": _l("Khoá đăng nhập"),
    "export": _l("Xuất dữ liệu"), "purge": _l("Xoá theo thời hạn lưu trữ"),
    "unlock": _l("Gỡ khoá đăng nhập"),
    "cancel": _l("Huỷ"),
}


def session() -> Session:
    return db.session()


def unit() -> Unit:
    """The unit this admin manages: their own, else the default one."""
    return resolve_unit()


def bound_unit_id() -> int | None:
    """The unit the signed-in admin is bound to; ``None`` for an admin of every unit.

    An admin bound to a unit manages that unit only: its fields, counters, devices, users,
    settings and its own record; pages that name another unit's objects answer 404, and
    nothing that creates or moves something into another unit is offered or accepted.
    Admins without a unit keep the power over every unit (docs/security.md, "Walls between
    units")."""
    return cast(int | None, current_user.unit_id)


def in_scope(unit_id: int | None) -> bool:
    """Whether the signed-in admin may manage a row of ``unit_id`` (``None``: no unit)."""
    bound = bound_unit_id()
    return bound is None or unit_id == bound


def require_unbound() -> None:
    """403 for an admin bound to a unit: what follows is cross-unit power (a new unit)."""
    if bound_unit_id() is not None:
        abort(403)


def unit_choices() -> list[tuple[int, str]]:
    """The units the admin may put things in: every unit, or only their own."""
    query = select(Unit).order_by(Unit.name)
    if (bound := bound_unit_id()) is not None:
        query = query.where(Unit.id == bound)
    return [(u.id, f"{u.name} ({u.code})") for u in session().scalars(query)]


def audit(action: str, entity: str, entity_id: Any, before: dict[str, Any] | None,
          after: dict[str, Any] | None, *, unit_id: int | None, diff: bool = True) -> None:
    """Write the audit entry in the current transaction (with ``diff``: changed keys only)."""
    record_change(session(), action, entity, entity_id, before, after, unit_id=unit_id, diff=diff)


def done(message: Any, endpoint: str, **values: Any) -> Any:
    """Commit the request's one transaction, say so, and go back to a list page."""
    session().commit()
    flash(str(message), "ok")
    return redirect(url_for(endpoint, **values))
