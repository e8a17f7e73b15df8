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
dossier.ready      {code, state, procedure_code, appointment_at, at, pickup_place}
dossier.supplement_requested
                   {code, state, procedure_code, appointment_at, at, missing: [str],
                    reason}
dossier.returned   {code, state, procedure_code, appointment_at, at, by_applicant}
=================  ================================================================

The last three come with ``dossier.changed`` for the same change: a subscriber that only
wants to tell a citizen something takes them alone.
"""

from __future__ import annotations

from typing import Any

from blinker import NamedSignal
from sqlalchemy.orm import Session

from onestop import signals
from onestop.db import utcnow
from onestop.dossiers.models import Dossier
from onestop.extensions import db
from onestop.outbox_loop import ring_after_commit
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


def on_dossier_ready(session: Session, dossier: Dossier, from_state: str, details: dict[str, Any]) -> None:
    data = {**_dossier(dossier), "pickup_place": str(details.get("pickup_place") or "")}
    queue_event(session, dossier.unit_id, "dossier.ready", data, now=utcnow())


def on_dossier_supplement(session: Session, dossier: Dossier, from_state: str,
                          details: dict[str, Any]) -> None:
    data = {**_dossier(dossier), "missing": list(details.get("missing") or []),
            "reason": str(details.get("reason") or "")}
    queue_event(session, dossier.unit_id, "dossier.supplement_requested", data, now=utcnow())


def on_dossier_returned(session: Session, dossier: Dossier, from_state: str,
                        details: dict[str, Any]) -> None:
    # who collected it is personal data: only whether it was the applicant
    collected = details.get("collected_by") or {}
    data = {**_dossier(dossier), "by_applicant": bool(collected.get("by_applicant", True))}
    queue_event(session, dossier.unit_id, "dossier.returned", data, now=utcnow())


RECEIVERS: list[tuple[NamedSignal, Any]] = [
    (signals.ticket_issued, on_issued), (signals.ticket_called, on_called),
    (signals.dossier_received, on_dossier_received), (signals.dossier_changed, on_dossier_changed),
    (signals.dossier_ready, on_dossier_ready),
    (signals.dossier_supplement_requested, on_dossier_supplement),
    (signals.dossier_returned, on_dossier_returned),
]


def connect() -> None:
    """Subscribe to the signals and wake the worker after a commit that queued (idempotent)."""
    for signal, receiver in RECEIVERS:
        signal.connect(receiver, weak=False)
    ring_after_commit(db.session_factory, QUEUED, lambda: wakeup.wake())
