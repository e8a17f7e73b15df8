"""POST /tickets/{id}/cancel: "Tôi không chờ nữa", the citizen gives up their place.

Proved by ``k``, the key of the ticket's public page (``/t/<id>?k=``, the printed QR), or
by a signed-in clerk, manager or admin of the ticket's unit (a citizen at the desk says
they are leaving). Without either, a wrong key and an unknown id get the same 404
``ticket_not_found``. The rules are ``onestop.queueing.engine.cancel_ticket``'s: a ticket
``waiting``, ``missed`` or ``parked`` becomes ``cancelled``; one already called, served or
finished is refused 409 ``ticket_not_waiting``. The queue-changed signal moves every
screen at once (hall displays, counters, the other citizens' ticket pages).
"""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from pydantic import Field

from onestop.accounts.auth import current_actor
from onestop.api import bp
from onestop.api.common import now
from onestop.api.counters import MAX_ID
from onestop.api.errors import MESSAGES
from onestop.api.schemas import Strict, TicketOut
from onestop.extensions import db, limiter
from onestop.queueing import engine
from onestop.queueing.errors import DomainError, NotFound
from onestop.queueing.models import Ticket
from onestop.queueing.state import ticket_dict
from onestop.tokens import verify_mac
from onestop.units.models import Unit

STAFF = ("admin", "manager", "clerk")

MESSAGES.update({
    "ticket_not_waiting": _l("Số này không còn trong hàng chờ (đã được gọi, đã phục vụ xong hoặc đã hủy), "
                             "nên không thể hủy. Nếu đã được gọi, xin mời đến quầy hoặc báo cán bộ."),
})


class TicketCancelIn(Strict):
    k: str | None = Field(default=None, max_length=64)


def _allowed(ticket: Ticket, key: str | None) -> bool:
    if verify_mac(current_app.config["SECRET_KEY"], "ticket", str(ticket.id), key):
        return True
    user = current_user._get_current_object()
    if not user.is_authenticated:
        return False
    if user.role not in STAFF:
        raise DomainError("forbidden", status=403)
    return user.unit_id in (None, ticket.unit_id)


@bp.post("/tickets/<int:ticket_id>/cancel")
@limiter.limit(lambda: str(current_app.config["TICKET_PAGE_RATE_LIMIT"]))
@bp.input(TicketCancelIn, arg_name="body")
@bp.output(TicketOut)
@bp.doc(summary="The citizen gives up their place: the ticket becomes cancelled",
        description="Body `k`: the key of the ticket's public page (`/t/<id>?k=`); or a signed-in "
        "clerk, manager or admin of the ticket's unit (no key). Allowed while the ticket is waiting, "
        "missed or parked. 409 ticket_not_waiting (with `state`) once it was called, served or "
        "finished. 404 ticket_not_found for an unknown id and a wrong key alike.",
        responses=[400, 403, 404, 409, 422, 429])
def cancel_ticket(ticket_id: int, body: TicketCancelIn) -> dict[str, Any]:
    session = db.session()
    ticket = session.get(Ticket, ticket_id) if ticket_id <= MAX_ID else None
    if ticket is None or not _allowed(ticket, body.k):
        raise NotFound("ticket_not_found")
    unit = session.get(Unit, ticket.unit_id)
    assert unit is not None
    engine.cancel_ticket(session, ticket, actor=current_actor(), now=now())
    return ticket_dict(session, unit, ticket, now())
