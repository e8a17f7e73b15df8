"""The outbox of pushes to the province's system."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from onestop.accounts.models import _in
from onestop.db import Base, UTCDateTime, utcnow

PUSH_STATES = ("pending", "sent", "dead")
MAX_ERROR = 500


class ProvincePush(Base):
    """One state change of a dossier to send to the province: written in the transaction of
    the change, then the log of its sending.

    ``pending`` (not sent yet; ``attempts`` > 0: failed, retried at ``next_attempt_at``) ->
    ``sent`` (the province said ``error_code`` 0) or ``dead`` (gave up after the last
    attempt; an administrator can send it again). ``payload`` is the whole request body, as
    it was at the change. While a worker holds it, ``next_attempt_at`` is the end of its claim.
    """

    __tablename__ = "province_pushes"
    __table_args__ = (
        CheckConstraint(f"state IN {_in(PUSH_STATES)}", name="state"),
        Index("ix_province_pushes_due", "state", "next_attempt_at"),
        Index("ix_province_pushes_dossier", "dossier_id", "id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossiers.id"))
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    state: Mapped[str] = mapped_column(String(12), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_attempt_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_status_code: Mapped[int | None] = mapped_column()
    last_error: Mapped[str] = mapped_column(String(MAX_ERROR), default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
