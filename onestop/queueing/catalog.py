"""The fields' names, codes and zones, kept per process and checked against the database.

Every call and every finish names its field several times over: the displays' and the
counters' events, the rating tablet's question, the webhook, the metrics and the API
answer. A ticket changed by ``UPDATE ... RETURNING`` has no field loaded, so each call-next
loaded two ``services`` rows (the finished ticket's and the called one's), some 130 us of
its CPU time.

Here they are read once per process and unit. What keeps them right is
``Unit.catalog_version``: database triggers (``onestop.queueing.models``) raise it whenever a row
of the unit's ``services`` is inserted, changed or deleted, whoever writes it (this
process, another instance, the command line, plain SQL), and the unit's row comes with
every request anyway (the caller's token or session loads it). A cached list of another
version is read again; so is one that lacks the field asked for (a field added in the
current transaction, before the unit's row was read again). A unit's version starts at a
random number, so that a database made again from nothing (tests) is never mistaken for
the one held.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from onestop.queueing.models import Service
from onestop.units.models import Unit


@dataclass(frozen=True)
class ServiceInfo:
    id: int
    code: str
    name: str
    name_en: str
    zone: str


_held: dict[int, tuple[int, dict[int, ServiceInfo]]] = {}  # unit id -> (version, fields)

def service_info(session: Session, unit_id: int, service_id: int) -> ServiceInfo:
    """Name, code and zone of a field of ``unit_id``, as of the unit's row in ``session``."""
    unit = session.get(Unit, unit_id)  # in the identity map during a request
    version = unit.catalog_version if unit is not None else -1
    held = _held.get(unit_id)
    if held is None or held[0] != version or service_id not in held[1]:
        rows = session.execute(select(Service.id, Service.code, Service.name, Service.name_en,
                                      Service.zone).where(Service.unit_id == unit_id))
        held = (version, {row.id: ServiceInfo(row.id, row.code, row.name, row.name_en or "",
                                              row.zone or "") for row in rows})
        _held[unit_id] = held
    return held[1][service_id]


def forget() -> None:
    """Drop what this process holds (tests that rebuild their database)."""
    _held.clear()
