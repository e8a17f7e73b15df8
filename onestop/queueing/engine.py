"""The queue engine: every rule about tickets and counters, as plain functions.

Each function takes the ``Session``, the acting ``Actor`` and ``now`` (an aware UTC
datetime). They never commit, never read the clock or the request: the caller owns the
transaction. Each change writes a ``TicketEvent`` (or ``CounterEvent``) and sends a signal
from ``onestop.signals``. Refusals raise ``DomainError`` with a stable code.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Date, Integer, String, bindparam, cast, column, func, insert, select, text, update
from sqlalchemy.orm import Session, lazyload, with_expression
from sqlalchemy.orm.util import identity_key

from onestop import signals
from onestop.bookings.states import mark_no_shows
from onestop.db import UTCDateTime, give_back_sequence, mark_written, next_sequence
from onestop.dossiers.models import Procedure
from onestop.queueing import policy
from onestop.queueing.errors import DomainError, NotFound
from onestop.queueing.estimate import (
    FieldQueue,
    ahead_in_call_order,
    estimate_wait_minutes,
    interleave_step,
)
from onestop.queueing.models import (
    PRIORITIES,
    Counter,
    CounterEvent,
    CounterService,
    Service,
    Ticket,
    TicketEvent,
)
from onestop.queueing.schedule import availability
from onestop.units.models import Unit


@dataclass(frozen=True)
class Actor:
    """Who acts: a user, a device, or neither (the system itself)."""

    user_id: int | None = None
    device_id: int | None = None


SYSTEM = Actor()
CURRENT_STATES = ("called", "serving")


def _event(
    session: Session, ticket: Ticket, action: str, from_state: str | None, actor: Actor,
    now: dt.datetime, **details: Any,
) -> None:
    # A Core insert on the transaction's connection: the row is there for any later query of
    # this transaction, without a unit-of-work flush (on every issue and call, that flush was
    # the dearest part of writing the event).
    session.connection().execute(_INSERT_EVENT, {
        "ticket_id": ticket.id, "at": now, "action": action, "from_state": from_state,
        "to_state": ticket.state, "actor_user_id": actor.user_id,
        "actor_device_id": actor.device_id, "counter_id": ticket.counter_id,
        "service_id": ticket.service_id, "details": details,
    })


_INSERT_EVENT = insert(TicketEvent.__table__)  # type: ignore[arg-type]


def _queue_changed(session: Session, unit_id: int, *service_ids: int) -> None:
    signals.queue_changed.send(session, unit_id=unit_id, service_ids=sorted(set(service_ids)))


def make_label(service: Service, number: int) -> str:
    if service.block_start is not None:
        return f"{service.prefix}{number}"
    return f"{service.prefix}{number:03d}"


# --- issuing -------------------------------------------------------------------------


def issue_ticket(
    session: Session, unit: Unit, service: Service, *, actor: Actor, now: dt.datetime,
    priority: str = "none", source: str = "api", always_open: bool = False,
    procedure_code: str | None = None, dossier_id: int | None = None, purpose: str | None = None,
    target_counter_id: int | None = None, queue_at: dt.datetime | None = None,
    over_cap: bool = False, phone: str | None = None, origin: str | None = None,
) -> Ticket:
    """Issue the next ticket of ``service``, numbered per service and business date.

    ``procedure_code``: the procedure the citizen chose (kept on the ticket for the clerk);
    it must be an active procedure of the unit in that field. ``dossier_id``, ``purpose``
    and ``target_counter_id``: a ticket taken for a dossier (``onestop.dossiers.pickup``),
    sent to one counter when given. ``queue_at``: its place in the queue when not its issue
    time, ``over_cap``: past the daily cap all the same, ``phone`` and ``origin``: the
    citizen's number and a hash of the address (a booking's check-in and a number taken
    from a phone, ``onestop.bookings.engine``).
    Raises ``DomainError`` ``service_closed`` / ``outside_hours`` (with ``reason``),
    ``daily_cap_reached``, ``invalid_priority`` or ``invalid_procedure`` (422).
    """
    if service.unit_id != unit.id:
        raise NotFound("service_not_found")
    if priority not in PRIORITIES or (
        priority != "none" and priority not in unit.setting("priority_classes")
    ):
        raise DomainError("invalid_priority", status=422, priority=priority)
    if procedure_code is not None:
        _check_procedure(session, service, procedure_code)
    state = availability(service, unit.local(now), always_open)
    if not state.open:
        raise DomainError(state.code or "service_closed", reason=state.reason)
    business_date = unit.business_date(now)
    scope = f"service:{service.id}"
    if session.get_bind().dialect.name == "postgresql":
        ticket = _issue_pg(session, unit, service, scope, business_date, actor=actor, now=now,
                           priority=priority, source=source, procedure_code=procedure_code,
                           dossier_id=dossier_id, purpose=purpose,
                           target_counter_id=target_counter_id, queue_at=queue_at,
                           over_cap=over_cap, phone=phone, origin=origin)
        signals.ticket_issued.send(session, ticket=ticket)
        _queue_changed(session, unit.id, service.id)
        return ticket
    seq = next_sequence(session, scope, business_date)
    number = seq if service.block_start is None else service.block_start + seq - 1
    if (service.daily_cap and seq > service.daily_cap and not over_cap) or (
        service.block_end is not None and number > service.block_end
    ):
        # give the number back even if the caller commits: nobody else can have taken one
        # since, the counter row stays locked by this transaction until it ends
        give_back_sequence(session, scope, business_date)
        raise DomainError("daily_cap_reached", cap=service.daily_cap)
    ticket = Ticket(
        unit_id=unit.id, service_id=service.id, issued_service_id=service.id,
        business_date=business_date, number=number, label=make_label(service, number),
        priority=priority, source=source, state="waiting", issued_at=now,
        queue_at=queue_at or now, device_id=actor.device_id, procedure_code=procedure_code,
        phone=phone, origin=origin,
        dossier_id=dossier_id, purpose=purpose, target_counter_id=target_counter_id,
    )
    session.add(ticket)
    session.flush()
    _event(session, ticket, "issue", None, actor, now, priority=priority, source=source)
    signals.ticket_issued.send(session, ticket=ticket)
    _queue_changed(session, unit.id, service.id)
    return ticket


# Every column of a ticket, as an UPDATE or INSERT gives it back to be loaded (``columns``).
_TICKET_COLUMNS = list(Ticket.__table__.columns)
_RETURNING_TICKET = " RETURNING " + ", ".join(c.name for c in _TICKET_COLUMNS)


# PostgreSQL: number, ticket and its "issue" event in one statement (data-modifying CTEs).
# The day's counter row is locked by the first part until the transaction ends (gapless
# numbering); taking the number in the same round trip as the writes that depend on it
# leaves only the caller's reads (the ticket's place in the queue) and the COMMIT under
# that lock, instead of three more round trips and the ORM's flush. A number past the cap
# or the block inserts nothing (no row comes back) and is given back, as on SQLite.
_ISSUE_PG = (select(Ticket).from_statement(text(
    "WITH seq AS (INSERT INTO daily_counters (scope, business_date, last) VALUES (:scope, :day, 1)"
    " ON CONFLICT (scope, business_date) DO UPDATE SET last = daily_counters.last + 1"
    " RETURNING last),"
    " num AS (SELECT last, coalesce(CAST(:block_start AS INTEGER) + last - 1, last) AS number"
    " FROM seq),"
    " t AS (INSERT INTO tickets (unit_id, service_id, issued_service_id, business_date, number,"
    " label, priority, source, state, issued_at, queue_at, target_counter_id, recall_count,"
    " device_id, print_state, procedure_code, dossier_id, purpose, phone, origin)"
    " SELECT :unit, :service, :service, :day, number, CAST(:prefix AS VARCHAR) || CASE WHEN"
    " CAST(:block_start AS INTEGER) IS NOT NULL OR number >= 100 THEN number::text"
    " ELSE lpad(number::text, 3, '0') END, :priority, :source, 'waiting', :now, :queue_at,"
    " :target, 0, :device, 'none', :procedure, :dossier, :purpose, :phone, :origin FROM num"
    " WHERE (CAST(:cap AS INTEGER) IS NULL OR last <= CAST(:cap AS INTEGER))"
    " AND (CAST(:block_end AS INTEGER) IS NULL OR number <= CAST(:block_end AS INTEGER))"
    + _RETURNING_TICKET + "),"
    " ev AS (INSERT INTO ticket_events (ticket_id, at, action, from_state, to_state,"
    " actor_user_id, actor_device_id, counter_id, service_id, details)"
    " SELECT id, :now, 'issue', NULL, state, :actor_user, :actor_device, NULL, service_id,"
    " :details FROM t)"
    " SELECT " + ", ".join(c.name for c in _TICKET_COLUMNS) + " FROM t"
).bindparams(bindparam("now", type_=UTCDateTime), bindparam("queue_at", type_=UTCDateTime),
             bindparam("day", type_=Date),
             bindparam("details", type_=TicketEvent.__table__.c.details.type))
   .columns(*_TICKET_COLUMNS)))


def _issue_pg(session: Session, unit: Unit, service: Service, scope: str,
              business_date: dt.date, *, actor: Actor, now: dt.datetime, priority: str,
              source: str, procedure_code: str | None, dossier_id: int | None,
              purpose: str | None, target_counter_id: int | None,
              queue_at: dt.datetime | None, over_cap: bool, phone: str | None,
              origin: str | None) -> Ticket:
    """``issue_ticket``'s numbering and writes on PostgreSQL, in one round trip."""
    cap = service.daily_cap if service.daily_cap and not over_cap else None
    ticket = session.scalars(_ISSUE_PG, {
        "scope": scope, "day": business_date, "block_start": service.block_start,
        "block_end": service.block_end, "cap": cap, "prefix": service.prefix,
        "unit": unit.id, "service": service.id, "priority": priority, "source": source,
        "now": now, "queue_at": queue_at or now, "target": target_counter_id,
        "device": actor.device_id, "procedure": procedure_code, "dossier": dossier_id,
        "purpose": purpose, "phone": phone, "origin": origin, "actor_user": actor.user_id,
        "actor_device": actor.device_id, "details": {"priority": priority, "source": source},
    }).one_or_none()
    if ticket is None:  # past the cap or the block: the number goes back (the row is ours)
        give_back_sequence(session, scope, business_date)
        raise DomainError("daily_cap_reached", cap=service.daily_cap)
    mark_written(session)
    return ticket


