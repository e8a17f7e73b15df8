"""GET /audit: the back office's audit log, read-only, for admins (docs/backoffice.md)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, Field

from onestop.accounts.auth import require_user
from onestop.api import bp
from onestop.api.common import resolve_unit
from onestop.api.schemas import Strict
from onestop.backoffice import auditlog as query
from onestop.extensions import db


class AuditQuery(Strict):
    entity: str | None = Field(default=None, max_length=40)
    entity_id: str | None = Field(default=None, max_length=64)
    user_id: int | None = Field(default=None, ge=1, le=2**31 - 1)
    date_from: dt.date | None = Field(default=None, alias="from")
    date_to: dt.date | None = Field(default=None, alias="to")
    limit: int = Field(default=50, ge=1, le=200)
    before_id: int | None = Field(default=None, ge=1, le=2**31 - 1)


class AuditEntryOut(BaseModel):
    id: int
    at: str
    unit_id: int | None
    actor_user_id: int | None
    actor_device_id: int | None
    actor_name: str
    action: str
    entity: str
    entity_id: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    ip: str


class AuditList(BaseModel):
    entries: list[AuditEntryOut]
    next_before_id: int | None


@bp.get("/audit")
@require_user("admin")
@bp.input(AuditQuery, location="query", arg_name="params")
@bp.output(AuditList)
@bp.doc(summary="The audit log of the back office, newest first (page back with before_id)",
        description="Filters: entity, entity_id, user_id, from / to (the unit's local dates).",
        responses=[401, 403, 422])
def audit_log(params: AuditQuery) -> dict[str, Any]:
    unit = resolve_unit()
    rows = query.search(db.session(), unit, query.Filters(
        entity=params.entity, entity_id=params.entity_id, user_id=params.user_id,
        date_from=params.date_from, date_to=params.date_to), limit=params.limit,
        before_id=params.before_id)
    more = len(rows) == params.limit
    return {"entries": [query.entry_dict(e) for e in rows],
            "next_before_id": rows[-1].id if more else None}
