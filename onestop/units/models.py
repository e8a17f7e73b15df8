"""Unit (đơn vị): a service centre, with its own timezone and queue policy settings."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from onestop.db import Base

# Queue policy defaults; a unit overrides any of them in ``Unit.settings``.
UNIT_DEFAULTS: dict[str, Any] = {
    "priority_mode": "strict",  # "strict": priority first; "interleave": N normal : 1 priority
    "interleave_normal": 3,
    "priority_classes": ["elderly", "disabled", "pregnant", "meritorious"],
    "recall_limit": 3,  # calls beyond this mark the ticket missed
    "transfer_keeps_place": True,
    "default_service_minutes": 5.0,
    "ticket_footer": "Xin cảm ơn Quý công dân!",
}


class Unit(Base):
    __tablename__ = "units"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str] = mapped_column(String(300), default="")
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Ho_Chi_Minh")
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)

    def setting(self, key: str) -> Any:
        return (self.settings or {}).get(key, UNIT_DEFAULTS[key])

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def local(self, when: dt.datetime) -> dt.datetime:
        return when.astimezone(self.tz)

    def business_date(self, when: dt.datetime) -> dt.date:
        """The calendar date at ``when`` in the unit's own timezone."""
        return self.local(when).date()
