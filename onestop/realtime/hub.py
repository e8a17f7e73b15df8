"""Engine signals -> Socket.IO events, emitted only after the transaction commits.

Receivers build each payload while the objects are at hand and park it in the session's
outbox (``session.info``); ``after_commit`` sends the outbox, ``after_rollback`` drops it.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from typing import Any

from blinker import NamedSignal
from flask import Flask
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from onestop import signals
from onestop.db import utcnow
from onestop.dossiers.models import Dossier
from onestop.extensions import db, socketio
from onestop.queueing.catalog import ServiceInfo, service_info
from onestop.queueing.engine import current_ticket
from onestop.queueing.models import Counter, Service, Ticket
from onestop.queueing.outcome import call_outcome
from onestop.queueing.state import iso, waiting_by_service, waiting_in_service
from onestop.realtime import events as ev
from onestop.realtime import instances, namespaces
from onestop.units.models import Unit

log = logging.getLogger(__name__)
Emit = tuple[str, dict[str, Any], str, list[str]]
#: called as ``hook(name, payload)`` right after a /display event is emitted (onestop.ops.metrics)
emit_hooks: list[Callable[[str, dict[str, Any]], None]] = []


def _outbox(session: Session) -> list[Emit]:
    return session.info.setdefault("outbox", [])  # type: ignore[no-any-return]


def _queue(session: Session, name: str, payload: dict[str, Any], namespace: str,
           rooms: list[str]) -> None:
    _outbox(session).append((name, payload, namespace, rooms))


def queue_event(session: Session, name: str, payload: dict[str, Any], namespace: str,
                rooms: list[str]) -> None:
    """For receivers outside this module (``onestop.printing.relay``): the same outbox,
    sent after commit, dropped on rollback."""
    _queue(session, name, payload, namespace, rooms)


def _display_rooms(unit_id: int, zone: str) -> list[str]:
    rooms = [ev.unit_room(unit_id)]
    return rooms + [ev.zone_room(unit_id, zone)] if zone else rooms


def _service(session: Session, ticket: Ticket) -> ServiceInfo:
    """The ticket's field: name, code and zone, held per process (``onestop.queueing.catalog``)."""
    return service_info(session, ticket.unit_id, ticket.service_id)


def ticket_brief(session: Session, ticket: Ticket) -> dict[str, Any]:
    """``{id, label, service, service_id, booked}``: a ticket as every event carries it
    (``booked``: checked in for a booking, the hall display's badge)."""
    return {"id": ticket.id, "label": ticket.label, "service": _service(session, ticket).name,
            "service_id": ticket.service_id, "booked": ticket.source == "booking"}


def _waiting_after_call(session: Session, ticket: Ticket) -> list[dict[str, int]]:
    """People still waiting in the called ticket's field, counted in the call's own
    transaction. Carried by ``ticket.called`` so that a display updates its waiting list
    from the call itself: the ``queue.changed`` that would follow (another frame to every
    display, which at 500 displays costs as much as the call's own) is then skipped for
    displays when it would say the same (``QueueNotifier.shown``)."""
    # Without a flush: the call itself was an UPDATE ... RETURNING, and what the ORM still
    # holds (the previous ticket's finish, the event rows) does not change who waits. Were a
    # count ever off, the tick's recount after commit differs from it and sends the right
    # one (QueueNotifier.shown). A flush here would cost a second one at commit.
    n = waiting_in_service(session, ticket.unit_id, ticket.service_id, ticket.business_date)
    shown = session.info.setdefault("display_waiting", {})
    shown[(ticket.unit_id, ticket.service_id)] = n
    return [{"service_id": ticket.service_id, "waiting": n}]


def on_called(session: Session, ticket: Ticket, counter: Counter, recall: bool) -> None:
    service = _service(session, ticket)
    payload = {"ticket": ticket_brief(session, ticket),
               "counter": {"id": counter.id, "number": counter.number, "name": counter.name},
               "recall": recall, "at": iso(utcnow()),
               "waiting": _waiting_after_call(session, ticket)}
    # call-next finished the previous ticket first: no "idle" flash on the displays
    _drop_display_counter(session, counter.id)
    _freed(session).discard(counter.id)
    _queue(session, ev.TICKET_CALLED, payload, ev.DISPLAY_NS,
           _display_rooms(ticket.unit_id, service.zone))
    _queue(session, ev.TICKET_CALLED, payload, ev.COUNTER_NS, [ev.unit_room(ticket.unit_id)])


