"""POST /dossiers/{code}/pickup-ticket: the kiosk's ticket to collect a result or hand in a
supplement (onestop/dossiers/pickup.py has the rules).

Kiosk token only. The dossier is proved the way the lookup proves it: ``k`` (the receipt
QR's token) or ``phone4`` (the last four digits of
the applicant's phone, spending the same per-code budget as the lookup). An unknown code
and a wrong key get the same 404 ``dossier_not_found``. The ticket is printed on the
kiosk's printer like any kiosk ticket.
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_login import current_user
from pydantic import Field

from onestop.accounts.auth import current_actor, current_device
from onestop.api import bp
from onestop.api.common import always_open, now, resolve_unit
from onestop.api.errors import MESSAGES
from onestop.api.lookup import find_public
from onestop.api.schemas import Strict, TicketOut
from onestop.api.tickets import _issue_limit, _issuer_key
from onestop.dossiers.pickup import issue_pickup_ticket
from onestop.extensions import db, limiter
from onestop.queueing.errors import DomainError, NotFound
from onestop.queueing.state import ticket_dict

MESSAGES.update({
    "pickup_not_available": _l("Hồ sơ chưa có kết quả và không cần nộp bổ sung, nên chưa cần lấy số. "
                               "Vui lòng theo dõi ngày hẹn trả kết quả."),
    "pickup_ticket_exists": _l("Hôm nay Quý công dân đã lấy số cho hồ sơ này. Xin mời chờ gọi số, "
                               "hoặc hỏi bàn hướng dẫn nếu cần hỗ trợ."),
    "pickup_no_field": _l("Chưa có lĩnh vực nào nhận trả kết quả. Vui lòng hỏi bàn hướng dẫn."),
})


class PickupIn(Strict):
    k: str | None = Field(default=None, max_length=64)
    phone4: str | None = Field(default=None, max_length=8)


def _kiosk() -> Any:
    """The calling kiosk: a paired kiosk device, never a user or another device."""
    device = current_device() if not current_user.is_authenticated else None
    if device is None and not current_user.is_authenticated:
        raise DomainError("unauthorized", status=401)
    if device is None or device.kind != "kiosk":
        raise DomainError("forbidden", status=403)
    return device


@bp.post("/dossiers/<code>/pickup-ticket")
@limiter.limit(_issue_limit, key_func=_issuer_key)
@bp.input(PickupIn, arg_name="body")
@bp.output(TicketOut, status_code=201)
@bp.doc(summary="Kiosk: a ticket to collect a dossier's result or hand in a supplement",
        description="Kiosk token only. Body `k` (the receipt QR's token) or `phone4`. The ticket "
        "carries `dossier` {code, purpose: pickup|supplement}, is sent to the unit's returns field "
        "(setting `returns_service`) or the counter that received the dossier, and printed on the "
        "kiosk's printer. 409: pickup_not_available (state), pickup_ticket_exists (one a day, with "
        "`ticket_id` and `label`), service_closed, outside_hours, daily_cap_reached. 404 "
        "dossier_not_found for an unknown code and a wrong key alike.",
        responses=[400, 401, 403, 404, 409, 422, 429])
def pickup_ticket(code: str, body: PickupIn) -> dict[str, Any]:
    device = _kiosk()
    if not body.k and not body.phone4:
        raise DomainError("lookup_key_required", status=422)
    dossier, _view = find_public(code, body.k, None if body.k else body.phone4)
    unit = resolve_unit()
    if dossier.unit_id != unit.id:  # another unit's dossier is not this kiosk's to call
        raise NotFound("dossier_not_found")
    session = db.session()
    ticket = issue_pickup_ticket(session, unit, dossier, actor=current_actor(), now=now(),
                                 always_open=always_open())
    out = ticket_dict(session, unit, ticket, now())
    from onestop.api.printing import print_on_issue  # printed after the ticket is committed

    out.update(print_on_issue(session, unit, ticket, device, out))
    return out