@dataclass(frozen=True)
class Estimate:
    """What a waiting ticket is told: people ahead in the call order, minutes, and how many
    counters serving its field are open (0: nobody serves it now, so never "soon"; None for
    a ticket that no longer waits: not asked)."""

    ahead: int
    minutes: int
    counters_open: int | None


def queue_position(session: Session, unit: Unit, ticket: Ticket) -> tuple[int, FieldQueue]:
    """People ahead of a waiting ``ticket`` in the real call order (``estimate`` documents
    the model), and its field's line. One statement: it runs on every issue."""
    row = session.execute(_POSITION, {
        "unit": ticket.unit_id, "day": ticket.business_date, "service": ticket.service_id,
        "queue_at": ticket.queue_at, "id": ticket.id}).one()
    line = FieldQueue(normal=int(row.normal), priority=int(row.priority),
                      counters=int(row.counters), pending=int(row.pending))
    ahead = ahead_in_call_order(
        is_priority=ticket.priority != "none", normal_ahead=int(row.normal_ahead),
        priority_ahead=int(row.priority_ahead), line=line, step=interleave_step(unit))
    return ahead, line


def _check_procedure(session: Session, service: Service, code: str) -> None:
    """The procedure must be the unit's, in this field, and still received."""
    found = session.scalar(select(Procedure.id).where(
        Procedure.unit_id == service.unit_id, Procedure.service_id == service.id,
        Procedure.code == code, Procedure.active.is_(True)))
    if found is None:
        raise DomainError("invalid_procedure", status=422, procedure_code=code)