def on_issued(session: Session, ticket: Ticket) -> None:
    payload = {"ticket": {**ticket_brief(session, ticket), "priority": ticket.priority},
               "at": iso(ticket.issued_at)}
    _queue(session, ev.TICKET_ISSUED, payload, ev.COUNTER_NS, [ev.unit_room(ticket.unit_id)])


def on_changed(session: Session, ticket: Ticket, action: str) -> None:
    payload = {"ticket": {"id": ticket.id, "label": ticket.label, "state": ticket.state,
                          "service_id": ticket.service_id, "counter_id": ticket.counter_id},
               "action": action, "at": iso(utcnow())}
    _queue(session, ev.TICKET_CHANGED, payload, ev.COUNTER_NS, [ev.unit_room(ticket.unit_id)])
    if ticket.counter_id is not None and ticket.state not in ("called", "serving"):
        # the ticket left its counter (finish, skip, park, transfer, expire): displays learn
        # the counter is free from a counter.changed, built just before commit unless a
        # call in the same transaction makes it moot
        _freed(session).add(ticket.counter_id)
        # ... saying which ticket left and how, so the hall labels it (missed, transferred)
        session.info.setdefault("left_counters", {})[ticket.counter_id] = {
            "id": ticket.id, "label": ticket.label, "outcome": call_outcome(ticket.state, action)}


def _freed(session: Session) -> set[int]:
    return session.info.setdefault("freed_counters", set())  # type: ignore[no-any-return]


def on_queue(session: Session, unit_id: int, service_ids: list[int]) -> None:
    """Waiting counts change: counted and sent after commit, coalesced (see ``QueueNotifier``)."""
    session.info.setdefault("queue_dirty", {}).setdefault(unit_id, set()).update(service_ids)


class QueueNotifier:
    """Sends ``queue.changed`` at most every ``interval`` seconds per process.

    A burst of issues or calls (hundreds a second) becomes one count query and one frame per
    display per interval instead of one per request; with ``interval`` 0 (tests) each commit
    is counted and sent at once.
    """

    def __init__(self) -> None:
        self.pending: dict[int, set[int]] = {}
        self.interval = 0.0
        self.running = False
        #: (unit_id, service_id) -> the waiting count a ticket.called of this process carried
        #: since the last tick: if the tick counts the same, displays have it and get no
        #: queue.changed (the /counter namespace still gets every one). Kept for one tick
        #: only: with several instances, another one may have sent displays a newer count
        #: since, and an older memory would wrongly hold back a change back to this count.
        self.shown: dict[tuple[int, int], int] = {}

    def mark(self, dirty: dict[int, set[int]]) -> None:
        for unit_id, service_ids in dirty.items():
            self.pending.setdefault(unit_id, set()).update(service_ids)
        if self.interval <= 0:
            self.send()
        elif not self.running:
            self.running = True
            socketio.start_background_task(self._loop)

    def _loop(self) -> None:
        while True:
            socketio.sleep(self.interval)
            try:
                self.send()
            except Exception:  # keep the loop alive: the next interval retries
                log.exception("queue.changed could not be sent")

    def send(self) -> None:
        if not self.pending:
            return
        pending, self.pending = self.pending, {}
        shown, self.shown = self.shown, {}
        # a session of its own, outside any app context: this may run inside the
        # after_commit of a request's session, which must not be closed from here
        session = db.session_factory()
        try:
            for unit_id, service_ids in pending.items():
                _emit_queue(session, unit_id, sorted(service_ids), shown)
        finally:
            session.close()


