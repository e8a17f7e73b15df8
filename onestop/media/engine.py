"""Media and playlists: plain functions on a session (they flush, never commit).

Files live in ``<data dir>/media``, named ``<sha256>.<ext>``: written once (to a temporary
name, then renamed, so a half-written file is never served), shared by equal uploads, and
removed with the last row that names them (:func:`remove_unused`, after the commit).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from onestop.dossiers.models import Dossier, Procedure
from onestop.media.content import NotMedia, sniff
from onestop.media.models import MAX_TITLE, MAX_ZONE, MediaItem, PlaylistItem
from onestop.queueing.errors import DomainError, NotFound
from onestop.units.models import Unit

MAX_ITEMS = 100
MAX_SECONDS = 3600
DEFAULT_IMAGE_SECONDS = 10
QR_CARDS = 6  # procedures shown by a "QR cards" item
QR_DAYS = 90  # "most used": dossiers received in this many days


@dataclass(frozen=True)
class Line:
    """One line of a playlist as asked: a media item or the QR cards, with its dates."""

    media_id: int | None = None
    kind: str = "media"
    seconds: int | None = None
    starts_on: dt.date | None = None
    ends_on: dt.date | None = None


def media_dir(data_dir: str | Path) -> Path:
    return Path(data_dir) / "media"


def store(session: Session, unit: Unit, data: bytes, *, title: str, folder: Path, max_bytes: int,
          actor_id: int | None, now: dt.datetime) -> MediaItem:
    """Check ``data`` by its content and keep it: 413 ``payload_too_large`` past ``max_bytes``,
    415 ``unsupported_media`` unless it is really a PNG/JPEG/WebP image or an MP4 video."""
    if len(data) > max_bytes:
        raise DomainError("payload_too_large", status=413)
    try:
        found = sniff(data)
    except NotMedia as exc:
        raise DomainError("unsupported_media", status=415) from exc
    name = f"{hashlib.sha256(data).hexdigest()}.{found.ext}"
    _write_once(folder, name, data)
    item = MediaItem(unit_id=unit.id, kind=found.kind, mime=found.mime, title=title.strip()[:MAX_TITLE],
                     file_name=name, size=len(data), width=found.width, height=found.height,
                     created_at=now, created_by_id=actor_id)
    session.add(item)
    session.flush()
    return item


def _write_once(folder: Path, name: str, data: bytes) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    if (folder / name).exists():
        return
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".upload-")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, folder / name)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def find(session: Session, unit: Unit, media_id: int) -> MediaItem:
    item = session.get(MediaItem, media_id) if 0 < media_id < 2**31 else None
    if item is None or item.unit_id != unit.id:
        raise NotFound("media_not_found")
    return item


def list_media(session: Session, unit: Unit) -> list[MediaItem]:
    return list(session.scalars(select(MediaItem).where(MediaItem.unit_id == unit.id)
                                .order_by(MediaItem.id.desc())))


def remove(session: Session, item: MediaItem) -> str:
    """Delete ``item`` and the playlist lines that play it; the file's name, for
    :func:`remove_unused` once the transaction is committed."""
    session.execute(delete(PlaylistItem).where(PlaylistItem.media_id == item.id))
    session.delete(item)
    session.flush()
    return item.file_name


def remove_unused(session: Session, folder: Path, name: str) -> None:
    """Remove the file ``name`` if no row names it any more."""
    if session.scalar(select(func.count()).where(MediaItem.file_name == name)) == 0:
        (folder / name).unlink(missing_ok=True)


def set_playlist(session: Session, unit: Unit, zone: str, lines: list[Line]) -> list[PlaylistItem]:
    """Replace the playlist of ``zone`` ("" = the whole hall) by ``lines``, in that order.
    422 ``invalid_playlist`` for a medium of another unit or an end before its start."""
    zone = zone.strip()[:MAX_ZONE]
    if len(lines) > MAX_ITEMS:
        raise DomainError("invalid_playlist", status=422)
    for line in lines:
        if line.kind == "media":
            find_for_playlist(session, unit, line.media_id)
        if line.starts_on and line.ends_on and line.ends_on < line.starts_on:
            raise DomainError("invalid_playlist", status=422)
    session.execute(delete(PlaylistItem).where(PlaylistItem.unit_id == unit.id, PlaylistItem.zone == zone))
    rows = [PlaylistItem(unit_id=unit.id, zone=zone, position=i, kind=line.kind,
                         media_id=line.media_id if line.kind == "media" else None, seconds=line.seconds,
                         starts_on=line.starts_on, ends_on=line.ends_on) for i, line in enumerate(lines)]
    session.add_all(rows)
    session.flush()
    return rows


def find_for_playlist(session: Session, unit: Unit, media_id: int | None) -> MediaItem:
    try:
        return find(session, unit, media_id or 0)
    except NotFound as exc:
        raise DomainError("invalid_playlist", status=422, media_id=media_id) from exc


def playlist_rows(session: Session, unit: Unit, zone: str) -> list[PlaylistItem]:
    """The lines of ``zone``'s playlist, or the whole hall's when the zone has none."""
    def rows(z: str) -> list[PlaylistItem]:
        return list(session.scalars(select(PlaylistItem).where(
            PlaylistItem.unit_id == unit.id, PlaylistItem.zone == z).order_by(PlaylistItem.position)))
    return (rows(zone.strip()[:MAX_ZONE]) if zone.strip() else []) or rows("")


def playing(session: Session, unit: Unit, zone: str, today: dt.date) -> list[tuple[PlaylistItem,
                                                                                    MediaItem | None]]:
    """What a display of ``zone`` plays on ``today`` (a local date), in order."""
    out: list[tuple[PlaylistItem, MediaItem | None]] = []
    for row in playlist_rows(session, unit, zone):
        if (row.starts_on and today < row.starts_on) or (row.ends_on and today > row.ends_on):
            continue
        out.append((row, session.get(MediaItem, row.media_id) if row.media_id else None))
    return out


def most_used_procedures(session: Session, unit: Unit, since: dt.datetime,
                         limit: int = QR_CARDS) -> list[Procedure]:
    """The unit's active procedures with the most dossiers received since ``since``; filled
    up with the others (by code) when fewer were used."""
    counts = dict(session.execute(
        select(Dossier.procedure_id, func.count())
        .where(Dossier.unit_id == unit.id, Dossier.received_at >= since)
        .group_by(Dossier.procedure_id)).tuples().all())
    active = list(session.scalars(select(Procedure).where(
        Procedure.unit_id == unit.id, Procedure.active.is_(True)).order_by(Procedure.code)))
    active.sort(key=lambda p: -counts.get(p.id, 0))  # stable: ties keep the code order
    return active[:limit]


def line_dict(row: PlaylistItem) -> dict[str, Any]:
    return {"kind": row.kind, "media_id": row.media_id, "seconds": row.seconds,
            "start_date": row.starts_on.isoformat() if row.starts_on else None,
            "end_date": row.ends_on.isoformat() if row.ends_on else None}
