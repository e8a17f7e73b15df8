"""Counters: list, sign in / out, and the clerk's actions on the current ticket."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, Literal

from flask import request
from flask_login import current_user
from pydantic import Field

from onestop.accounts.auth import current_actor, require_user
from onestop.accounts.models import User
from onestop.api import bp
from onestop.api.common import counter_for_action, now, resolve_unit
from onestop.api.schemas import (
    CallTicketIn,
    CounterList,
    CounterOut,
    FinishIn,
    ParkIn,
    PauseIn,
    Strict,
    TicketOut,
    TransferIn,
)
from onestop.extensions import db
from onestop.queueing import engine
from onestop.queueing.errors import NotFound
from onestop.queueing.models import Counter, Ticket
from onestop.queueing.state import counter_dict, counter_list, ticket_dict
from onestop.units.models import Unit

STAFF = ("admin", "manager", "clerk")
MAX_ID = 2**31 - 1


def _counter_out(counter: Counter) -> dict[str, Any]:
    session = db.session()
    clerk = session.get(User, counter.clerk_id) if counter.clerk_id else None
    return counter_dict(counter, engine.current_ticket(session, counter), clerk)


def _act(counter_id: int, action: Callable[[Unit, Counter], Ticket]) -> dict[str, Any]:
    if counter_id > MAX_ID:
        raise NotFound("counter_not_found")
    unit = resolve_unit()
    counter = counter_for_action(counter_id, unit)
    ticket = action(unit, counter)
    return ticket_dict(db.session(), unit, ticket, now())


@bp.get("/counters")
@bp.output(CounterList)
@bp.doc(summary="Counters with state, clerk and the ticket being served")
def list_counters() -> dict[str, Any]:
    return {"counters": counter_list(db.session(), resolve_unit())}


@bp.post("/counters/<int:counter_id>/open")
@bp.output(CounterOut)
@bp.doc(summary="Sign the calling clerk in at this counter", responses=[401, 403, 404, 409])
@require_user(*STAFF)
def open_counter(counter_id: int) -> dict[str, Any]:
    unit = resolve_unit()
    counter = engine.lock_counter(db.session(), min(counter_id, MAX_ID))
    if counter.unit_id != unit.id:
        raise NotFound("counter_not_found")
    engine.open_counter(db.session(), counter, current_user.id, now=now())
    return _counter_out(counter)


def _counter_action(counter_id: int, action: Callable[[Counter], Counter]) -> dict[str, Any]:
    if counter_id > MAX_ID:
        raise NotFound("counter_not_found")
    counter = counter_for_action(counter_id, resolve_unit())
    return _counter_out(action(counter))


class CloseIn(Strict):
    """What becomes of the tickets parked at the counter: back to their queue, or held at
    another counter (``to_counter_id``). Required only when some are parked there."""

    parked: Literal["requeue", "counter"] | None = None
    to_counter_id: int | None = Field(default=None, ge=1, le=MAX_ID)


def _body_optional(view: Callable[..., Any]) -> Callable[..., Any]:
    """An empty request body reads as ``{}``: ``.../close`` without a body stays valid (the
    input schema's defaults apply) instead of a 400 for missing JSON."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not request.get_data(cache=True):
            request._cached_json = ({}, {})  # werkzeug's get_json cache: (normal, silent)
        return view(*args, **kwargs)

    wrapper.body_optional = True  # type: ignore[attr-defined]  # the OpenAPI document says so
    return wrapper


@bp.post("/counters/<int:counter_id>/close")
@_body_optional
@bp.input(CloseIn, arg_name="body")
@bp.output(CounterOut)
@bp.doc(summary="Sign out of this counter",
        description="A ticket being served is finished (outcome counter_closed); one called but "
        "not started becomes missed (it can come back). Tickets parked at the counter need "
        '`{"parked": "requeue"}` or `{"parked": "counter", "to_counter_id": N}`: without it, 409 '
        "parked_tickets_need_a_choice (with their labels); 409 target_counter_closed; 422 "
        "invalid_parked_choice.", responses=[400, 401, 403, 404, 409, 422])
def close_counter(counter_id: int, body: CloseIn) -> dict[str, Any]:
    return _counter_action(counter_id, lambda c: engine.close_counter(
        db.session(), c, actor=current_actor(), now=now(), parked=body.parked,
        to_counter_id=body.to_counter_id))


@bp.post("/counters/<int:counter_id>/pause")
@bp.input(PauseIn, arg_name="body")
@bp.output(CounterOut)
@bp.doc(summary="Pause the counter with a reason", responses=[400, 401, 403, 404, 409, 422])
def pause(counter_id: int, body: PauseIn) -> dict[str, Any]:
    return _counter_action(counter_id, lambda c: engine.pause_counter(
        db.session(), c, actor=current_actor(), now=now(), reason=body.reason))


@bp.post("/counters/<int:counter_id>/resume")
@bp.output(CounterOut)
@bp.doc(summary="Resume a paused counter", responses=[401, 403, 404, 409])
def resume(counter_id: int) -> dict[str, Any]:
    return _counter_action(counter_id, lambda c: engine.resume_counter(
        db.session(), c, actor=current_actor(), now=now()))


@bp.post("/counters/<int:counter_id>/call-next")
@bp.output(TicketOut)
@bp.doc(summary="Finish the current ticket and call the next one",
        description="404 queue_empty when nobody waits. The ticket at the counter is finished "
        "even then (the clerk is done with that citizen): the error carries it as `finished` "
        "{id, label}.", responses=[401, 403, 404, 409])
def call_next(counter_id: int) -> dict[str, Any]:
    try:
        return _act(counter_id, lambda u, c: engine.call_next(
            db.session(), u, c, actor=current_actor(), now=now()))
    except NotFound as empty:
        if empty.code == "queue_empty" and empty.details.get("finished"):
            # the finish stands although nobody is called: commit it before the 404 (an
            # error answer rolls the request back)
            db.session.commit()
        raise


@bp.post("/counters/<int:counter_id>/call")
@bp.input(CallTicketIn, arg_name="body")
@bp.output(TicketOut)
@bp.doc(summary="Call one ticket directly (missed, parked here, or waiting)",
        description="A waiting ticket is called out of order only where the unit's setting "
        "out_of_order_calls allows it (else 409 out_of_order_not_allowed); `reason` is kept on the "
        "call's event. Two counters calling the same ticket: one gets it, the other 409 invalid_state.",
        responses=[400, 401, 403, 404, 409, 422])
def call_ticket(counter_id: int, body: CallTicketIn) -> dict[str, Any]:
    return _act(counter_id, lambda u, c: engine.call_ticket(
        db.session(), c, body.ticket_id, actor=current_actor(), now=now(), reason=body.reason))


@bp.post("/counters/<int:counter_id>/recall")
@bp.output(TicketOut)
@bp.doc(summary="Call the current ticket again (past the limit it becomes missed)",
        responses=[401, 403, 404, 409])
def recall(counter_id: int) -> dict[str, Any]:
    return _act(counter_id, lambda u, c: engine.recall(
        db.session(), u, c, actor=current_actor(), now=now()))


@bp.post("/counters/<int:counter_id>/start")
@bp.output(TicketOut)
@bp.doc(summary="The citizen arrived: start serving the called ticket",
        responses=[401, 403, 404, 409])
def start(counter_id: int) -> dict[str, Any]:
    return _act(counter_id, lambda u, c: engine.start_serving(
        db.session(), c, actor=current_actor(), now=now()))


@bp.post("/counters/<int:counter_id>/skip")
@bp.output(TicketOut)
@bp.doc(summary="The citizen is absent: the current ticket becomes missed",
        responses=[401, 403, 404, 409])
def skip(counter_id: int) -> dict[str, Any]:
    return _act(counter_id, lambda u, c: engine.skip(
        db.session(), c, actor=current_actor(), now=now()))


@bp.post("/counters/<int:counter_id>/finish")
@bp.input(FinishIn, arg_name="body")
@bp.output(TicketOut)
@bp.doc(summary="Finish the current ticket with an outcome", responses=[400, 401, 403, 404, 409, 422])
def finish(counter_id: int, body: FinishIn) -> dict[str, Any]:
    return _act(counter_id, lambda u, c: engine.finish(
        db.session(), c, actor=current_actor(), now=now(), outcome=body.outcome))


@bp.post("/counters/<int:counter_id>/transfer")
@bp.input(TransferIn, arg_name="body")
@bp.output(TicketOut)
@bp.doc(summary="Transfer the current ticket to a field (service_id) or a counter (counter_id)",
        responses=[400, 401, 403, 404, 409, 422])
def transfer(counter_id: int, body: TransferIn) -> dict[str, Any]:
    return _act(counter_id, lambda u, c: engine.transfer(
        db.session(), u, c, actor=current_actor(), now=now(),
        service_id=body.service_id, to_counter_id=body.counter_id, note=body.note or None,
        return_here=body.return_here))


@bp.post("/counters/<int:counter_id>/park")
@bp.input(ParkIn, arg_name="body")
@bp.output(TicketOut)
@bp.doc(summary="Hold the current ticket at this counter", responses=[400, 401, 403, 404, 409, 422])
def park(counter_id: int, body: ParkIn) -> dict[str, Any]:
    return _act(counter_id, lambda u, c: engine.park(
        db.session(), c, actor=current_actor(), now=now(), note=body.note))


