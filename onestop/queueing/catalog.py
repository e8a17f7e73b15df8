"""What every call reads about a unit's set-up, kept per process and checked against the
database: the fields' names, codes and zones, and the active webhook subscriptions.

Every call and every finish names its field several times over (the displays' and the
counters' events, the rating tablet's question, the webhook, the metrics, the API answer)
and looks for webhooks to notify. A ticket changed by ``UPDATE ... RETURNING`` has no field
loaded, so each call-next read two ``services`` rows and the ``webhooks`` of its unit, some
170 us of its CPU time.

Here they are read once per process and unit. What keeps them right is
``Unit.catalog_version``: database triggers (``onestop.units.models.catalog_triggers``)
raise it whenever a row of the unit's ``services`` or ``webhooks`` is inserted, changed or
deleted, whoever writes it (this process, another instance, the command line, plain SQL),
and the unit's row comes with every request anyway (the caller's token or session loads
it). What was read for another version is read again. A session that itself changed a field
or a webhook through the ORM reads them from the database until it ends: its unit row was
read before the change. A unit's version starts at a random number, so that a database made
anew from nothing (tests) is never mistaken for the one held.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from onestop.queueing.models import Service
from onestop.units.models import Unit
from onestop.webhooks.models import Webhook

CHANGED = "catalog_changed"  # session.info key: this session changed a field or a webhook


@dataclass(frozen=True)
class ServiceInfo:
    id: int
    code: str
    name: str
    name_en: str
    zone: str


Subscriptions = tuple[tuple[int, frozenset[str]], ...]  # (webhook id, its events)

_fields: dict[int, tuple[int, dict[int, ServiceInfo]]] = {}  # unit id -> (version, fields)
_hooks: dict[int, tuple[int, Subscriptions]] = {}  # unit id -> (version, active webhooks)


def _version(session: Session, unit_id: int) -> int | None:
    """The unit's version as this session saw it; ``None``: do not trust what is held."""
    if session.info.get(CHANGED):
        return None
    unit = session.get(Unit, unit_id)  # in the identity map during a request
    return unit.catalog_version if unit is not None else None


def service_info(session: Session, unit_id: int, service_id: int) -> ServiceInfo:
    """Name, code and zone of a field of ``unit_id``."""
    version = _version(session, unit_id)
    held = _fields.get(unit_id)
    if version is None or held is None or held[0] != version or service_id not in held[1]:
        rows = session.execute(select(Service.id, Service.code, Service.name, Service.name_en,
                                      Service.zone).where(Service.unit_id == unit_id))
        held = (version if version is not None else -1,
                {row.id: ServiceInfo(row.id, row.code, row.name, row.name_en or "", row.zone or "")
                 for row in rows})
        if version is not None:
            _fields[unit_id] = held
    return held[1][service_id]


def subscriptions(session: Session, unit_id: int) -> Subscriptions:
    """The unit's active webhooks, each with the events it takes."""
    version = _version(session, unit_id)
    held = _hooks.get(unit_id)
    if version is not None and held is not None and held[0] == version:
        return held[1]
    rows = session.connection().execute(
        select(Webhook.id, Webhook.events).where(Webhook.unit_id == unit_id,
                                                 Webhook.active.is_(True)))
    hooks = tuple((row.id, frozenset(row.events or ())) for row in rows)
    if version is not None:
        _hooks[unit_id] = (version, hooks)
    return hooks


@event.listens_for(Session, "after_flush")
def _note_changes(session: Session, _context: Any) -> None:
    if not session.info.get(CHANGED) and any(
            isinstance(obj, (Service, Webhook))
            for objs in (session.new, session.dirty, session.deleted) for obj in objs):
        session.info[CHANGED] = True