def waiting_ahead(session: Session, ticket: Ticket, unit: Unit | None = None) -> int:
    """People called before ``ticket`` if nobody else arrives: its place in the call order
    of its field (strict priority or N:1 interleave), 0 unless it waits."""
    if ticket.state != "waiting":
        return 0
    unit = unit or session.get(Unit, ticket.unit_id)
    assert unit is not None
    return queue_position(session, unit, ticket)[0]


# On the path of every ticket issued: plain SQL built once (building and keying the
# expression for the cache cost more than running it). The waiting tickets of the field
# (ix_tickets_waiting: unit, date, state, field, priority, queue_at) counted by kind, and
# the open counters serving the field, in one round trip.
_JOINED_BEFORE = "(queue_at, id) < (:queue_at, :id)"
_OPEN_SERVING = (" FROM counters JOIN counter_services ON counter_services.counter_id = counters.id"
                 " WHERE counter_services.service_id = :service AND counters.state = 'open'")
_POSITION = text(
    "SELECT"
    f" coalesce(sum(CASE WHEN priority = 'none' AND {_JOINED_BEFORE} THEN 1 ELSE 0 END), 0)"
    " AS normal_ahead,"
    f" coalesce(sum(CASE WHEN priority != 'none' AND {_JOINED_BEFORE} THEN 1 ELSE 0 END), 0)"
    " AS priority_ahead,"
    " coalesce(sum(CASE WHEN priority = 'none' THEN 1 ELSE 0 END), 0) AS normal,"
    " coalesce(sum(CASE WHEN priority != 'none' THEN 1 ELSE 0 END), 0) AS priority,"
    f" (SELECT count(*){_OPEN_SERVING}) AS counters,"
    f" (SELECT coalesce(max(counters.calls_since_priority), 0){_OPEN_SERVING}) AS pending"
    " FROM tickets WHERE unit_id = :unit AND business_date = :day AND state = 'waiting'"
    " AND service_id = :service"
).bindparams(bindparam("day", type_=Date), bindparam("queue_at", type_=UTCDateTime)
             ).columns(*(column(name, Integer) for name in (
                 "normal_ahead", "priority_ahead", "normal", "priority", "counters", "pending")))


def estimate(session: Session, unit: Unit, ticket: Ticket,
             now: dt.datetime | None = None) -> Estimate:
    """People ahead in the call order, the estimated wait and the open counters of the field
    (the mean service time is cached given ``now``; the counters are counted afresh). A
    ticket that no longer waits costs no query (call-next answers with one)."""
    if ticket.state != "waiting":
        return Estimate(0, 0, None)
    ahead, line = queue_position(session, unit, ticket)
    minutes = estimate_wait_minutes(
        session, ticket.service_id, ahead, float(unit.setting("default_service_minutes")), now,
        counters=line.counters)
    return Estimate(ahead, minutes, line.counters)


def estimate_for(session: Session, unit: Unit, ticket: Ticket,
                 now: dt.datetime | None = None) -> tuple[int, int]:
    """``(waiting_ahead, estimated_wait_minutes)`` for a ticket (see ``estimate``)."""
    result = estimate(session, unit, ticket, now)
    return result.ahead, result.minutes


# --- counters ------------------------------------------------------------------------


# Statements on the path of every call, built once: building an expression and keying it
# for SQLAlchemy's cache cost more than running it.
# The ids of the counter's services come with it (``Counter.served``), its links are left to
# load if used: on every call, their separate select-in query was the dearest part of this.
_SERVED = (select(func.coalesce(func.aggregate_strings(cast(CounterService.service_id, String), ","), ""))
           .where(CounterService.counter_id == Counter.id).scalar_subquery())
_LOCK_COUNTER = (select(Counter).where(Counter.id == bindparam("id")).with_for_update(of=Counter)
                 .options(with_expression(Counter.served, _SERVED), lazyload(Counter.links))
                 .execution_options(populate_existing=True))
_CURRENT = (select(Ticket).where(Ticket.counter_id == bindparam("counter"),
                                 Ticket.state.in_(CURRENT_STATES))
            .order_by(Ticket.called_at.desc()).limit(1))
