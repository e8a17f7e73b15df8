"""Rating rules (đánh giá mức độ hài lòng): pure functions on a ``Session``.

A served ticket is rated once, only by the rating tablet bound to the counter that served
it (a ``Device`` of kind ``tablet`` whose ``counter_id`` is the ticket's), only once the
ticket is ``done``. When nobody answers, the tablet records ``not_rated`` (source
``timeout``). A dossier is rated once from its public lookup page (source ``lookup``),
whatever its state: every dossier has at least been received at the desk.

The lowest level of the unit's scale needs a reason: one of the unit's ``rating_reasons``
or a free comment. The functions only ``flush()``; ``signals.rating_created`` is sent after
the flush. Errors (``DomainError`` codes):

=====================  ======  ==========================================================
code                   status  when
=====================  ======  ==========================================================
invalid_level          422     not a level of the unit's scale (nor ``not_rated``)
invalid_reason         422     a reason that is not in the unit's list
reason_required        422     the lowest level without a reason or a comment
ticket_not_found       404     no such ticket in the unit
not_counter_tablet     403     the caller is not the tablet of the ticket's counter
ticket_not_finished    409     the ticket is not ``done``
already_rated          409     the ticket (or dossier) already has its rating
=====================  ======  ==========================================================
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from onestop import signals
from onestop.accounts.models import Device
from onestop.dossiers.models import Dossier
from onestop.queueing.errors import DomainError, NotFound
from onestop.queueing.models import Ticket, TicketEvent
from onestop.ratings import scales
from onestop.ratings.models import Rating
from onestop.units.models import Unit

MAX_COMMENT = 500
MIN_COMMENT = 3  # a comment stands in for a reason only if it says something


def _clean_comment(comment: str | None) -> str:
    text = "".join(ch for ch in (comment or "") if ch.isprintable() or ch in "\n ")
    return text.strip()[:MAX_COMMENT]


def check_answer(unit: Unit, level: str, reasons: list[str] | None,
                 comment: str | None) -> tuple[scales.Level, list[str], str]:
    """The level, reasons and comment of an answer, checked against the unit's scale."""
    found = scales.find_level(unit.setting("rating_scale"), level)
    if found is None:
        raise DomainError("invalid_level", status=422, level=str(level)[:24])
    allowed = scales.reasons(unit.setting("rating_reasons"))
    chosen: list[str] = []
    for reason in reasons or []:
        if reason not in allowed:
            raise DomainError("invalid_reason", status=422)
        if reason not in chosen:
            chosen.append(reason)
    text = _clean_comment(comment)
    if found.needs_reason and not chosen and len(text) < MIN_COMMENT:
        raise DomainError("reason_required", status=422)
    return found, chosen, text


#: the events that put the citizen in front of someone at the counter
SERVED_BY_ACTIONS = ("call", "start", "unpark")


def _clerk_of(session: Session, ticket: Ticket) -> int | None:
    """The clerk the rating is credited to: the one who served the citizen at the counter
    that finished the ticket, i.e. who last called, started or resumed (unpark) it there.

    Not whoever pressed "finish": a manager or admin may finish a ticket on a counter's
    behalf (DESIGN §4), and the citizen at the desk did not rate them. A ticket transferred
    to another counter is credited there (the events at the old counter are not looked at).
    The reports credit a served ticket to the same clerk (``queries.ticket_facts``)."""
    rows = session.execute(
        select(TicketEvent.action, TicketEvent.actor_user_id)
        .where(TicketEvent.ticket_id == ticket.id, TicketEvent.actor_user_id.is_not(None),
               TicketEvent.counter_id == ticket.counter_id)
        .order_by(TicketEvent.id.desc())).all()
    served_by = [user for action, user in rows if action in SERVED_BY_ACTIONS]
    return served_by[0] if served_by else (rows[0][1] if rows else None)


def _save(session: Session, rating: Rating) -> Rating:
    """Insert in a savepoint: a concurrent rating of the same subject loses with 409."""
    try:
        with session.begin_nested():
            session.add(rating)
            session.flush()
    except IntegrityError as exc:
        raise DomainError("already_rated") from exc
    signals.rating_created.send(session, rating=rating)
    return rating


def ticket_rating(session: Session, ticket_id: int) -> Rating | None:
    return session.scalar(select(Rating).where(Rating.ticket_id == ticket_id))


