"""Engine signals -> webhook deliveries, queued in the transaction of the change (outbox).

=================  ================================================================
event              data (no personal data of citizens)
=================  ================================================================
ticket.issued      {ticket: {id, label, service, service_id}, at}
ticket.called      {ticket: {id, label, service, service_id}, counter: {number},
                    recall, at}
dossier.received   {code, state, procedure_code, appointment_at, at}
dossier.changed    {code, state, procedure_code, appointment_at, new_appointment_at,
                    action (state, apology), from_state, at}
rating.created     (accepted as a subscription; queued by the ratings work)
=================  ================================================================
"""

from __future__ import annotations

from typing import Any

from blinker import NamedSignal
from sqlalchemy import event
from sqlalchemy.orm import Session

from onestop import signals
from onestop.db import utcnow
from onestop.dossiers.models import Dossier
from onestop.extensions import db
from onestop.queueing.models import Counter, Ticket
from onestop.queueing.state import iso
from onestop.realtime.hub import ticket_brief
from onestop.webhooks import wakeup
from onestop.webhooks.engine import QUEUED, queue_event


def on_issued(session: Session, ticket: Ticket) -> None:
    data = {"ticket": ticket_brief(session, ticket), "at": iso(ticket.issued_at)}
    queue_event(session, ticket.unit_id, "ticket.issued", data, now=utcnow())


def on_called(session: Session, ticket: Ticket, counter: Counter, recall: bool) -> None:
    now = utcnow()
    at = now if recall else (ticket.called_at or now)
    data = {"ticket": ticket_brief(session, ticket), "counter": {"number": counter.number}, "recall": recall,
            "at": iso(at)}
    queue_event(session, ticket.unit_id, "ticket.called", data, now=now)


def _dossier(dossier: Dossier) -> dict[str, Any]:
    return {"code": dossier.code, "state": dossier.state, "procedure_code": dossier.procedure.code,
            "appointment_at": iso(dossier.appointment_at), "at": iso(dossier.updated_at)}


def on_dossier_received(session: Session, dossier: Dossier) -> None:
    queue_event(session, dossier.unit_id, "dossier.received", _dossier(dossier), now=utcnow())


def on_dossier_changed(session: Session, dossier: Dossier, action: str, from_state: str) -> None:
    data = {**_dossier(dossier), "new_appointment_at": iso(dossier.new_appointment_at),
            "action": action, "from_state": from_state}
    queue_event(session, dossier.unit_id, "dossier.changed", data, now=utcnow())


def _wake_after_commit(session: Session) -> None:
    if session.in_nested_transaction():  # a savepoint released: nothing is visible yet
        return
    if session.info.pop(QUEUED, False):
        wakeup.wake()


def _forget_after_rollback(session: Session) -> None:
    if not session.in_nested_transaction():
        session.info.pop(QUEUED, None)


RECEIVERS: list[tuple[NamedSignal, Any]] = [
    (signals.ticket_issued, on_issued), (signals.ticket_called, on_called),
    (signals.dossier_received, on_dossier_received), (signals.dossier_changed, on_dossier_changed),
]


def connect() -> None:
    """Subscribe to the signals and wake the worker after a commit that queued (idempotent)."""
    for signal, receiver in RECEIVERS:
        signal.connect(receiver, weak=False)
    if not event.contains(db.session_factory, "after_commit", _wake_after_commit):
        event.listen(db.session_factory, "after_commit", _wake_after_commit)
        event.listen(db.session_factory, "after_rollback", _forget_after_rollback)