# On every call-next, the ticket at the counter: its id and state only (the finish below
# loads it from its own RETURNING).
_CURRENT_ID = text(
    "SELECT id, state FROM tickets WHERE counter_id = :counter AND state IN"
    f" ({', '.join(repr(state) for state in CURRENT_STATES)}) ORDER BY called_at DESC LIMIT 1"
).columns(column("id", Integer), column("state", String))
# Finish and claim: ``UPDATE ... RETURNING`` written out and loaded into the ORM's Ticket
# (``from_statement``), not the ORM's own UPDATE: that one keys its SET clause for the cache
# and runs its bulk-update set-up on every call (~35 us each, twice per call-next). The
# returned columns are named and typed (``columns``), so that their mapping to Ticket is
# worked out once, not from the cursor's description on every call (~20 us each).
_FINISH_ROW = text(
    "UPDATE tickets SET state = 'done', finished_at = :now, outcome = :outcome,"
    " serving_at = coalesce(serving_at, called_at)"
    " WHERE id = :ticket AND state = :from_state" + _RETURNING_TICKET
).bindparams(bindparam("now", type_=UTCDateTime)).columns(*_TICKET_COLUMNS)
_FINISH = select(Ticket).from_statement(_FINISH_ROW).execution_options(populate_existing=True)
# PostgreSQL: a change of a ticket and its event in one statement (a data-modifying CTE
# ``changed`` whose rows the event's INSERT reads), as ``_event`` would write it.
_EVENT_FROM_CHANGED = (
    " logged AS (INSERT INTO ticket_events (ticket_id, at, action, from_state, to_state,"
    " actor_user_id, actor_device_id, counter_id, service_id, details)"
    " SELECT id, :now, :action, {from_state}, state, :actor_user, :actor_device, counter_id,"
    " service_id, :details FROM changed)")
_EVENT_TYPES = (bindparam("now", type_=UTCDateTime),
                bindparam("details", type_=TicketEvent.__table__.c.details.type))
_FINISH_CURRENT_PG = text(
    "WITH changed AS (UPDATE tickets SET state = 'done', finished_at = :now, outcome = :outcome,"
    " serving_at = coalesce(tickets.serving_at, tickets.called_at)"
    " FROM (SELECT id, state FROM tickets WHERE counter_id = :counter AND state IN"
    f" ({', '.join(repr(state) for state in CURRENT_STATES)}) ORDER BY called_at DESC LIMIT 1)"
    " AS current WHERE tickets.id = current.id AND tickets.state = current.state"
    " RETURNING current.state AS from_state, "
    + ", ".join(f"tickets.{c.name}" for c in _TICKET_COLUMNS) + "),"
    + _EVENT_FROM_CHANGED.format(from_state="from_state")
    + " SELECT from_state, " + ", ".join(c.name for c in _TICKET_COLUMNS) + " FROM changed"
).bindparams(*_EVENT_TYPES).columns(column("from_state", String), *_TICKET_COLUMNS)
_CLAIM_SQL = ("UPDATE tickets SET state = 'called', counter_id = :counter, called_at = :now,"
              " serving_at = NULL, target_counter_id = NULL, recall_count = 0"
              " WHERE id = :ticket AND state = :from_state" + _RETURNING_TICKET)
_CLAIM = (select(Ticket).from_statement(text(_CLAIM_SQL).bindparams(
    bindparam("now", type_=UTCDateTime)).columns(*_TICKET_COLUMNS))
    .execution_options(populate_existing=True))
# call-next's claim and its "call" event (nothing written when another counter took it)
_CLAIM_LOGGED_PG = (select(Ticket).from_statement(text(
    "WITH changed AS (" + _CLAIM_SQL + ")," + _EVENT_FROM_CHANGED.format(from_state=":from_state")
    + " SELECT " + ", ".join(c.name for c in _TICKET_COLUMNS) + " FROM changed"
).bindparams(*_EVENT_TYPES).columns(*_TICKET_COLUMNS)).execution_options(populate_existing=True))


def lock_counter(session: Session, counter_id: int) -> Counter:
    """Load a counter with a row lock (PostgreSQL; SQLite already holds the write lock)."""
    counter = session.scalar(_LOCK_COUNTER, {"id": counter_id})
    if counter is None:
        raise NotFound("counter_not_found")
    return counter


def current_ticket(session: Session, counter: Counter) -> Ticket | None:
    return session.scalar(_CURRENT, {"counter": counter.id})


def _set_counter_state(
    session: Session, counter: Counter, action: str, state: str, actor: Actor,
    now: dt.datetime, **details: Any,
) -> Counter:
    session.add(CounterEvent(
        counter_id=counter.id, at=now, action=action, from_state=counter.state, to_state=state,
        actor_user_id=actor.user_id, details=details,
    ))
    counter.state = state
    session.flush()
    signals.counter_changed.send(session, counter=counter)
    return counter


def open_counter(session: Session, counter: Counter, user_id: int, *, now: dt.datetime) -> Counter:
    """Sign ``user_id`` in at the counter. Refused (``counter_taken``) if another clerk holds it."""
    if counter.clerk_id not in (None, user_id) and counter.state != "closed":
        raise DomainError("counter_taken", clerk_id=counter.clerk_id)
    counter.clerk_id = user_id
    counter.pause_reason = None
    return _set_counter_state(session, counter, "open", "open", Actor(user_id=user_id), now)


PARKED_CHOICES = ("requeue", "counter")