def dossier_rating(session: Session, dossier_id: int) -> Rating | None:
    return session.scalar(select(Rating).where(Rating.dossier_id == dossier_id))


#: how long after a ticket is finished its counter's tablet may still answer for it (the
#: tablet's own timeout is far shorter; this bounds a tablet that lies or was taken away)
RATING_WINDOW = dt.timedelta(minutes=10)


def rate_ticket(session: Session, unit: Unit, device: Device, ticket_id: int, level: str, *,
                reasons: list[str] | None = None, comment: str | None = None,
                now: dt.datetime) -> Rating:
    """Record the citizen's answer on the counter's tablet (``level`` ``not_rated``: the
    tablet timed out; reasons and comment are then dropped)."""
    timed_out = level == scales.NOT_RATED
    if not timed_out and scales.find_level(unit.setting("rating_scale"), level) is None:
        raise DomainError("invalid_level", status=422, level=str(level)[:24])
    ticket = session.get(Ticket, ticket_id) if 0 < ticket_id < 2**31 else None
    if ticket is None or ticket.unit_id != unit.id:
        raise NotFound("ticket_not_found")
    if (device.kind != "tablet" or device.unit_id != unit.id or device.counter_id is None
            or device.counter_id != ticket.counter_id):
        raise DomainError("not_counter_tablet", status=403)
    if ticket.state != "done":
        raise DomainError("ticket_not_finished", state=ticket.state)
    if ticket_rating(session, ticket.id) is not None:
        raise DomainError("already_rated")
    if ticket.finished_at is not None and now - ticket.finished_at > RATING_WINDOW:
        # the citizen left long ago: whoever holds the tablet now cannot rate for them
        raise DomainError("rating_closed")
    scale = scales.scale_code(unit.setting("rating_scale"))
    chosen: list[str] = []
    if timed_out:
        code, score, text, source = scales.NOT_RATED, 0, "", "timeout"
    else:
        found, chosen, text = check_answer(unit, level, reasons, comment)
        code, score, source = found.code, found.score, "tablet"
    return _save(session, Rating(
        unit_id=unit.id, ticket_id=ticket.id, counter_id=ticket.counter_id,
        clerk_id=_clerk_of(session, ticket), service_id=ticket.service_id, device_id=device.id,
        scale=scale, level=code, score=score, reasons=chosen, comment=text, source=source,
        rated_at=now))


def rate_dossier(session: Session, unit: Unit, dossier: Dossier, level: str, *,
                 reasons: list[str] | None = None, comment: str | None = None,
                 now: dt.datetime) -> Rating:
    """Record a citizen's rating of a dossier from its public lookup page (once)."""
    found, chosen, text = check_answer(unit, level, reasons, comment)
    if dossier_rating(session, dossier.id) is not None:
        raise DomainError("already_rated")
    return _save(session, Rating(
        unit_id=unit.id, dossier_id=dossier.id, clerk_id=dossier.received_by_id,
        service_id=dossier.service_id, scale=scales.scale_code(unit.setting("rating_scale")),
        level=found.code, score=found.score, reasons=chosen, comment=text, source="lookup",
        rated_at=now))


def pending_ticket(session: Session, counter_id: int, *, now: dt.datetime,
                   timeout_seconds: int) -> Ticket | None:
    """The ticket the counter's tablet should be asking about right now: finished there
    within the timeout and not rated yet (a tablet that reloads picks it up again)."""
    ticket = session.scalar(
        select(Ticket).where(Ticket.counter_id == counter_id, Ticket.state == "done",
                             Ticket.finished_at >= now - dt.timedelta(seconds=timeout_seconds))
        .order_by(Ticket.finished_at.desc(), Ticket.id.desc()).limit(1))
    if ticket is None or ticket_rating(session, ticket.id) is not None:
        return None
    return ticket


def event_payload(rating: Rating, at: str | None) -> dict[str, Any]:
    """The ``rating.created`` Socket.IO payload (onestop/realtime/events.py)."""
    return {"rating": {"id": rating.id, "ticket_id": rating.ticket_id,
                       "dossier_id": rating.dossier_id, "level": rating.level,
                       "score": rating.score, "counter_id": rating.counter_id,
                       "service_id": rating.service_id, "source": rating.source},
            "at": at}
