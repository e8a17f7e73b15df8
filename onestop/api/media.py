"""Hall media (issue 23): uploads, playlists and what a hall display plays.

- ``POST /media`` (admin, multipart ``file``, optional ``title``) -> 201 ``{id, kind, url}``;
  415 ``unsupported_media`` for anything that is not really a PNG/JPEG/WebP image or an MP4
  video (the bytes decide, never the name), 413 past ``MEDIA_MAX_MB``;
- ``GET /media``, ``DELETE /media/{id}`` (admin);
- ``POST /playlists {"zone"?, "items": [{"media_id" | "kind": "qr_cards", "seconds"?,
  "start_date"?, "end_date"?}]}`` (admin) replaces the zone's playlist; ``GET /playlists?zone=``;
- ``GET /display/playlist?zone=`` (public): what a hall display of that zone plays today.
"""

from __future__ import annotations

import base64
import datetime as dt
import io
from typing import Any, Literal

from flask import current_app, request, url_for
from flask_login import current_user
from pydantic import Field, model_validator

from hardware.qr import make_qr
from onestop.accounts.auth import require_user
from onestop.api import accepts_multipart, bp
from onestop.api.common import now, resolve_unit
from onestop.api.schemas import Strict
from onestop.audit import engine as audit
from onestop.extensions import db
from onestop.media import engine
from onestop.media.models import MAX_TITLE, MAX_ZONE, MediaItem
from onestop.queueing.errors import DomainError
from onestop.security import body_limit

ADMIN = ("admin",)
MiB = 1024 * 1024


def max_bytes(config: Any) -> int:
    return int(float(config["MEDIA_MAX_MB"]) * MiB)


def upload_limit(config: Any) -> int:
    """The request may be a little larger than the file: the form's own lines."""
    return max_bytes(config) + 64 * 1024


def media_folder() -> Any:
    return engine.media_dir(current_app.config["DATA_DIR"])


def media_url(item: MediaItem) -> str:
    return url_for("media.file", name=item.file_name)


def media_dict(item: MediaItem) -> dict[str, Any]:
    return {"id": item.id, "kind": item.kind, "url": media_url(item), "title": item.title,
            "mime": item.mime, "size": item.size, "width": item.width, "height": item.height}


def upload(data: bytes, title: str) -> MediaItem:
    """Check and keep one file for the caller's unit, audited (the API and the back office)."""
    session = db.session()
    item = engine.store(session, resolve_unit(), data, title=title, folder=media_folder(),
                        max_bytes=max_bytes(current_app.config), actor_id=int(current_user.id), now=now())
    audit.record_change(session, "create", "media", item.id, None, audit.snapshot(item), unit_id=item.unit_id)
    return item


def remove(media_id: int) -> None:
    session = db.session()
    item = engine.find(session, resolve_unit(), media_id)
    before = audit.snapshot(item)
    name = engine.remove(session, item)
    audit.record_change(session, "delete", "media", media_id, before, None, unit_id=before["unit_id"])
    session.commit()
    engine.remove_unused(session, media_folder(), name)


@bp.post("/media")
@accepts_multipart
@body_limit(upload_limit)
@require_user(*ADMIN)
@bp.doc(summary="Upload an image (PNG, JPEG, WebP) or an MP4 video for the hall displays",
        description="multipart/form-data: `file` (the file), `title` (optional). The type is read "
        "from the content, whatever the file's name: 415 unsupported_media otherwise; "
        "413 payload_too_large past MEDIA_MAX_MB; 400 bad_request without a file.",
        responses={201: "`{id, kind: image|video, url, title, mime, size, width, height}`",
                   400: "bad_request", 401: "unauthorized", 403: "forbidden", 413: "payload_too_large",
                   415: "unsupported_media", 422: "validation_error"})
def create_media() -> tuple[dict[str, Any], int]:
    sent = request.files.get("file")
    if sent is None:
        raise DomainError("bad_request", status=400)
    title = str(request.form.get("title", ""))
    if len(title) > MAX_TITLE or "\x00" in title:
        raise DomainError("validation_error", status=422)
    return media_dict(upload(sent.read(), title or (sent.filename or "")[:MAX_TITLE])), 201


@bp.get("/media")
@require_user(*ADMIN)
@bp.doc(summary="The unit's uploaded media, newest first", responses=[401, 403])
def list_media() -> dict[str, Any]:
    return {"media": [media_dict(m) for m in engine.list_media(db.session(), resolve_unit())]}


@bp.delete("/media/<int:media_id>")
@require_user(*ADMIN)
@bp.doc(summary="Delete a medium (and the playlist lines that play it)", responses=[401, 403, 404])
def delete_media(media_id: int) -> tuple[str, int]:
    remove(media_id)
    return "", 204


