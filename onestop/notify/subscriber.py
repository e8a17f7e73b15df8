"""Engine signals -> messages to citizens, queued in the transaction of the change (outbox).

=========================  =================================================================
signal                     messages
=========================  =================================================================
ticket_issued              a ticket with a phone (taken from a phone, a booking checked
                           in) subscribes it
ticket_called              ``ticket.called`` to the called ticket's addresses (not on a
                           recall); ``ticket.near`` to tickets of the field that now have
                           ``notify_ahead`` or fewer people ahead (once per ticket)
ticket_changed             cancel, requeue, transfer, return, move: the line moved, the same
                           "near" check; transfer: ``ticket.transferred`` to its addresses
dossier_received           the applicant's phone and e-mail subscribe the dossier
dossier_ready              ``dossier.ready``
dossier_supplement_req.    ``dossier.supplement_requested``
booking_changed            booked: the phone subscribes, ``booking.confirmed`` and two
(when onestop.signals      ``booking.reminder`` (the day before, an hour before);
 has it)                   cancelled: ``booking.cancelled``
day_closed                 the day's ticket and booking addresses are erased
=========================  =================================================================

Links in messages (the ticket's, the dossier's page) are made here, with the app's settings;
outside an app (a bare script) messages carry no link.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from blinker import NamedSignal
from flask import current_app, has_app_context
from sqlalchemy.orm import Session

from onestop import signals
from onestop.db import utcnow
from onestop.dossiers.models import Dossier
from onestop.extensions import db
from onestop.notify import engine, wakeup
from onestop.notify.engine import QUEUED
from onestop.outbox_loop import ring_after_commit
from onestop.queueing.catalog import service_info
from onestop.queueing.engine import queue_position
from onestop.queueing.errors import DomainError
from onestop.queueing.models import Counter, Ticket
from onestop.tokens import ticket_url
from onestop.units.models import Unit

MOVES = ("cancel", "requeue", "transfer", "return", "move")
ENABLED = "notify_enabled"  # app.extensions key, set by worker.init_app


def enabled() -> bool:
    """Messages are queued only in an app with a channel configured (no outbox to fill, no
    address to keep, when nothing can be sent)."""
    return has_app_context() and bool(current_app.extensions.get(ENABLED))


def _settings() -> tuple[str, str] | None:
    if not has_app_context():
        return None
    return str(current_app.config["PUBLIC_BASE_URL"]), str(current_app.config["SECRET_KEY"])


def ticket_link(ticket_id: int) -> str:
    found = _settings()
    return ticket_url(found[0], found[1], ticket_id) if found else ""


def dossier_link(code: str) -> str:
    from onestop.dossiers.lookup import lookup_url

    found = _settings()
    return lookup_url(found[0], found[1], code) if found else ""


def _ticket_data(session: Session, ticket: Any) -> dict[str, Any]:
    field = service_info(session, ticket.unit_id, ticket.service_id)
    return {"label": ticket.label, "field": field.name, "link": ticket_link(ticket.id)}


def _near_rows(session: Session, unit: Unit, ticket: Any, targets: list[engine.Target],
               now: dt.datetime) -> list[engine.Row]:
    """``ticket.near`` for ``targets`` (the ticket's addresses not told yet) if the ticket has
    ``notify_ahead`` or fewer people ahead in the real call order."""
    if ticket.state != "waiting" or ticket.business_date != unit.business_date(now):
        return []
    ahead, _line = queue_position(session, unit, ticket)
    if ahead > int(unit.setting("notify_ahead")):
        return []
    data = {**_ticket_data(session, ticket), "ahead": ahead}
    return [(t, "ticket.near", data, "near") for t in targets]  # once: the insert skips a repeat


def check_near(session: Session, unit: Unit, ticket: Ticket, now: dt.datetime) -> None:
    """A ticket just subscribed: told at once if it is already near."""
    subs = engine.subscriptions(session, "ticket", ticket.id)
    told = engine.told_near(session, [s.id for s in subs])
    targets = [engine.target_of(s) for s in subs if s.id not in told]
    engine.queue_many(session, _near_rows(session, unit, ticket, targets, now), now=now)


def _line_moved(session: Session, ticket: Any, now: dt.datetime, called: Ticket | None = None,
                counter: Counter | None = None) -> None:
    """The line of ``ticket``'s field moved: one statement finds who may be concerned, and
    only they cost more (their place, a claim, one insert for every message of the move)."""
    unit = session.get(Unit, ticket.unit_id)
    if unit is None:
        return
    candidates = engine.queue_moved(session, unit, ticket.service_id, now=now, called=called)
    if not candidates:
        return
    rows: list[engine.Row] = []
    near: dict[int, tuple[Any, list[engine.Target]]] = {}
    for candidate in candidates:
        if called is not None and candidate.ticket.id == called.id:
            continue
        near.setdefault(candidate.ticket.id, (candidate.ticket, []))[1].append(candidate.target)
    if called is not None and counter is not None:
        targets = [c.target for c in candidates if c.ticket.id == called.id]
        if targets:
            data = {**_ticket_data(session, called), "counter": counter.number}
            stamp = int((called.called_at or now).timestamp())
            rows += [(t, "ticket.called", data, f"called:{stamp}") for t in targets]
    for waiting, targets in near.values():
        rows += _near_rows(session, unit, waiting, targets, now)
    engine.queue_many(session, rows, now=now)


def on_issued(session: Session, ticket: Ticket) -> None:
    """A number taken from a phone, or a booking checked in, with a phone: it subscribes."""
    phone = getattr(ticket, "phone", None)
    if not phone or not enabled():
        return
    unit = session.get(Unit, ticket.unit_id)
    if unit is None:
        return
    try:
        engine.subscribe(session, unit, "ticket", ticket.id, phone, business_date=ticket.business_date,
                         now=utcnow())
    except DomainError:
        return


def on_called(session: Session, ticket: Ticket, counter: Counter, recall: bool) -> None:
    if not recall and enabled():
        _line_moved(session, ticket, utcnow(), called=ticket, counter=counter)


def on_changed(session: Session, ticket: Any, action: str) -> None:
    if action not in MOVES or not isinstance(ticket, Ticket) or not enabled():
        return
    now = utcnow()
    if action == "transfer":
        stamp = int(now.timestamp())
        engine.queue_all(session, "ticket", ticket.id, "ticket.transferred", _ticket_data(session, ticket),
                         dedup=f"transfer:{stamp}", now=now)
    _line_moved(session, ticket, now)


def on_dossier_received(session: Session, dossier: Dossier) -> None:
    unit = session.get(Unit, dossier.unit_id)
    if unit is None or not enabled():
        return
    now = utcnow()
    for raw in (dossier.applicant_phone, dossier.applicant_email):
        if not raw:
            continue
        try:
            engine.subscribe(session, unit, "dossier", dossier.id, raw,
                             business_date=unit.business_date(now), now=now)
        except DomainError:  # a landline or a typo: the dossier stands, no message
            continue


def _dossier_event(session: Session, dossier: Dossier, event: str) -> None:
    if not enabled():
        return
    now = utcnow()
    data = {"code": dossier.code, "link": dossier_link(dossier.code)}
    engine.queue_all(session, "dossier", dossier.id, event, data,
                     dedup=f"{event.split('.')[1][:12]}:{int(now.timestamp())}", now=now)


def on_dossier_ready(session: Session, dossier: Dossier, from_state: str, details: dict[str, Any]) -> None:
    _dossier_event(session, dossier, "dossier.ready")


def on_dossier_supplement(session: Session, dossier: Dossier, from_state: str,
                          details: dict[str, Any]) -> None:
    _dossier_event(session, dossier, "dossier.supplement_requested")


def on_day_closed(session: Session, unit_id: int, business_date: dt.date, expired: int) -> None:
    engine.erase_day(session, unit_id, business_date, utcnow())


RECEIVERS: list[tuple[NamedSignal, Any]] = [
    (signals.ticket_issued, on_issued), (signals.ticket_called, on_called),
    (signals.ticket_changed, on_changed),
    (signals.dossier_received, on_dossier_received), (signals.dossier_ready, on_dossier_ready),
    (signals.dossier_supplement_requested, on_dossier_supplement), (signals.day_closed, on_day_closed),
]


def connect(more: list[tuple[Any, Any]] | None = None) -> None:
    """Subscribe to the signals (with ``more`` receivers: the bookings', which the worker
    passes) and wake the loop after a commit that queued (idempotent)."""
    for signal, receiver in RECEIVERS + (more or []):
        signal.connect(receiver, weak=False)
    ring_after_commit(db.session_factory, QUEUED, wakeup.BELL.wake)
