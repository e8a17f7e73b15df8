"""Reading the audit log: filters, paging and before/after diffs (no Flask here).

The writing side is ``onestop.audit.engine`` (``record_request`` inside the transaction of
the change). An admin sees the entries of their unit and those that belong to no unit.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from onestop.audit.models import AuditEntry
from onestop.queueing.state import iso
from onestop.units.models import Unit


@dataclass(frozen=True)
class Filters:
    entity: str | None = None
    entity_id: str | None = None
    user_id: int | None = None
    date_from: dt.date | None = None  # the unit's local dates, both included
    date_to: dt.date | None = None
    # only the unit's own entries, not those of no unit (for an admin bound to the unit:
    # entries of no unit are cross-unit accounts' sign-ins and changes)
    unit_only: bool = False


def _local_midnight(unit: Unit, day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(0), tzinfo=unit.tz).astimezone(dt.UTC)


def _filtered(unit: Unit, filters: Filters) -> Select[Any]:
    query = select(AuditEntry).where(
        (AuditEntry.unit_id == unit.id) if filters.unit_only
        else (AuditEntry.unit_id == unit.id) | (AuditEntry.unit_id.is_(None)))
    if filters.entity:
        query = query.where(AuditEntry.entity == filters.entity)
    if filters.entity_id:
        query = query.where(AuditEntry.entity_id == filters.entity_id)
    if filters.user_id:
        query = query.where(AuditEntry.actor_user_id == filters.user_id)
    if filters.date_from:
        query = query.where(AuditEntry.at >= _local_midnight(unit, filters.date_from))
    if filters.date_to:
        end = _local_midnight(unit, filters.date_to + dt.timedelta(days=1))
        query = query.where(AuditEntry.at < end)
    return query


def search(session: Session, unit: Unit, filters: Filters, *, limit: int = 50,
           before_id: int | None = None) -> list[AuditEntry]:
    """Newest first; ``before_id`` pages back (keyset paging: stable while entries arrive)."""
    query = _filtered(unit, filters).order_by(AuditEntry.id.desc()).limit(limit)
    if before_id:
        query = query.where(AuditEntry.id < before_id)
    return list(session.scalars(query))


def entities(session: Session, unit: Unit, *, unit_only: bool = False) -> list[str]:
    """The entity names present in the log (for the filter's choices)."""
    rows = session.scalars(_filtered(unit, Filters(unit_only=unit_only))
                           .with_only_columns(AuditEntry.entity)
                           .distinct().order_by(AuditEntry.entity))
    return list(rows)


def entry_dict(entry: AuditEntry) -> dict[str, Any]:
    return {"id": entry.id, "at": iso(entry.at), "unit_id": entry.unit_id,
            "actor_user_id": entry.actor_user_id, "actor_device_id": entry.actor_device_id,
            "actor_name": entry.actor_name, "action": entry.action, "entity": entry.entity,
            "entity_id": entry.entity_id, "before": entry.before, "after": entry.after,
            "ip": entry.ip}


@dataclass(frozen=True)
class Change:
    key: str
    before: Any
    after: Any
    had_before: bool
    has_after: bool


def diff(entry: AuditEntry) -> list[Change]:
    """One row per key that the entry's ``before`` or ``after`` names, in a stable order."""
    before, after = entry.before or {}, entry.after or {}
    keys = list(before) + [k for k in after if k not in before]
    return [Change(k, before.get(k), after.get(k), k in before, k in after) for k in keys]
