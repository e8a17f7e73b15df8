"""Write and read the audit log.

``record`` is called inside the transaction that makes the change, so the entry and the
change commit together or not at all. ``snapshot`` turns a model row into the plain dict
kept as ``before`` / ``after`` (secrets never go in: hashes are left out by name).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from onestop.audit.models import AuditEntry
from onestop.db import utcnow

SECRET_FIELDS = frozenset({"password_hash", "token_hash", "pairing_code_hash", "secret"})


def _plain(value: Any) -> Any:
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def snapshot(row: Any, exclude: frozenset[str] = frozenset()) -> dict[str, Any]:
    """The row's column values as JSON-ready data, without secrets."""
    mapper = inspect(row).mapper
    return {
        attr.key: _plain(getattr(row, attr.key))
        for attr in mapper.column_attrs
        if attr.key not in SECRET_FIELDS and attr.key not in exclude
    }


def changed_only(before: dict[str, Any], after: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Keep only the keys whose values differ (what a reader of the log wants to see)."""
    keys = [k for k in after if before.get(k) != after.get(k)]
    return {k: before.get(k) for k in keys}, {k: after[k] for k in keys}


def record(
    session: Session,
    *,
    action: str,
    entity: str,
    entity_id: Any = "",
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    unit_id: int | None = None,
    actor_user_id: int | None = None,
    actor_device_id: int | None = None,
    actor_name: str = "",
    ip: str = "",
    at: dt.datetime | None = None,
) -> AuditEntry:
    entry = AuditEntry(
        at=at or utcnow(), unit_id=unit_id, actor_user_id=actor_user_id,
        actor_device_id=actor_device_id, actor_name=actor_name[:120], action=action[:40],
        entity=entity[:40], entity_id=str(entity_id)[:64],
        before=_plain(before) if before is not None else None,
        after=_plain(after) if after is not None else None, ip=ip[:64],
    )
    session.add(entry)
    return entry


def record_request(session: Session, **fields: Any) -> AuditEntry:
    """``record`` with the actor and address taken from the current Flask request."""
    from flask import request
    from flask_login import current_user

    from onestop.accounts.identity import current_device

    if current_user.is_authenticated:
        fields.setdefault("actor_user_id", int(current_user.id))
        fields.setdefault("actor_name", current_user.full_name or current_user.username)
    else:
        device = current_device()
        if device is not None:
            fields.setdefault("actor_device_id", device.id)
            fields.setdefault("actor_name", device.name)
    fields.setdefault("ip", request.remote_addr or "")
    return record(session, **fields)


def entries(
    session: Session, *, unit_id: int | None = None, entity: str | None = None,
    entity_id: str | None = None, limit: int = 200, before_id: int | None = None,
) -> list[AuditEntry]:
    """Newest first; ``before_id`` pages back."""
    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    if unit_id is not None:
        query = query.where((AuditEntry.unit_id == unit_id) | (AuditEntry.unit_id.is_(None)))
    if entity:
        query = query.where(AuditEntry.entity == entity)
    if entity_id:
        query = query.where(AuditEntry.entity_id == entity_id)
    if before_id:
        query = query.where(AuditEntry.id < before_id)
    return list(session.scalars(query))


def record_change(session: Session, action: str, entity: str, entity_id: Any,
                  before: dict[str, Any] | None, after: dict[str, Any] | None, *,
                  unit_id: int | None, diff: bool = True) -> AuditEntry:
    """``record_request`` of a change (with ``diff``: only the keys that changed), for the
    back office and the API alike."""
    if diff and before is not None and after is not None:
        before, after = changed_only(before, after)
    return record_request(session, action=action, entity=entity, entity_id=entity_id,
                          before=before, after=after, unit_id=unit_id)