class PlaylistLineIn(Strict):
    media_id: int | None = Field(default=None, ge=1, le=2**31 - 1)
    kind: Literal["media", "qr_cards"] = "media"
    seconds: int | None = Field(default=None, ge=1, le=engine.MAX_SECONDS)
    start_date: dt.date | None = None
    end_date: dt.date | None = None

    @model_validator(mode="after")
    def _media_or_cards(self) -> PlaylistLineIn:
        if (self.kind == "media") != (self.media_id is not None):
            raise ValueError("a line is either a media_id or kind qr_cards")
        if self.start_date and self.end_date and self.end_date < self.start_date:
            raise ValueError("end_date before start_date")
        return self


class PlaylistIn(Strict):
    zone: str = Field(default="", max_length=MAX_ZONE)
    items: list[PlaylistLineIn] = Field(max_length=engine.MAX_ITEMS)


class PlaylistQuery(Strict):
    zone: str = Field(default="", max_length=MAX_ZONE)
    unit: str | None = Field(default=None, max_length=40)


@bp.post("/playlists")
@require_user(*ADMIN)
@bp.input(PlaylistIn, arg_name="body")
@bp.doc(summary="Replace a zone's playlist (no zone: the whole hall), in the order given",
        description="Each item is `{media_id, seconds?, start_date?, end_date?}` or "
        "`{kind: qr_cards, seconds?}`; 422 invalid_playlist for a medium of another unit.",
        responses={200: "The playlist as stored", 400: "bad_request", 401: "unauthorized",
                   403: "forbidden", 415: "unsupported_media_type", 422: "invalid_playlist"})
def set_playlist(body: PlaylistIn) -> dict[str, Any]:
    unit = resolve_unit()
    lines = [engine.Line(media_id=i.media_id, kind=i.kind, seconds=i.seconds, starts_on=i.start_date,
                         ends_on=i.end_date) for i in body.items]
    rows = engine.set_playlist(db.session(), unit, body.zone, lines)
    after = {"zone": body.zone.strip(), "items": [engine.line_dict(r) for r in rows]}
    audit.record_change(db.session(), "update", "playlist", body.zone.strip() or "-", None, after,
                        unit_id=unit.id)
    return after


@bp.get("/playlists")
@require_user(*ADMIN)
@bp.input(PlaylistQuery, location="query", arg_name="query")
@bp.doc(summary="A zone's playlist as stored (every line, whatever its dates)",
        responses=[200, 401, 403, 422])
def get_playlist(query: PlaylistQuery) -> dict[str, Any]:
    rows = engine.playlist_rows(db.session(), resolve_unit(), query.zone)
    return {"zone": query.zone.strip(), "items": [engine.line_dict(r) for r in rows]}


def qr_png(data: str) -> str:
    buf = io.BytesIO()
    make_qr(data, target_px=300).save(buf, "PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def qr_cards() -> list[dict[str, Any]]:
    """The most used procedures, each with a QR of its catalogue page."""
    unit = resolve_unit()
    base = str(current_app.config["PUBLIC_BASE_URL"]).rstrip("/")
    since = now() - dt.timedelta(days=engine.QR_DAYS)
    cards = []
    for proc in engine.most_used_procedures(db.session(), unit, since):
        url = f"{base}/kiosk/procedures/{proc.id}?unit={unit.code}"
        cards.append({"code": proc.code, "name": proc.name, "url": url, "qr": qr_png(url)})
    return cards


@bp.get("/display/playlist")
@bp.input(PlaylistQuery, location="query", arg_name="query")
@bp.doc(summary="What a hall display of the zone plays today, in order (public)",
        description="Items: `{kind: image|video, url, title, seconds}` (a video's null seconds: "
        "to its end) and `{kind: qr_cards, seconds, cards: [{code, name, url, qr}]}`. A zone "
        "without a playlist of its own plays the whole hall's.", responses=[200, 404, 422])
def display_playlist(query: PlaylistQuery) -> dict[str, Any]:
    unit = resolve_unit()
    today = unit.business_date(now())
    items: list[dict[str, Any]] = []
    for row, item in engine.playing(db.session(), unit, query.zone, today):
        if item is not None:
            seconds = row.seconds or (None if item.kind == "video" else engine.DEFAULT_IMAGE_SECONDS)
            items.append({"kind": item.kind, "url": media_url(item), "title": item.title, "seconds": seconds})
        elif row.kind == "qr_cards":
            items.append({"kind": "qr_cards", "seconds": row.seconds or engine.DEFAULT_IMAGE_SECONDS,
                          "cards": qr_cards()})
    return {"zone": query.zone.strip(), "date": today.isoformat(), "items": items}