def _emit_queue(session: Session, unit_id: int, service_ids: list[int],
                shown: dict[tuple[int, int], int]) -> None:
    unit = session.get(Unit, unit_id)
    if unit is None:
        return
    counts = waiting_by_service(session, unit, unit.business_date(utcnow()))
    news = [s for s in service_ids if shown.get((unit_id, s)) != counts.get(s, 0)]
    zones = sorted({z for z in session.scalars(
        select(Service.zone).where(Service.id.in_(news))) if z}) if news else []
    session.rollback()  # end the read transaction before touching the network
    waiting = [{"service_id": s, "waiting": counts.get(s, 0)} for s in service_ids]
    if news:
        socketio.emit(ev.QUEUE_CHANGED,
                      {"unit_id": unit_id, "waiting": [w for w in waiting if w["service_id"] in news]},
                      namespace=ev.DISPLAY_NS,
                      to=[ev.unit_room(unit_id)] + [ev.zone_room(unit_id, z) for z in zones])
    socketio.emit(ev.QUEUE_CHANGED, {"unit_id": unit_id, "waiting": waiting},
                  namespace=ev.COUNTER_NS, to=[ev.unit_room(unit_id)])


queue_notifier = QueueNotifier()


def _counter_payload(session: Session, counter: Counter) -> dict[str, Any]:
    ticket = current_ticket(session, counter)
    serving = {"id": ticket.id, "label": ticket.label, "state": ticket.state,
               "service_id": ticket.service_id, "service": _service(session, ticket).name} if ticket else None
    return {"counter": {"id": counter.id, "number": counter.number, "name": counter.name,
                        "state": counter.state, "pause_reason": counter.pause_reason,
                        "clerk_id": counter.clerk_id, "zone": counter.zone, "serving": serving}}


def _is_display_counter(item: Emit, counter_id: int) -> bool:
    return (item[0] == ev.COUNTER_CHANGED and item[2] == ev.DISPLAY_NS
            and item[1]["counter"]["id"] == counter_id)


def _drop_display_counter(session: Session, counter_id: int) -> None:
    box = _outbox(session)
    box[:] = [e for e in box if not _is_display_counter(e, counter_id)]


def _queue_display_counter(session: Session, counter: Counter, payload: dict[str, Any]) -> None:
    """One counter.changed per counter and commit on /display (the latest state wins), sent
    to the unit room and the counter's zone room."""
    _drop_display_counter(session, counter.id)
    _queue(session, ev.COUNTER_CHANGED, payload, ev.DISPLAY_NS,
           _display_rooms(counter.unit_id, counter.zone))


def on_counter(session: Session, counter: Counter) -> None:
    payload = _counter_payload(session, counter)
    _queue_display_counter(session, counter, payload)
    _queue(session, ev.COUNTER_CHANGED, payload, ev.COUNTER_NS, [ev.unit_room(counter.unit_id)])


def on_day_closed(session: Session, unit_id: int, business_date: dt.date, expired: int) -> None:
    payload = {"unit_id": unit_id, "business_date": business_date.isoformat(), "expired": expired}
    _queue(session, ev.DAY_CLOSED, payload, ev.COUNTER_NS, [ev.unit_room(unit_id)])


def _dossier_brief(dossier: Dossier) -> dict[str, Any]:
    """Staff screens and counter-bound tablets share the unit room: code and state, no
    applicant data."""
    return {"code": dossier.code, "state": dossier.state, "procedure_code": dossier.procedure.code,
            "service_id": dossier.service_id, "appointment_at": iso(dossier.appointment_at),
            "due_at": iso(dossier.due_at)}


def on_dossier_received(session: Session, dossier: Dossier) -> None:
    payload = {"dossier": _dossier_brief(dossier), "at": iso(dossier.updated_at)}
    _queue(session, ev.DOSSIER_RECEIVED, payload, ev.COUNTER_NS, [ev.unit_room(dossier.unit_id)])


def on_dossier_changed(session: Session, dossier: Dossier, action: str, from_state: str) -> None:
    payload = {"dossier": _dossier_brief(dossier), "action": action, "from_state": from_state,
               "at": iso(dossier.updated_at)}
    _queue(session, ev.DOSSIER_CHANGED, payload, ev.COUNTER_NS, [ev.unit_room(dossier.unit_id)])


def on_device_disowned(session: Session, device: Any) -> None:
    """A revoked or re-keyed device: after commit, its open sockets on this instance are
    closed (the token they connected with no longer opens anything)."""
    session.info.setdefault("disowned_devices", set()).add(device.id)


DEVICE_NAMESPACES = (ev.DISPLAY_NS, ev.COUNTER_NS, ev.AGENT_NS)