def close_counter(session: Session, counter: Counter, *, actor: Actor, now: dt.datetime,
                  parked: str | None = None, to_counter_id: int | None = None) -> Counter:
    """Sign out without corrupting the figures or stranding anyone.

    The ticket at the counter: one being served is finished (outcome ``counter_closed``);
    one called but never started becomes ``missed`` (a ``skip`` with reason
    ``counter_closed``): the citizen never reached the desk and can come back.
    Tickets parked here need an explicit choice, checked before anything changes:
    ``parked="requeue"`` puts them back in their field's queue at the place they had,
    ``parked="counter"`` holds them at ``to_counter_id`` (another counter of the unit, open
    or paused). Refusals: ``parked_tickets_need_a_choice`` (409, with ``labels``),
    ``invalid_parked_choice`` (422), ``counter_not_found``, ``target_counter_closed``.
    """
    held = parked_at(session, counter)
    target = _parked_target(session, counter, held, parked, to_counter_id)
    current = current_ticket(session, counter)
    if current is not None and current.state == "serving":
        finish(session, counter, actor=actor, now=now, outcome="counter_closed")
    elif current is not None:
        _leave_counter(session, current, "missed", "skip", actor, now, reason="counter_closed")
    for ticket in held:
        _move_parked(session, ticket, target, actor, now)
    if held:
        _queue_changed(session, counter.unit_id, *{t.service_id for t in held})
    counter.clerk_id = None
    counter.pause_reason = None
    return _set_counter_state(session, counter, "close", "closed", actor, now)


def parked_at(session: Session, counter: Counter) -> list[Ticket]:
    """The tickets held (parked) at ``counter``, oldest first."""
    return list(session.scalars(select(Ticket).where(
        Ticket.counter_id == counter.id, Ticket.state == "parked").order_by(Ticket.id)))


def _parked_target(session: Session, counter: Counter, held: list[Ticket], parked: str | None,
                   to_counter_id: int | None) -> Counter | None:
    """Check the choice for the parked tickets; the counter they move to, if any."""
    if parked is None:
        if held:
            raise DomainError("parked_tickets_need_a_choice", labels=[t.label for t in held])
        return None
    if parked not in PARKED_CHOICES or (parked == "counter") != (to_counter_id is not None):
        raise DomainError("invalid_parked_choice", status=422, parked=parked)
    if parked == "requeue":
        return None
    other = session.get(Counter, to_counter_id)
    if other is None or other.unit_id != counter.unit_id or other.id == counter.id:
        raise NotFound("counter_not_found")
    if other.state == "closed":
        raise DomainError("target_counter_closed", counter=other.number)
    return other


def _move_parked(session: Session, ticket: Ticket, target: Counter | None, actor: Actor,
                 now: dt.datetime) -> None:
    """A parked ticket leaves a closing counter: held at ``target``, or back in its queue
    (its ``queue_at`` kept: the citizen had already waited their turn)."""
    if target is not None:
        from_counter = ticket.counter_id
        ticket.counter_id = target.id
        session.flush()
        _event(session, ticket, "park", "parked", actor, now, note=_park_note(session, ticket),
               from_counter=from_counter, reason="counter_closed")
        signals.ticket_changed.send(session, ticket=ticket, action="park")
        return
    ticket.state, ticket.counter_id, ticket.target_counter_id = "waiting", None, None
    session.flush()
    _event(session, ticket, "requeue", "parked", actor, now, reason="counter_closed")
    signals.ticket_changed.send(session, ticket=ticket, action="requeue")


def _park_note(session: Session, ticket: Ticket) -> str:
    """The note of the ticket's latest park (it follows the ticket to the other counter)."""
    details = session.scalar(select(TicketEvent.details).where(
        TicketEvent.ticket_id == ticket.id, TicketEvent.action == "park")
        .order_by(TicketEvent.id.desc()).limit(1))
    return str((details or {}).get("note") or "")


def pause_counter(
    session: Session, counter: Counter, *, actor: Actor, now: dt.datetime, reason: str
) -> Counter:
    if counter.state != "open":
        raise DomainError("counter_not_open", state=counter.state)
    counter.pause_reason = reason
    return _set_counter_state(session, counter, "pause", "paused", actor, now, reason=reason)


def resume_counter(session: Session, counter: Counter, *, actor: Actor, now: dt.datetime) -> Counter:
    if counter.state != "paused":
        raise DomainError("counter_not_paused", state=counter.state)
    counter.pause_reason = None
    return _set_counter_state(session, counter, "resume", "open", actor, now)


def _require_open(counter: Counter) -> None:
    if counter.state != "open":
        raise DomainError("counter_not_open", state=counter.state)


# --- calling -------------------------------------------------------------------------


def _claim(session: Session, ticket_id: int, from_state: str, counter: Counter,
           now: dt.datetime) -> Ticket | None:
    """Compare-and-set: move the ticket to ``called`` at ``counter`` only if still ``from_state``.

    One ``UPDATE ... RETURNING`` statement; the loaded ticket is refreshed from its result.
    """
    return session.scalars(_CLAIM, {"ticket": ticket_id, "from_state": from_state,
                                    "counter": counter.id, "now": now}).one_or_none()


def _finish_current(session: Session, counter: Counter, actor: Actor,
                    now: dt.datetime) -> dict[str, Any] | None:
    """Finish the ticket at the counter before calling another. Unless this session holds
    it (then it is refreshed as ``finish`` does), it is not made into a ``Ticket``: the row
    of the ``UPDATE ... RETURNING`` (with the same attribute names) is what its event and
    its ``ticket_changed`` receivers read, which saves building a Ticket on every call."""
    session.flush()  # a plain read next: what the ORM holds must be in the database first
    if session.get_bind().dialect.name == "postgresql":
        return _finish_current_pg(session, counter, actor, now)
    current = session.connection().execute(_CURRENT_ID, {"counter": counter.id}).first()
    if current is None:
        return None
    if session.identity_map.get(identity_key(Ticket, current.id)) is None:
        row = session.connection().execute(_FINISH_ROW, {
            "ticket": current.id, "from_state": current.state, "now": now,
            "outcome": "served"}).one()
        _finished(session, row, current.state, actor, now, "served")  # type: ignore[arg-type]
        return {"id": row.id, "label": row.label}
    done = _finish_ticket(session, current.id, current.state, actor, now, "served")
    return {"id": done.id, "label": done.label}


