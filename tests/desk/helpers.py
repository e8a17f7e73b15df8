"""Helpers of the desk tests (issue 22): unit settings, accounts of the new roles."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from onestop.accounts import engine as accounts
from onestop.audit.models import AuditEntry
from onestop.queueing.models import TicketEvent
from tests.api.helpers import in_db, unit_of

PASSWORD = "desk-password-1"


def set_unit(app: Any, **settings: Any) -> None:
    with in_db(app) as session:
        unit = unit_of(session)
        unit.settings = {**(unit.settings or {}), **settings}


def add_user(app: Any, username: str, role: str) -> None:
    with in_db(app) as session:
        accounts.add_user(session, unit_of(session), username, PASSWORD, role, full_name=username)


def events(app: Any, ticket_id: int) -> list[tuple[str, str | None, str, dict[str, Any]]]:
    with in_db(app) as session:
        return [(e.action, e.from_state, e.to_state, dict(e.details)) for e in session.scalars(
            select(TicketEvent).where(TicketEvent.ticket_id == ticket_id).order_by(TicketEvent.id))]


def audit_actions(app: Any) -> list[tuple[str, str, str]]:
    with in_db(app) as session:
        return [(a.action, a.entity, a.entity_id) for a in session.scalars(
            select(AuditEntry).order_by(AuditEntry.id))]
