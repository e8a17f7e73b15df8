"""The public page of a ticket, ``/t/<id>?k=<token>``: what the printed QR opens on a phone.

It shows the label, the field, the state in plain words, people ahead and the estimated wait,
and keeps itself current over the public ``/display`` Socket.IO namespace (``ticket.called``,
``queue.changed``, ``counter.changed``), re-reading ``GET /api/v1/tickets/<id>``. No personal
data: a ticket holds none. A wrong or missing token gets the same 404 as an unknown id.
"""

from __future__ import annotations

import json

from flask import current_app, render_template, request

from kiosk import bp
from kiosk.pages import MAX_ID, lang
from kiosk.texts import TICKET_STATES, date, number, ticket_state
from onestop.extensions import db, limiter
from onestop.queueing.errors import NotFound
from onestop.queueing.models import Ticket
from onestop.queueing.state import ticket_dict
from onestop.tokens import verify_mac
from onestop.units.models import Unit

TERMINAL = ("done", "cancelled", "expired")  # missed and transferred tickets can wait again


@bp.get("/t/<int:ticket_id>")
@limiter.limit(lambda: str(current_app.config["TICKET_PAGE_RATE_LIMIT"]))
def public_ticket(ticket_id: int) -> tuple[str, int, dict[str, str]]:
    token = request.args.get("k")
    # the token first: without the secret, every id answers the same
    if not verify_mac(current_app.config["SECRET_KEY"], "ticket", str(ticket_id), token):
        raise NotFound("ticket_not_found")
    ticket = db.session.get(Ticket, ticket_id) if ticket_id <= MAX_ID else None
    unit = db.session.get(Unit, ticket.unit_id) if ticket else None
    if ticket is None or unit is None:
        raise NotFound("ticket_not_found")
    data = ticket_dict(db.session(), unit, ticket)
    counter = data["counter"]["number"] if data["counter"] else None
    service = ticket.service
    issued = unit.local(ticket.issued_at)
    html = render_template(
        "kiosk/ticket_page.html", unit=unit, ticket=data, token=token, lang=lang(),
        field_name=service.name_en if lang() == "en" and service.name_en else service.name,
        state_text=ticket_state(ticket.state, counter), terminal=ticket.state in TERMINAL,
        ahead=number(data["waiting_ahead"]), minutes=number(data["estimated_wait_minutes"]),
        issued=f"{issued:%H:%M}, {date(issued.date())}", counter=counter,
        states=json.dumps({s: ticket_state(s, "{counter}") for s in TICKET_STATES},
                          ensure_ascii=False))
    # the token is in the URL: keep it out of other sites' Referer headers and of caches
    return html, 200, {"Referrer-Policy": "no-referrer", "Cache-Control": "no-store"}