def _finish_current_pg(session: Session, counter: Counter, actor: Actor,
                       now: dt.datetime) -> dict[str, Any] | None:
    """``_finish_current`` on PostgreSQL: the look-up of the ticket at the counter and its
    finish in one statement (``UPDATE ... FROM``, whose ``RETURNING`` also gives the state
    it had), a round trip less on every call-next. A ticket this session holds is expired,
    to be read afresh when used."""
    row = session.connection().execute(_FINISH_CURRENT_PG, {
        "counter": counter.id, "now": now, "outcome": "served", "action": "finish",
        **_actor_params(actor), "details": {"outcome": "served"}}).first()
    if row is None:
        return None
    mark_written(session)
    held = session.identity_map.get(identity_key(Ticket, row.id))
    if held is not None:
        session.expire(held)
    done: Any = held if held is not None else row  # the row reads as a Ticket would
    _finished(session, done, row.from_state, actor, now, "served", logged=True)
    return {"id": row.id, "label": row.label}


def _actor_params(actor: Actor) -> dict[str, Any]:
    return {"actor_user": actor.user_id, "actor_device": actor.device_id}


def _announce_call(session: Session, ticket: Ticket, from_state: str, counter: Counter,
                   actor: Actor, now: dt.datetime, action: str = "call", logged: bool = False,
                   **details: Any) -> Ticket:
    if not logged:  # ``logged``: the claiming statement wrote the event
        _event(session, ticket, action, from_state, actor, now, **details)
    signals.ticket_called.send(session, ticket=ticket, counter=counter, recall=False)
    _queue_changed(session, ticket.unit_id, ticket.service_id)
    return ticket


def call_next(session: Session, unit: Unit, counter: Counter, *, actor: Actor,
              now: dt.datetime) -> Ticket:
    """Finish the counter's current ticket, then call the next one it may serve.

    The choice follows the unit's priority policy and the counter's service mode (see
    ``policy``); the claim is a compare-and-set, so no ticket is ever called twice.

    Raises ``NotFound('queue_empty')`` when nobody waits. The current ticket is finished
    all the same (a clerk who asks for the next citizen is done with this one): the
    refusal carries it as ``finished`` ``{id, label}``, and the caller must commit the
    session before answering (the API does), or the finish is lost with the refusal.
    """
    _require_open(counter)
    finished = _finish_current(session, counter, actor, now)
    business_date = unit.business_date(now)
    logged = session.get_bind().dialect.name == "postgresql"  # claim and event: one statement
    for _attempt in range(5):
        candidates = policy.candidates(session, unit, counter, business_date)
        if not candidates:
            raise NotFound("queue_empty", finished=finished)
        for ticket_id, priority in candidates:
            if logged:
                ticket = session.scalars(_CLAIM_LOGGED_PG, {
                    "ticket": ticket_id, "from_state": "waiting", "counter": counter.id,
                    "now": now, "action": "call", **_actor_params(actor),
                    "details": {}}).one_or_none()
            else:
                ticket = _claim(session, ticket_id, "waiting", counter, now)
            if ticket is not None:
                if logged:
                    mark_written(session)
                _count_since_priority(unit, counter, priority)
                return _announce_call(session, ticket, "waiting", counter, actor, now,
                                      logged=logged)
    raise DomainError("busy_retry", status=503)


def _count_since_priority(unit: Unit, counter: Counter, priority: str) -> None:
    """Normal calls since the last priority call, for N:1 interleaving (``policy``). Only
    "N reached or not" matters, so the count stops at N: in the usual run of normal calls
    the counter row then stays unchanged and is not written on every call."""
    if priority != "none":
        counter.calls_since_priority = 0
    elif counter.calls_since_priority < int(unit.setting("interleave_normal")):
        counter.calls_since_priority += 1


def call_ticket(session: Session, counter: Counter, ticket_id: int, *, actor: Actor,
                now: dt.datetime, reason: str | None = None) -> Ticket:
    """Call one ticket directly: a missed citizen who came back, one parked here, or a
    waiting one out of order (only where the unit's ``out_of_order_calls`` allows it, else
    ``out_of_order_not_allowed``; the ``reason`` is kept on the call's event).

    Refused for a ticket of an earlier business date (``ticket_from_earlier_day``)."""
    _require_open(counter)
    ticket = _get_ticket(session, ticket_id, counter.unit_id)
    _require_today(session, ticket, now)
    details: dict[str, Any] = {}
    if ticket.state == "waiting":
        unit = session.get(Unit, ticket.unit_id)
        if unit is None or not unit.setting("out_of_order_calls"):
            raise DomainError("out_of_order_not_allowed")
        details = {"out_of_order": True, "reason": reason or ""}
    if ticket.state == "parked" and ticket.counter_id != counter.id:
        raise DomainError("parked_elsewhere")
    if ticket.state not in ("waiting", "missed", "parked"):
        raise DomainError("invalid_state", state=ticket.state)
    from_state = ticket.state
    _finish_current(session, counter, actor, now)
    claimed = _claim(session, ticket.id, from_state, counter, now)
    if claimed is None:
        raise DomainError("invalid_state", state="changed")
    if from_state == "missed":
        # the citizen came back now: that is when they rejoined (a transfer keeps this place)
        claimed.queue_at = now
        session.flush()
    action = "unpark" if from_state == "parked" else "call"
    return _announce_call(session, claimed, from_state, counter, actor, now, action, **details)


