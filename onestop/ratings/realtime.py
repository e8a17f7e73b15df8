"""Ratings on the wire: the signals of the queue and rating engines -> Socket.IO events
(after commit, through ``onestop.realtime.hub``) and the ``rating.created`` webhook.

* a ticket finished at a counter -> ``rating.requested`` to that counter's room on
  /counter: its tablet shows the rating screen;
* a rating saved -> ``rating.created`` to the unit's room on /counter (the managers'
  dashboard) and a ``rating.created`` webhook delivery (no personal data: no comment).
"""

from __future__ import annotations

from typing import Any

from flask import Flask
from sqlalchemy.orm import Session

from onestop import signals
from onestop.accounts.models import User
from onestop.db import utcnow
from onestop.dossiers.models import Dossier
from onestop.queueing.models import Counter, Ticket
from onestop.queueing.state import iso
from onestop.ratings import scales
from onestop.ratings.engine import event_payload
from onestop.ratings.models import Rating
from onestop.realtime import events as ev
from onestop.realtime.hub import queue_event, ticket_brief
from onestop.units.models import Unit
from onestop.webhooks import engine as webhooks


def levels_payload(unit: Unit) -> list[dict[str, Any]]:
    """The unit's levels, best first, labels untranslated (Vietnamese)."""
    return [{"code": lv.code, "label": lv.label, "needs_reason": lv.needs_reason}
            for lv in scales.levels(unit.setting("rating_scale"))]


def clerk_brief(session: Session, user_id: int | None) -> dict[str, Any] | None:
    user = session.get(User, user_id) if user_id else None
    return {"id": user.id, "name": user.full_name or user.username} if user else None


def request_payload(session: Session, unit: Unit, ticket: Ticket, counter: Counter) -> dict[str, Any]:
    """The ``rating.requested`` payload (onestop/realtime/events.py)."""
    return {"ticket": ticket_brief(session, ticket),
            "counter": {"id": counter.id, "number": counter.number, "name": counter.name},
            "clerk": clerk_brief(session, counter.clerk_id),
            "scale": scales.scale_code(unit.setting("rating_scale")),
            "levels": levels_payload(unit),
            "timeout_seconds": scales.timeout_seconds(unit.setting("rating_timeout_seconds")),
            "at": iso(ticket.finished_at or utcnow())}


def on_ticket_changed(session: Session, ticket: Ticket, action: str) -> None:
    if action != "finish" or ticket.counter_id is None:
        return
    counter = session.get(Counter, ticket.counter_id)
    unit = session.get(Unit, ticket.unit_id)
    if counter is None or unit is None:
        return
    queue_event(session, ev.RATING_REQUESTED, request_payload(session, unit, ticket, counter),
                ev.COUNTER_NS, [ev.counter_room(counter.id)])


def webhook_data(session: Session, rating: Rating) -> dict[str, Any]:
    """What integrators get: codes and numbers only (the free comment may hold personal data)."""
    counter = session.get(Counter, rating.counter_id) if rating.counter_id else None
    dossier = session.get(Dossier, rating.dossier_id) if rating.dossier_id else None
    ticket = session.get(Ticket, rating.ticket_id) if rating.ticket_id else None
    return {"rating": {"id": rating.id, "ticket": {"id": ticket.id, "label": ticket.label} if ticket
                       else None,
                       "dossier_code": dossier.code if dossier else None,
                       "counter": {"number": counter.number} if counter else None,
                       "service_id": rating.service_id, "scale": rating.scale,
                       "level": rating.level, "score": rating.score,
                       "reasons": list(rating.reasons or []), "source": rating.source},
            "at": iso(rating.rated_at)}


def on_rating_created(session: Session, rating: Rating) -> None:
    queue_event(session, ev.RATING_CREATED, event_payload(rating, iso(rating.rated_at)),
                ev.COUNTER_NS, [ev.unit_room(rating.unit_id)])
    webhooks.queue_event(session, rating.unit_id, "rating.created", webhook_data(session, rating),
                         now=utcnow())


def init_app(app: Flask) -> None:
    """Subscribe to the signals (idempotent: blinker keeps one connection per receiver)."""
    signals.ticket_changed.connect(on_ticket_changed, weak=False)
    signals.rating_created.connect(on_rating_created, weak=False)
