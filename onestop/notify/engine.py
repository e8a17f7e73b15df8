"""The message engine: subscriptions, the outbox, the "near" check, erasure, listings.

Functions take the ``Session`` and ``now``; they never commit and never read the clock.
Refusals raise ``DomainError``:

======================  ======  ======================================================
code                    status  when
======================  ======  ======================================================
invalid_phone           422     not a Vietnamese mobile number (``onestop.phones``)
invalid_email           422     not an e-mail address
notify_unavailable      409     no channel for that kind of address is configured
notify_limit_reached    409     the ticket, booking or dossier has ``MAX_PER_SUBJECT``
                                addresses already
notify_closed           409     the ticket no longer waits (nothing left to tell)
======================  ======================================================

The outbox: ``queue`` adds one ``NotifyMessage`` per subscription and event occurrence in
the caller's transaction (``INSERT ... ON CONFLICT DO NOTHING`` on ``(subscription_id,
dedup)``: the same occurrence queued twice is one message, and never an error that would
roll back a call). A rolled-back change therefore sends nothing and a committed one is
never lost; ``onestop.notify.delivery`` sends the rows after the commit.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

from sqlalchemy import JSON, Date, Integer, bindparam, delete, func, select, text, update
from sqlalchemy.orm import Session

from onestop.db import UTCDateTime
from onestop.notify.config import NotifyConfig
from onestop.notify.models import NotifyMessage, NotifySubscription
from onestop.phones import mask_phone, normalise_phone
from onestop.queueing.errors import DomainError
from onestop.queueing.models import Ticket
from onestop.units.models import Unit

MAX_PER_SUBJECT = 3
#: ``session.info`` key: this transaction queued messages (the loop is woken on commit)
QUEUED = "notify_queued"
EMAIL = re.compile(r"^[^@\s<>,;\"]{1,64}@[A-Za-z0-9.-]{1,180}\.[A-Za-z]{2,24}$")


def normalise_address(raw: str | None) -> tuple[str, str]:
    """``("phone", "+84…")`` or ``("email", "a@b.vn")``; 422 ``invalid_phone`` /
    ``invalid_email``."""
    text_ = (raw or "").strip()
    if "@" in text_:
        if len(text_) > 254 or not EMAIL.match(text_):
            raise DomainError("invalid_email", status=422)
        local, _, domain = text_.rpartition("@")
        return "email", f"{local}@{domain.lower()}"
    return "phone", normalise_phone(text_)


def mask(kind: str, address: str) -> str:
    """An address as staff see it: ``+84 91*****78``, ``a***@example.vn``."""
    if kind == "phone":
        return mask_phone(address)
    local, _, domain = address.partition("@")
    return f"{local[:1]}***@{domain}" if address else ""


def subscribe(session: Session, unit: Unit, subject: str, subject_id: int, raw_address: str, *,
              business_date: dt.date, now: dt.datetime, lang: str = "vi",
              config: NotifyConfig | None = None) -> tuple[NotifySubscription, bool]:
    """Attach an address to a ticket, booking or dossier: ``(subscription, created)``; the
    same address again is the same subscription."""
    kind, address = normalise_address(raw_address)
    if config is not None and not (config.phone_enabled if kind == "phone" else config.smtp_url):
        raise DomainError("notify_unavailable", kind=kind)
    found = session.scalar(select(NotifySubscription).where(
        NotifySubscription.subject == subject, NotifySubscription.subject_id == subject_id,
        NotifySubscription.address == address))
    if found is not None:
        return found, False
    count = session.scalar(select(func.count()).select_from(NotifySubscription).where(
        NotifySubscription.subject == subject, NotifySubscription.subject_id == subject_id)) or 0
    if count >= MAX_PER_SUBJECT:
        raise DomainError("notify_limit_reached", limit=MAX_PER_SUBJECT)
    sub = NotifySubscription(unit_id=unit.id, subject=subject, subject_id=subject_id, address_kind=kind,
                             address=address, lang="en" if lang == "en" else "vi",
                             business_date=business_date, created_at=now)
    session.add(sub)
    session.flush()
    return sub, True


def subscriptions(session: Session, subject: str, subject_id: int) -> Sequence[NotifySubscription]:
    return session.scalars(select(NotifySubscription).where(
        NotifySubscription.subject == subject, NotifySubscription.subject_id == subject_id)
        .order_by(NotifySubscription.id)).all()


@dataclass(frozen=True)
class Target:
    """What a message needs of its subscription."""

    id: int
    unit_id: int
    subject: str
    subject_id: int
    kind: str
    address: str


def target_of(sub: NotifySubscription | Target) -> Target:
    return sub if isinstance(sub, Target) else Target(sub.id, sub.unit_id, sub.subject, sub.subject_id,
                                                      sub.address_kind, sub.address)


Row = tuple[NotifySubscription | Target, str, dict[str, Any], str]


_INSERT = text(
    "INSERT INTO notify_messages (unit_id, subscription_id, subject, subject_id, event, dedup, data,"
    " masked, state, attempts, next_attempt_at, last_error, created_at) VALUES (:unit_id,"
    " :subscription_id, :subject, :subject_id, :event, :dedup, :data, :masked, 'pending', 0, :due,"
    " '', :now) ON CONFLICT (subscription_id, dedup) DO NOTHING"
).bindparams(bindparam("data", type_=JSON), bindparam("due", type_=UTCDateTime),
             bindparam("now", type_=UTCDateTime))


def queue_many(session: Session, rows: Sequence[Row], *, now: dt.datetime,
               due_at: dt.datetime | None = None) -> int:
    """Queue ``(subscription, event, data, dedup)`` rows with one statement (on the path of
    every call: built once); a row already queued for that subscription and dedup is skipped.
    Returns how many rows were given."""
    if not rows:
        return 0
    params = []
    for sub, event, data, dedup in rows:
        target = target_of(sub)
        params.append({"unit_id": target.unit_id, "subscription_id": target.id, "subject": target.subject,
                       "subject_id": target.subject_id, "event": event, "dedup": dedup[:40], "data": data,
                       "masked": mask(target.kind, target.address), "due": due_at or now, "now": now})
    session.execute(_INSERT, params)
    session.info[QUEUED] = True
    return len(params)


def queue(session: Session, sub: NotifySubscription | Target, event: str, data: dict[str, Any], *,
          dedup: str, now: dt.datetime, due_at: dt.datetime | None = None) -> None:
    """Queue ``event`` for ``sub`` (due now, or at ``due_at``), unless already queued."""
    queue_many(session, [(sub, event, data, dedup)], now=now, due_at=due_at)


def queue_all(session: Session, subject: str, subject_id: int, event: str, data: dict[str, Any], *,
              dedup: str, now: dt.datetime, due_at: dt.datetime | None = None) -> int:
    """Queue ``event`` for every address of a ticket, booking or dossier (how many)."""
    rows = [(sub, event, data, dedup) for sub in subscriptions(session, subject, subject_id)]
    return queue_many(session, rows, now=now, due_at=due_at)


# --- the "near" check: on the path of every call, so one statement, built once -------------------

# Candidates: subscriptions of the called ticket, and of the first ``n`` waiting tickets of the
# field by kind (normal, priority) not told yet. A normal ticket with at most n people ahead in
# the real call order has at most n normal tickets before it (priority ones only add to it), and
# so for a priority ticket: the heads of both lines hold every ticket that may be near.
_HEAD = ("SELECT id FROM (SELECT id FROM tickets WHERE unit_id = :unit AND business_date = :day"
         " AND state = 'waiting' AND service_id = :service AND priority {op} 'none'"
         " ORDER BY queue_at, id LIMIT :n) AS head_{name}")
# ``ticket.near`` is once per address: its (subscription, dedup "near") row exists once told
_TOLD = ("EXISTS (SELECT 1 FROM notify_messages m WHERE m.subscription_id = s.id"
         " AND m.dedup = 'near')")
_CANDIDATES = text(
    "SELECT s.id, s.unit_id, s.subject_id, s.address_kind, s.address, t.state, t.priority,"
    " t.queue_at, t.service_id, t.business_date, t.label FROM notify_subscriptions s"
    " JOIN tickets t ON t.id = s.subject_id WHERE s.subject = 'ticket' AND ("
    f" s.subject_id = :called OR (NOT {_TOLD} AND s.subject_id IN ("
    f" {_HEAD.format(op='=', name='normal')} UNION ALL {_HEAD.format(op='!=', name='priority')})))"
).bindparams(bindparam("day", type_=Date)).columns(  # by name
    id=Integer, unit_id=Integer, subject_id=Integer, queue_at=UTCDateTime, business_date=Date)


@dataclass(frozen=True)
class Candidate:
    """A subscription of a ticket the line's move may concern, with that ticket's place."""

    target: Target
    ticket: Any  # id, unit_id, state, priority, queue_at, service_id, business_date, label


def queue_moved(session: Session, unit: Unit, service_id: int, *, now: dt.datetime,
                called: Ticket | None = None) -> list[Candidate]:
    """The field's line moved (a call, a cancel, a transfer): the subscriptions of the
    ``called`` ticket and those of the tickets at the head of the line not told yet; one
    statement, nothing when nobody there subscribed."""
    n = int(unit.setting("notify_ahead"))
    rows = session.execute(_CANDIDATES, {
        "unit": unit.id, "day": unit.business_date(now), "service": service_id, "n": n + 1,
        "called": called.id if called is not None else -1}).all()
    return [Candidate(Target(int(r.id), int(r.unit_id), "ticket", int(r.subject_id), str(r.address_kind),
                             str(r.address)),
                      SimpleNamespace(id=int(r.subject_id), unit_id=int(r.unit_id), state=r.state,
                                      priority=r.priority, queue_at=r.queue_at, service_id=int(r.service_id),
                                      business_date=r.business_date, label=r.label))
            for r in rows]


def told_near(session: Session, subscription_ids: list[int]) -> set[int]:
    """Of these subscriptions, those already sent (or queued) their ``ticket.near``."""
    if not subscription_ids:
        return set()
    found = session.scalars(select(NotifyMessage.subscription_id).where(
        NotifyMessage.subscription_id.in_(subscription_ids), NotifyMessage.dedup == "near"))
    return {int(i) for i in found if i is not None}


# --- erasure -------------------------------------------------------------------------------------


def erase(session: Session, query: Any, now: dt.datetime) -> int:
    """Delete the subscriptions ``query`` selects (ids); their pending messages are dropped
    (nothing is sent late), and every message keeps only its masked address."""
    ids = [int(i) for i in session.scalars(query)]
    if not ids:
        return 0
    session.execute(update(NotifyMessage).where(NotifyMessage.subscription_id.in_(ids),
                                                NotifyMessage.state == "pending")
                    .values(state="dropped", last_error="erased", next_attempt_at=None)
                    .execution_options(synchronize_session=False))
    session.execute(update(NotifyMessage).where(NotifyMessage.subscription_id.in_(ids))
                    .values(subscription_id=None).execution_options(synchronize_session=False))
    session.execute(delete(NotifySubscription).where(NotifySubscription.id.in_(ids))
                    .execution_options(synchronize_session=False))
    return len(ids)


def erase_day(session: Session, unit_id: int, business_date: dt.date, now: dt.datetime) -> int:
    """Day close: the tickets' and bookings' addresses of ``business_date`` and before go."""
    return erase(session, select(NotifySubscription.id).where(
        NotifySubscription.unit_id == unit_id, NotifySubscription.subject.in_(("ticket", "booking")),
        NotifySubscription.business_date <= business_date), now)


def erase_dossiers(session: Session, dossier_ids: list[int], now: dt.datetime) -> int:
    """The privacy purge erased these dossiers' applicants: their addresses go too."""
    if not dossier_ids:
        return 0
    return erase(session, select(NotifySubscription.id).where(
        NotifySubscription.subject == "dossier", NotifySubscription.subject_id.in_(dossier_ids)), now)