def _require_today(session: Session, ticket: Ticket, now: dt.datetime) -> None:
    """A ticket of an earlier business date belongs to a closed day's queue."""
    unit = session.get(Unit, ticket.unit_id)
    assert unit is not None
    today = unit.business_date(now)
    if ticket.business_date < today:
        raise DomainError("ticket_from_earlier_day", business_date=ticket.business_date.isoformat(),
                          today=today.isoformat())


def _get_ticket(session: Session, ticket_id: int, unit_id: int) -> Ticket:
    ticket = session.get(Ticket, ticket_id, populate_existing=True)
    if ticket is None or ticket.unit_id != unit_id:
        raise NotFound("ticket_not_found")
    return ticket


def _current_or_fail(session: Session, counter: Counter) -> Ticket:
    ticket = current_ticket(session, counter)
    if ticket is None:
        raise DomainError("no_current_ticket")
    return ticket


def recall(session: Session, unit: Unit, counter: Counter, *, actor: Actor,
           now: dt.datetime) -> Ticket:
    """Call the current ticket again. Past the unit's ``recall_limit`` it becomes missed."""
    _require_open(counter)
    ticket = _current_or_fail(session, counter)
    if ticket.recall_count >= int(unit.setting("recall_limit")):
        return skip(session, counter, actor=actor, now=now, reason="recall_limit")
    ticket.recall_count += 1
    session.flush()
    _event(session, ticket, "recall", ticket.state, actor, now, count=ticket.recall_count)
    signals.ticket_called.send(session, ticket=ticket, counter=counter, recall=True)
    return ticket


def start_serving(session: Session, counter: Counter, *, actor: Actor, now: dt.datetime) -> Ticket:
    """The citizen has arrived at the counter: ``called -> serving``."""
    ticket = _current_or_fail(session, counter)
    if ticket.state != "called":
        raise DomainError("invalid_state", state=ticket.state)
    ticket.state, ticket.serving_at = "serving", now
    session.flush()
    _event(session, ticket, "start", "called", actor, now)
    signals.ticket_changed.send(session, ticket=ticket, action="start")
    return ticket


def _leave_counter(session: Session, ticket: Ticket, state: str, action: str, actor: Actor,
                   now: dt.datetime, **details: Any) -> Ticket:
    from_state = ticket.state
    ticket.state = state
    if state in ("done", "missed", "expired", "cancelled"):
        ticket.finished_at = now
    session.flush()
    _event(session, ticket, action, from_state, actor, now, **details)
    signals.ticket_changed.send(session, ticket=ticket, action=action)
    return ticket


def skip(session: Session, counter: Counter, *, actor: Actor, now: dt.datetime,
         reason: str = "absent") -> Ticket:
    """The citizen did not come: the current ticket becomes ``missed`` (it can return)."""
    ticket = _current_or_fail(session, counter)
    return _leave_counter(session, ticket, "missed", "skip", actor, now, reason=reason)


def finish(session: Session, counter: Counter, *, actor: Actor, now: dt.datetime,
           outcome: str = "served") -> Ticket:
    """Finish the current ticket with an outcome (``served``, ``dossier_received`` ...)."""
    ticket = _current_or_fail(session, counter)
    return _finish_ticket(session, ticket.id, ticket.state, actor, now, outcome)


def _finish_ticket(session: Session, ticket_id: int, from_state: str, actor: Actor,
                   now: dt.datetime, outcome: str) -> Ticket:
    """``from_state`` (called or serving) -> done, in one ``UPDATE ... RETURNING``; a ticket
    never called to serving counts as served from its call."""
    ticket = session.scalars(_FINISH, {"ticket": ticket_id, "from_state": from_state,
                                       "now": now, "outcome": outcome}).one()
    return _finished(session, ticket, from_state, actor, now, outcome)


def _finished(session: Session, ticket: Ticket, from_state: str, actor: Actor, now: dt.datetime,
              outcome: str, logged: bool = False) -> Ticket:
    """After a finish: its event (unless the finishing statement wrote it: ``logged``), the
    signal, and a transferred ticket sent back."""
    if not logged:
        _event(session, ticket, "finish", from_state, actor, now, outcome=outcome)
    signals.ticket_changed.send(session, ticket=ticket, action="finish")
    if ticket.return_counter_id is not None:  # "trả về quầy tôi" (transfer's return_here)
        return send_back(session, ticket, actor, now)
    return ticket


def send_back(session: Session, ticket: Any, actor: Actor, now: dt.datetime) -> Ticket:
    """A transferred ticket the target just finished goes back to the counter that sent it
    ("trả về quầy tôi"): waiting again, for that counter only, at the place it had (its
    ``queue_at``: it is usually first there). ``ticket`` may be the finish's row."""
    back_to = ticket.return_counter_id
    session.execute(update(Ticket).where(Ticket.id == ticket.id).values(
        state="waiting", counter_id=None, target_counter_id=back_to, return_counter_id=None,
        finished_at=None, outcome=None).execution_options(synchronize_session=False))
    back = session.get(Ticket, ticket.id)
    assert back is not None
    session.refresh(back)
    _event(session, back, "return", "done", actor, now, to_counter=back_to)
    signals.ticket_changed.send(session, ticket=back, action="return")
    _queue_changed(session, back.unit_id, back.service_id)
    return back


