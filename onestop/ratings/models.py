"""Rating: what a citizen said about one served ticket (from the counter's tablet) or about
one dossier (once, from its public lookup page)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from onestop.accounts.models import _in
from onestop.db import Base, UTCDateTime, utcnow

RATING_SOURCES = ("tablet", "lookup", "timeout")


class Rating(Base):
    """``level`` is a code of the unit's scale (``onestop.ratings.scales``), or
    ``not_rated`` when the tablet timed out without an answer. ``score`` orders the levels
    (higher is better; 0 for not rated) so that reports need not know the scale."""

    __tablename__ = "ratings"
    __table_args__ = (
        CheckConstraint(f"source IN {_in(RATING_SOURCES)}", name="source"),
        CheckConstraint("ticket_id IS NOT NULL OR dossier_id IS NOT NULL", name="subject"),
        Index("ix_ratings_unit_at", "unit_id", "rated_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), unique=True)
    dossier_id: Mapped[int | None] = mapped_column(ForeignKey("dossiers.id"), unique=True)
    counter_id: Mapped[int | None] = mapped_column(ForeignKey("counters.id"))
    clerk_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    service_id: Mapped[int | None] = mapped_column(ForeignKey("services.id"))
    device_id: Mapped[int | None] = mapped_column(ForeignKey("devices.id"))
    scale: Mapped[str] = mapped_column(String(8))  # "3" (TT 01/2018) or "5"
    level: Mapped[str] = mapped_column(String(24))
    score: Mapped[int] = mapped_column(default=0)
    reasons: Mapped[list[Any]] = mapped_column(default=list)
    comment: Mapped[str] = mapped_column(String(500), default="")
    source: Mapped[str] = mapped_column(String(10))
    rated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
