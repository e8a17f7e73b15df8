"""Messages to citizens: ``POST /tickets/{id}/notify`` (a phone or e-mail subscribes a ticket)
and ``GET /notifications`` (staff: the messages of a ticket or dossier, addresses masked).

Subscribing is proved like the ticket's page: ``k``, the key of ``/t/<id>?k=`` (the printed
QR, the kiosk's ticket screen), or the kiosk that issued the ticket, or a signed-in clerk,
manager or admin of the ticket's unit. Without one of these, a wrong key and an unknown id
get the same 404 ``ticket_not_found``. See docs/notifications.md.
"""

from __future__ import annotations

from typing import Any

from flask import current_app, request
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from pydantic import Field
from sqlalchemy import select

from onestop.accounts.auth import current_device, require_user
from onestop.api import bp
from onestop.api.common import now, resolve_unit
from onestop.api.counters import MAX_ID
from onestop.api.errors import MESSAGES
from onestop.api.schemas import Strict
from onestop.dossiers.models import Dossier
from onestop.extensions import db, limiter
from onestop.notify import engine
from onestop.notify.config import NotifyConfig
from onestop.notify.subscriber import check_near
from onestop.queueing.errors import DomainError, NotFound
from onestop.queueing.models import Ticket
from onestop.tokens import verify_mac
from onestop.units.models import Unit

STAFF = ("admin", "manager", "clerk")
OPEN_STATES = ("waiting", "missed", "parked")

MESSAGES.setdefault("invalid_phone", _l("Số điện thoại di động không hợp lệ. Vui lòng kiểm tra lại."))
MESSAGES.update({
    "invalid_email": _l("Địa chỉ thư điện tử không hợp lệ."),
    "notify_unavailable": _l("Đơn vị chưa cấu hình kênh gửi tin nhắn này."),
    "notify_limit_reached": _l("Số thứ tự này đã đăng ký đủ số điện thoại nhận tin nhắn."),
    "notify_closed": _l("Số thứ tự này không còn trong hàng chờ, không cần đăng ký nhận tin nhắn."),
    "address_required": _l("Vui lòng nhập số điện thoại hoặc địa chỉ thư điện tử."),
})


class TicketNotifyIn(Strict):
    k: str | None = Field(default=None, max_length=64)
    phone: str | None = Field(default=None, max_length=32)
    email: str | None = Field(default=None, max_length=254)


class TicketNotifyOut(Strict):
    ticket_id: int
    to: str
    kind: str
    created: bool
    notify_ahead: int


def _allowed(ticket: Ticket, key: str | None) -> bool:
    if verify_mac(current_app.config["SECRET_KEY"], "ticket", str(ticket.id), key):
        return True
    device = current_device() if not current_user.is_authenticated else None
    if device is not None:
        return device.kind == "kiosk" and ticket.device_id == device.id
    user = current_user._get_current_object()
    if not user.is_authenticated:
        return False
    if user.role not in STAFF:
        raise DomainError("forbidden", status=403)
    return user.unit_id in (None, ticket.unit_id)


def _lang() -> str:
    locale = get_locale()
    return "en" if locale is not None and locale.language == "en" else "vi"


@bp.post("/tickets/<int:ticket_id>/notify")
@limiter.limit(lambda: str(current_app.config["TICKET_PAGE_RATE_LIMIT"]))
@bp.input(TicketNotifyIn, arg_name="body")
@bp.output(TicketNotifyOut, status_code=201)
@bp.doc(summary="Text me when my turn nears: a phone (or e-mail) subscribes a ticket",
        description="Body `k`: the key of the ticket's public page (`/t/<id>?k=`); or the kiosk that "
        "issued the ticket; or a signed-in clerk, manager or admin of its unit. `phone`: a Vietnamese "
        "mobile number (stored as +84…), or `email`. The address then receives ticket.near (when "
        "`notify_ahead` people are ahead), ticket.called (with the counter) and ticket.transferred, "
        "and is erased at day close. 201 again for the same address (created false). 409 "
        "notify_closed (the ticket no longer waits), notify_unavailable (no channel configured), "
        "notify_limit_reached; 422 invalid_phone, invalid_email, address_required; 404 "
        "ticket_not_found for an unknown id and a wrong key alike.",
        responses=[400, 403, 404, 409, 415, 422, 429])
def notify_ticket(ticket_id: int, body: TicketNotifyIn) -> dict[str, Any]:
    session = db.session()
    ticket = session.get(Ticket, ticket_id) if ticket_id <= MAX_ID else None
    if ticket is None or not _allowed(ticket, body.k):
        raise NotFound("ticket_not_found")
    raw = body.phone or body.email
    if not raw:
        raise DomainError("address_required", status=422)
    if ticket.state not in OPEN_STATES:
        raise DomainError("notify_closed", state=ticket.state)
    unit = session.get(Unit, ticket.unit_id)
    assert unit is not None
    at = now()
    sub, created = engine.subscribe(session, unit, "ticket", ticket.id, raw, now=at, lang=_lang(),
                                    business_date=ticket.business_date,
                                    config=NotifyConfig.of(current_app.config))
    check_near(session, unit, ticket, at)  # already near: told at once
    return {"ticket_id": ticket.id, "to": engine.mask(sub.address_kind, sub.address),
            "kind": sub.address_kind, "created": created, "notify_ahead": int(unit.setting("notify_ahead"))}


class MessageOut(Strict):
    id: int
    event: str
    subject: str
    subject_id: int
    to: str
    state: str
    channel: str | None
    attempts: int
    error: str
    created_at: str | None
    sent_at: str | None
    next_attempt_at: str | None


class MessagesOut(Strict):
    subscriptions: list[dict[str, str]]
    messages: list[MessageOut]


@bp.get("/notifications")
@bp.output(MessagesOut)
@bp.doc(summary="Messages of a ticket or a dossier (staff; addresses masked)",
        description="Query `ticket_id` or `dossier_code` (one of them). 404 ticket_not_found / "
        "dossier_not_found outside the caller's unit; 422 subject_required.",
        responses=[401, 403, 404, 422])
@require_user(*STAFF)
def list_notifications() -> dict[str, Any]:
    unit = resolve_unit()
    session = db.session()
    ticket_id, code = request.args.get("ticket_id", ""), request.args.get("dossier_code", "").strip()
    if ticket_id.isdigit() and int(ticket_id) <= MAX_ID:
        ticket = session.get(Ticket, int(ticket_id))
        if ticket is None or ticket.unit_id != unit.id:
            raise NotFound("ticket_not_found")
        subject, subject_id = "ticket", ticket.id
    elif code:
        found = session.scalar(select(Dossier.id).where(Dossier.unit_id == unit.id, Dossier.code == code))
        if found is None:
            raise NotFound("dossier_not_found")
        subject, subject_id = "dossier", int(found)
    else:
        raise DomainError("subject_required", status=422)
    subs = engine.subscriptions(session, subject, subject_id)
    return {"subscriptions": [{"to": engine.mask(s.address_kind, s.address), "kind": s.address_kind}
                              for s in subs],
            "messages": [engine.message_dict(m, unit) for m in engine.messages_of(session, unit.id, subject,
                                                                                   subject_id)]}
