"""Link mode and the push outbox: plain functions taking the session, the settings, the
actor and ``now`` (no Flask, no clock).

Link mode: the clerk scans or types the province's code of the dossier on the ticket being
served (``link_ticket``); it is kept on the ticket and on every dossier received under that
ticket, and a dossier received later under it gets it at intake (``subscriber``).

Pushes: every state change of a dossier that the settings say to push is one
``ProvincePush`` row, written in the transaction of the change (``queue_push``): the clerk
never waits for the province; the push loop (``outbox``) sends it after commit.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from onestop.dossiers.engine import _event as dossier_event
from onestop.dossiers.models import Dossier
from onestop.integrations.config import ProvinceConfig
from onestop.integrations.mapping import dossier_record
from onestop.integrations.models import ProvincePush
from onestop.queueing.engine import Actor
from onestop.queueing.engine import _event as ticket_event
from onestop.queueing.errors import DomainError
from onestop.queueing.models import Service, Ticket
from onestop.units.models import Unit

#: tickets a clerk may link: the one at the counter, or just finished there
LINKABLE_STATES = ("called", "serving", "done")
#: ``session.info`` key: this transaction queued pushes (the loop is woken after commit)
QUEUED = "province_push_queued"


def clean_code(config: ProvinceConfig, code: str) -> str:
    """The provincial code as typed or scanned, trimmed; ``invalid_provincial_code`` (422)
    unless it has the configured shape."""
    code = (code or "").strip()
    if not code or len(code) > 64 or not config.valid_code(code):
        raise DomainError("invalid_provincial_code", status=422)
    return code


def link_ticket(session: Session, ticket: Ticket, code: str, *, config: ProvinceConfig, actor: Actor,
                now: dt.datetime) -> list[Dossier]:
    """Store the province's dossier ``code`` on ``ticket`` and on the dossiers received under
    it (each gets a ``provincial_link`` event and a push); returns those dossiers.

    409 ``ticket_not_at_counter`` unless the ticket is being (or was just) served at a
    counter; 409 ``provincial_code_taken`` when another dossier already holds the code.
    """
    code = clean_code(config, code)
    if ticket.state not in LINKABLE_STATES or ticket.counter_id is None:
        raise DomainError("ticket_not_at_counter", status=409)
    taken = session.scalar(select(Dossier.id).where(
        Dossier.provincial_code == code, (Dossier.ticket_id != ticket.id) | Dossier.ticket_id.is_(None)))
    if taken is not None:
        raise DomainError("provincial_code_taken", status=409)
    if ticket.provincial_code != code:
        ticket.provincial_code = code
        ticket_event(session, ticket, "provincial_link", ticket.state, actor, now, provincial_code=code)
    dossiers = list(session.scalars(select(Dossier).where(Dossier.ticket_id == ticket.id)))
    for dossier in dossiers:
        if dossier.provincial_code != code:
            link_dossier(session, dossier, code, config=config, actor=actor, now=now)
    session.flush()
    return dossiers


def link_dossier(session: Session, dossier: Dossier, code: str, *, config: ProvinceConfig, actor: Actor,
                 now: dt.datetime) -> None:
    """Give ``dossier`` the province's ``code`` (an event on its timeline) and push it."""
    dossier.provincial_code = code
    dossier_event(session, dossier, "provincial_link", dossier.state, actor, now, note=code)
    queue_push(session, dossier, config=config, now=now)


def should_push(config: ProvinceConfig, dossier: Dossier) -> bool:
    """Whether the settings send this dossier's changes to the province."""
    if not config.enabled or config.push == "none":
        return False
    return config.push == "all" or bool(dossier.provincial_code)


def push_body(session: Session, dossier: Dossier, updating: bool) -> dict[str, Any]:
    """The request body of a push: the dossier as it is now, in the portal's field names."""
    unit = session.get(Unit, dossier.unit_id)
    assert unit is not None
    service = session.get(Service, dossier.service_id) if dossier.service_id else None
    field = (service.code, service.name) if service else ("", "")
    record = dossier_record(dossier, unit.name, field, unit.tz)
    return {"service": "DongBoHoSoMC", "isUpdating": "True" if updating else "False", "data": [record]}


def queue_push(session: Session, dossier: Dossier, *, config: ProvinceConfig,
               now: dt.datetime) -> ProvincePush | None:
    """Queue the dossier's current state for the province (in this transaction), if the
    settings push it. ``isUpdating`` is "True" once the province knows the dossier: it is
    linked (the province made it), or an earlier push of it was queued."""
    if not should_push(config, dossier):
        return None
    session.flush()  # the dossier's id and its state as changed
    known = bool(dossier.provincial_code) or bool(session.scalar(
        select(exists().where(ProvincePush.dossier_id == dossier.id))))
    push = ProvincePush(dossier_id=dossier.id, payload=push_body(session, dossier, known), state="pending",
                        attempts=0, next_attempt_at=now, created_at=now)
    session.add(push)
    session.info[QUEUED] = True
    return push
