"""The reception desk (bàn hướng dẫn, tiếp đón): ``/counter/reception``.

Staff at the entrance (role ``reception``, and clerks, managers, admins) issue a ticket on a
citizen's behalf in two taps: the field, then "In phiếu" (on the printer chosen on the page:
a kiosk's, or a desk ``printer`` device) or "Hiện mã QR" (the ticket page's link for the
citizen's phone). Procedure, priority class with its reason, a note for the clerk who calls
and a phone for messages are optional, on the same screen. ``static/counter/reception.js``
calls ``POST /api/v1/tickets`` and ``POST /api/v1/tickets/{id}/print`` with the CSRF token.
"""

from __future__ import annotations

from typing import Any

from flask import abort, current_app, render_template
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from counter import MAX_ID, bp
from counter import texts as desk_texts
from onestop.accounts.models import Device
from onestop.api.common import now, resolve_unit
from onestop.dossiers.models import Procedure
from onestop.extensions import db
from onestop.queueing.errors import NotFound
from onestop.queueing.models import Ticket
from onestop.queueing.state import service_list
from onestop.tokens import ticket_token, ticket_url

ROLES = ("reception", "clerk", "manager", "admin")
PRINTER_KINDS = ("kiosk", "printer")


def _desk_only() -> None:
    if current_user.role not in ROLES:
        abort(403)


def texts() -> dict[str, Any]:
    """What the script shows, in the page's language."""
    return {
        "priority": desk_texts()["priority"],
        "issued": _("Đã cấp số %(label)s"),
        "printed": _("Đã in phiếu trên %(printer)s."),
        "print_failed": _("In không thành công: %(message)s. Cho công dân quét mã QR hoặc chọn máy in khác."),
        "no_printer": _("Chưa chọn máy in."),
        "ahead": _("Số người đang chờ phía trước: %(n)s"),
        "network": _("Mất kết nối tới máy chủ. Vui lòng thử lại."),
        "reason_required": _("Ghi lý do ưu tiên."),
        "pick_field": _("Chọn lĩnh vực trước."),
        "all_procedures": _("— Không chọn thủ tục —"),
        "closed": _("Đang đóng"),
        "waiting": _("đang chờ"),
    }


def printers(unit_id: int) -> list[dict[str, Any]]:
    """Printers the desk may choose: each kiosk's and each desk printer of the unit."""
    devices = db.session.scalars(select(Device).where(
        Device.unit_id == unit_id, Device.kind.in_(PRINTER_KINDS), Device.revoked_at.is_(None),
        Device.printer_uri.is_not(None), Device.printer_uri != "").order_by(Device.kind.desc(), Device.name))
    return [{"id": d.id, "name": d.name, "kind": d.kind} for d in devices]


def procedures(unit_id: int) -> dict[int, list[dict[str, str]]]:
    """The active procedures of each field, by field id."""
    out: dict[int, list[dict[str, str]]] = {}
    for proc in db.session.scalars(select(Procedure).where(
            Procedure.unit_id == unit_id, Procedure.active.is_(True)).order_by(Procedure.name)):
        if proc.service_id is not None:
            out.setdefault(proc.service_id, []).append({"code": proc.code, "name": proc.name})
    return out


@bp.get("/reception")
@login_required
def reception() -> str:
    _desk_only()
    unit = resolve_unit()
    fields = service_list(db.session(), unit, now(), bool(current_app.config.get("ALWAYS_OPEN")))
    page = render_template("counter/reception.html", unit=unit, fields=fields, texts=texts(),
                           printers=printers(unit.id), procedures=procedures(unit.id),
                           priorities=list(unit.setting("priority_classes")))
    db.session.commit()
    return page


@bp.get("/reception/link/<int:ticket_id>")
@login_required
def reception_link(ticket_id: int) -> dict[str, str]:
    """The ticket page's link for the citizen's phone, and its QR's address."""
    _desk_only()
    unit = resolve_unit()
    ticket = db.session.get(Ticket, ticket_id) if ticket_id <= MAX_ID else None
    if ticket is None or ticket.unit_id != unit.id:
        raise NotFound("ticket_not_found")
    secret = current_app.config["SECRET_KEY"]
    return {"url": ticket_url(current_app.config["PUBLIC_BASE_URL"], secret, ticket.id),
            "qr": f"/kiosk/qr/{ticket.id}.svg?k={ticket_token(secret, ticket.id)}"}