def park(session: Session, counter: Counter, *, actor: Actor, now: dt.datetime,
         note: str = "") -> Ticket:
    """Hold the current ticket at this counter (the citizen fetches a paper, say)."""
    ticket = _current_or_fail(session, counter)
    return _leave_counter(session, ticket, "parked", "park", actor, now, note=note)


def requeue(session: Session, ticket: Ticket, *, actor: Actor, now: dt.datetime) -> Ticket:
    """A missed citizen came back: the ticket waits again, at the back of its queue.

    Only a ticket of today's business date: one missed on an earlier day cannot join
    today's queue (``ticket_from_earlier_day``, 409; the citizen takes a new number).
    """
    if ticket.state != "missed":
        raise DomainError("invalid_state", state=ticket.state)
    _require_today(session, ticket, now)
    ticket.state, ticket.queue_at, ticket.finished_at = "waiting", now, None
    ticket.counter_id = None
    session.flush()
    _event(session, ticket, "requeue", "missed", actor, now)
    signals.ticket_changed.send(session, ticket=ticket, action="requeue")
    _queue_changed(session, ticket.unit_id, ticket.service_id)
    return ticket


CANCELLABLE = ("waiting", "missed", "parked")


def cancel_ticket(session: Session, ticket: Ticket, *, actor: Actor, now: dt.datetime) -> Ticket:
    """The citizen gives up their place ("Tôi không chờ nữa"): the ticket becomes ``cancelled``.

    Allowed while the ticket is ``waiting``, ``missed`` (absent, could have come back) or
    ``parked`` (held at a counter while fetching a paper): in none of these is a clerk
    serving the citizen. Once ``called`` or ``serving`` the clerk decides (skip or finish):
    refused 409 ``ticket_not_waiting`` with the ``state``, as for a finished ticket. The
    change is a compare-and-set on the state, so a call racing with the cancel wins or
    loses whole: never a called ticket turned cancelled under the clerk.
    """
    from_state = ticket.state
    changed = session.execute(
        update(Ticket).where(Ticket.id == ticket.id, Ticket.state == from_state,
                             Ticket.state.in_(CANCELLABLE))
        .values(state="cancelled", finished_at=now).returning(Ticket.id)
        .execution_options(synchronize_session=False)).first()
    if changed is None:
        session.refresh(ticket)
        raise DomainError("ticket_not_waiting", state=ticket.state)
    session.refresh(ticket)
    _event(session, ticket, "cancel", from_state, actor, now)
    signals.ticket_changed.send(session, ticket=ticket, action="cancel")
    _queue_changed(session, ticket.unit_id, ticket.service_id)
    return ticket


def transfer(
    session: Session, unit: Unit, counter: Counter, *, actor: Actor, now: dt.datetime,
    service_id: int | None = None, to_counter_id: int | None = None,
    note: str | None = None, return_here: bool = False,
) -> Ticket:
    """Send the current ticket to another field or counter; the citizen keeps the number.

    ``note``: for the clerk who calls it next (shown on the card); ``return_here``: when
    the target finishes it, it comes back to this counter's queue (``send_back``).

    With the unit's ``transfer_keeps_place`` the ticket keeps its place in the new queue:
    the time it last joined a queue (``queue_at``: its issue, or its return after being
    missed), never its issue time if it came back since; otherwise it joins at the back.
    """
    ticket = _current_or_fail(session, counter)
    if (service_id is None) == (to_counter_id is None):
        raise DomainError("transfer_target_required", status=422)
    from_service = ticket.service_id
    if service_id is not None:
        target = session.get(Service, service_id)
        if target is None or target.unit_id != unit.id or not target.active:
            raise NotFound("service_not_found")
        ticket.service_id, ticket.target_counter_id = target.id, None
    else:
        other = session.get(Counter, to_counter_id)
        if other is None or other.unit_id != unit.id or other.id == counter.id:
            raise NotFound("counter_not_found")
        ticket.target_counter_id = other.id
    if not unit.setting("transfer_keeps_place"):
        ticket.queue_at = now
    if note:
        ticket.note = note
    ticket.return_counter_id = counter.id if return_here else None
    _leave_counter(session, ticket, "waiting", "transfer", actor, now, from_service=from_service,
                   to_service=service_id, to_counter=to_counter_id,
                   **({"note": note} if note else {}), **({"return_to": counter.id} if return_here else {}))
    ticket.counter_id = None
    session.flush()
    _queue_changed(session, unit.id, from_service, ticket.service_id)
    return ticket


def close_day(session: Session, unit: Unit, *, now: dt.datetime,
              business_date: dt.date | None = None) -> int:
    """Expire every ticket of ``business_date`` (default today) and earlier still open; the
    bookings of those days never checked in become ``no_show``."""
    day = business_date or unit.business_date(now)
    open_tickets = session.scalars(
        select(Ticket).where(Ticket.unit_id == unit.id, Ticket.business_date <= day,
                             Ticket.state.in_(("waiting", "called", "serving", "parked", "missed")))
    ).all()
    for ticket in open_tickets:
        _leave_counter(session, ticket, "expired", "expire", SYSTEM, now)
    mark_no_shows(session, unit, day, now)
    signals.day_closed.send(session, unit_id=unit.id, business_date=day, expired=len(open_tickets))
    if open_tickets:
        _queue_changed(session, unit.id, *{t.service_id for t in open_tickets})
    return len(open_tickets)