# --- listings ------------------------------------------------------------------------------------


def message_dict(message: NotifyMessage, unit: Unit) -> dict[str, Any]:
    """A message as staff see it (the masked address, never the number)."""
    return {"id": message.id, "event": message.event, "subject": message.subject,
            "subject_id": message.subject_id, "to": message.masked, "state": message.state,
            "channel": message.channel, "attempts": message.attempts, "error": message.last_error,
            "created_at": _iso(message.created_at), "sent_at": _iso(message.sent_at),
            "next_attempt_at": _iso(message.next_attempt_at)}


def _iso(when: dt.datetime | None) -> str | None:
    return when.isoformat().replace("+00:00", "Z") if when else None


def messages_of(session: Session, unit_id: int, subject: str, subject_id: int) -> Sequence[NotifyMessage]:
    return session.scalars(select(NotifyMessage).where(
        NotifyMessage.unit_id == unit_id, NotifyMessage.subject == subject,
        NotifyMessage.subject_id == subject_id).order_by(NotifyMessage.id)).all()


def messages_since(session: Session, unit_id: int, since: dt.datetime,
                   limit: int = 500) -> Sequence[NotifyMessage]:
    return session.scalars(select(NotifyMessage).where(
        NotifyMessage.unit_id == unit_id, NotifyMessage.created_at >= since)
        .order_by(NotifyMessage.id.desc()).limit(limit)).all()


def counts_since(session: Session, unit_id: int, since: dt.datetime) -> dict[tuple[str, str], int]:
    """``{(channel or '-', state): n}`` of the unit's messages since ``since``."""
    rows = session.execute(select(NotifyMessage.channel, NotifyMessage.state, func.count())
                           .where(NotifyMessage.unit_id == unit_id, NotifyMessage.created_at >= since)
                           .group_by(NotifyMessage.channel, NotifyMessage.state)).all()
    return {(str(c or "-"), str(s)): int(n) for c, s, n in rows}
