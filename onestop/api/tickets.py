"""POST /tickets (issue), GET /tickets/{id}, POST /tickets/{id}/requeue."""

from __future__ import annotations

import hashlib
from typing import Any

from flask import current_app, request
from flask_limiter.util import get_remote_address
from flask_login import current_user

from onestop.accounts.auth import (
    DEVICE_COOKIE,
    bearer_token,
    current_actor,
    current_device,
    require_user,
)
from onestop.api import bp
from onestop.api.common import always_open, now, resolve_unit
from onestop.api.counters import MAX_ID
from onestop.api.schemas import TicketIn, TicketOut
from onestop.extensions import db, limiter
from onestop.phones import normalise_phone
from onestop.queueing import desk, engine
from onestop.queueing.errors import DomainError, NotFound
from onestop.queueing.models import Service, Ticket
from onestop.queueing.state import ticket_dict

ISSUERS = {"admin": "counter", "manager": "counter", "clerk": "counter", "integration": "api",
           "reception": "reception"}
# who may write a note for the clerk and a phone on a ticket (a kiosk or an integration may not)
NOTE_SOURCES = ("counter", "reception")


def _issue_source() -> str:
    """Who may issue: a kiosk device, or staff and integration accounts."""
    device = current_device() if not current_user.is_authenticated else None
    if device is not None:
        if device.kind != "kiosk":
            raise DomainError("forbidden", status=403)
        return "kiosk"
    if current_user.is_authenticated:
        if current_user.role not in ISSUERS:
            raise DomainError("forbidden", status=403)
        return ISSUERS[current_user.role]
    raise DomainError("unauthorized", status=401)


def _issue_limit() -> str:
    return str(current_app.config["TICKET_RATE_LIMIT"])


def _issuer_key() -> str:
    """Tickets are counted per credential (a kiosk's device token, a user's token or session
    cookie), else per client address. Read from the request only, never the database: the
    limiter may yield to other greenlets, which must not happen while this request holds
    SQLite's write lock (another greenlet would wait on it without ever letting it go)."""
    credential = (bearer_token() or request.cookies.get(DEVICE_COOKIE)
                  or request.cookies.get(current_app.config.get("SESSION_COOKIE_NAME", "session")))
    if credential:
        return "cred:" + hashlib.sha256(credential.encode()).hexdigest()[:32]
    return f"ip:{get_remote_address()}"


@bp.post("/tickets")
@limiter.limit(_issue_limit, key_func=_issuer_key)
@bp.input(TicketIn, arg_name="body")
@bp.output(TicketOut, status_code=201)
@bp.doc(summary="Issue a queue ticket", description="409 codes: service_closed, outside_hours "
        "(with reason), daily_cap_reached. With a kiosk's device token the ticket is also printed on "
        "the kiosk's printer: `print_state` (printed, sent, queued_for_agent, failed; none without a "
        "printer) and `print_error` {code, message} when it failed; the ticket stands either way.",
        responses=[400, 401, 403, 404, 409, 422])
def issue(body: TicketIn) -> dict[str, Any]:
    source = _issue_source()
    unit = resolve_unit()
    session = db.session()
    service = session.get(Service, body.service_id)
    if service is None or service.unit_id != unit.id:
        raise NotFound("service_not_found")
    if (body.note or body.phone or body.priority_reason) and source not in NOTE_SOURCES:
        raise DomainError("forbidden", status=403)
    phone = normalise_phone(body.phone) if body.phone else None
    ticket = desk.issue_for_citizen(session, unit, service, actor=current_actor(), now=now(),
                                    priority=body.priority, source=source, note=body.note or None,
                                    priority_reason=body.priority_reason or None,
                                    always_open=always_open(), procedure_code=body.procedure_code,
                                    **({"phone": phone} if phone else {}))
    out = ticket_dict(session, unit, ticket, now())
    if source == "kiosk":  # printed on the kiosk's printer, after the ticket is committed
        from onestop.api.printing import print_on_issue

        out.update(print_on_issue(session, unit, ticket, current_device(), out))
    return out


def _ticket(ticket_id: int) -> tuple[Any, Ticket]:
    unit = resolve_unit()
    # ids past the column's range cannot exist (and would overflow the database driver)
    ticket = db.session.get(Ticket, ticket_id) if ticket_id <= MAX_ID else None
    if ticket is None or ticket.unit_id != unit.id:
        raise NotFound("ticket_not_found")
    return unit, ticket


@bp.get("/tickets/<int:ticket_id>")
@bp.output(TicketOut)
@bp.doc(summary="A ticket: state, people ahead, counter when called", responses=[404])
def get_ticket(ticket_id: int) -> dict[str, Any]:
    unit, ticket = _ticket(ticket_id)
    out = ticket_dict(db.session(), unit, ticket, now())
    if not current_user.is_authenticated:  # public: the dossier behind a ticket is staff's business
        out["dossier"] = None
        out["note"] = None  # for the clerks: it may say something about the citizen
        if out.get("booking"):  # the slot is the citizen's to see, the code is a key
            out["booking"] = {**out["booking"], "code": None}
    return out


@bp.post("/tickets/<int:ticket_id>/requeue")
@bp.output(TicketOut)
@bp.doc(summary="A missed citizen came back: the ticket waits again", responses=[401, 403, 404, 409])
@require_user("admin", "manager", "clerk")
def requeue(ticket_id: int) -> dict[str, Any]:
    unit, ticket = _ticket(ticket_id)
    engine.requeue(db.session(), ticket, actor=current_actor(), now=now())
    return ticket_dict(db.session(), unit, ticket, now())
