"""Uploaded media and the playlists of the hall displays."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from onestop.accounts.models import _in
from onestop.db import Base, UTCDateTime, utcnow

KINDS = ("image", "video")
ITEM_KINDS = ("media", "qr_cards")
MAX_TITLE = 200
MAX_ZONE = 40


class MediaItem(Base):
    """One uploaded file of a unit. The file is ``<data dir>/media/<file_name>``, named by
    the SHA-256 of its content (the same bytes uploaded twice share one file)."""

    __tablename__ = "media_items"
    __table_args__ = (CheckConstraint(f"kind IN {_in(KINDS)}", name="kind"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    kind: Mapped[str] = mapped_column(String(8))
    mime: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(MAX_TITLE), default="")
    file_name: Mapped[str] = mapped_column(String(80), index=True)
    size: Mapped[int]
    width: Mapped[int | None]
    height: Mapped[int | None]
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class PlaylistItem(Base):
    """One line of a zone's playlist (``zone`` "" = the whole hall), played in ``position``
    order for ``seconds`` (a video: to its end when ``seconds`` is null), only from
    ``starts_on`` to ``ends_on`` (local dates, both included, either open)."""

    __tablename__ = "playlist_items"
    __table_args__ = (
        CheckConstraint(f"kind IN {_in(ITEM_KINDS)}", name="kind"),
        CheckConstraint("(kind = 'media') = (media_id IS NOT NULL)", name="media"),
        Index("ix_playlist_items_zone", "unit_id", "zone", "position"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    zone: Mapped[str] = mapped_column(String(MAX_ZONE), default="")
    position: Mapped[int]
    kind: Mapped[str] = mapped_column(String(10), default="media")
    media_id: Mapped[int | None] = mapped_column(ForeignKey("media_items.id"), index=True)
    seconds: Mapped[int | None]
    starts_on: Mapped[dt.date | None] = mapped_column(Date)
    ends_on: Mapped[dt.date | None] = mapped_column(Date)
