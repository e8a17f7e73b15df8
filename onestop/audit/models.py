"""AuditEntry: one row per change made in the back office (and per read of a dossier's
personal data), kept for admins to read. Never updated, never deleted by the application."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from onestop.db import Base, UTCDateTime, utcnow


class AuditEntry(Base):
    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_entity", "entity", "entity_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    actor_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor_device_id: Mapped[int | None] = mapped_column(ForeignKey("devices.id"))
    actor_name: Mapped[str] = mapped_column(String(120), default="")  # kept if the user goes
    action: Mapped[str] = mapped_column(String(40))  # create, update, delete, read, login, ...
    entity: Mapped[str] = mapped_column(String(40))  # service, counter, user, device, dossier, ...
    entity_id: Mapped[str] = mapped_column(String(64), default="")
    before: Mapped[dict[str, Any] | None] = mapped_column()
    after: Mapped[dict[str, Any] | None] = mapped_column()
    ip: Mapped[str] = mapped_column(String(64), default="")