def _disconnect_device(device_id: int) -> None:
    for namespace in DEVICE_NAMESPACES:  # on every instance (through the Redis queue)
        instances.disconnect_room(socketio.server, namespace, ev.device_room(device_id))


def on_user_disowned(session: Session, user_id: int, token_hash: str | None = None) -> None:
    """A disabled user or revoked tokens: after commit, the /counter sockets opened with
    them are closed on every instance (one token's, or all of the user's)."""
    room = namespaces.token_room(token_hash) if token_hash else namespaces.user_room(user_id)
    session.info.setdefault("disowned_rooms", set()).add(room)


def _finalize(session: Session) -> None:
    """Before commit: the display payloads of counters a ticket left in this transaction."""
    if session.in_nested_transaction():  # a savepoint is released, not the transaction
        return
    freed = session.info.pop("freed_counters", None)
    left = session.info.pop("left_counters", None) or {}
    for counter_id in sorted(freed or ()):
        counter = session.get(Counter, counter_id)
        if counter is not None:
            payload = {**_counter_payload(session, counter), "left": left.get(counter_id)}
            _queue_display_counter(session, counter, payload)


def _flush_outbox(session: Session) -> None:
    if session.in_nested_transaction():  # only the outermost commit makes changes visible
        return
    # before the notifier counts: what ticket.called is about to tell displays
    queue_notifier.shown.update(session.info.pop("display_waiting", None) or {})
    dirty = session.info.pop("queue_dirty", None)
    if dirty:
        queue_notifier.mark(dirty)
    for device_id in sorted(session.info.pop("disowned_devices", None) or ()):
        try:
            _disconnect_device(device_id)
        except Exception:  # the revocation stands; the socket goes at its next connect
            log.exception("could not disconnect device %s", device_id)
    for room in sorted(session.info.pop("disowned_rooms", None) or ()):
        try:
            instances.disconnect_room(socketio.server, ev.COUNTER_NS, room)
        except Exception:  # the revocation stands; the socket goes at its next connect
            log.exception("could not disconnect room %s", room)
    session.info.pop("services", None)  # held for one transaction only (_service)
    box = session.info.pop("outbox", None)
    if not box:
        return
    # with several instances: one message on the queue for the whole transaction
    instances.emit_all(socketio.server, box)
    for name, payload, namespace, _rooms in box:
        for hook in emit_hooks if namespace == ev.DISPLAY_NS else ():
            try:
                hook(name, payload)
            except Exception:  # a metric is never worth a failed request
                log.exception("emit hook failed for %s", name)


def _drop_outbox(session: Session) -> None:
    if session.in_nested_transaction():  # a savepoint rolled back; the transaction goes on
        return
    for key in ("outbox", "queue_dirty", "freed_counters", "left_counters", "disowned_devices",
                "disowned_rooms", "display_waiting", "services"):
        session.info.pop(key, None)


_RECEIVERS: list[tuple[NamedSignal, Callable[..., None]]] = [
    (signals.ticket_called, on_called), (signals.ticket_issued, on_issued),
    (signals.ticket_changed, on_changed), (signals.queue_changed, on_queue),
    (signals.counter_changed, on_counter), (signals.day_closed, on_day_closed),
    (signals.dossier_received, on_dossier_received), (signals.dossier_changed, on_dossier_changed),
    (signals.device_disowned, on_device_disowned), (signals.user_disowned, on_user_disowned),
]


def init_app(app: Flask) -> None:
    """Subscribe to the engine's signals and register the namespaces (idempotent)."""
    for signal, receiver in _RECEIVERS:
        signal.connect(receiver, weak=False)
    queue_notifier.interval = float(app.config.get("QUEUE_EVENT_INTERVAL_S", 0.25))
    queue_notifier.shown.clear()  # one app per process in production; tests make many
    if not event.contains(db.session_factory, "after_commit", _flush_outbox):
        event.listen(db.session_factory, "before_commit", _finalize)
        event.listen(db.session_factory, "after_commit", _flush_outbox)
        event.listen(db.session_factory, "after_rollback", _drop_outbox)
    namespaces.register(socketio)
    # after a message-queue outage, this instance's displays get a fresh snapshot
    instances.on_recovered(socketio.server, lambda: namespaces.resync_displays(app, socketio.server))
