"""``/admin/media``: images and videos for the hall displays, and each zone's playlist.

Uploads go through the same checks as ``POST /api/v1/media`` (``onestop.api.media.upload``:
the content decides the type, ``MEDIA_MAX_MB`` the size); a playlist line is added at the
end or removed, each change replacing the zone's list through ``onestop.media.engine``.
"""

from __future__ import annotations

from typing import Any

from flask import abort, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms import DateField, IntegerField, SelectField, StringField
from wtforms.validators import Length, NumberRange, Optional

from onestop.api.errors import MESSAGES
from onestop.api.media import remove, upload, upload_limit
from onestop.backoffice import bp
from onestop.backoffice.common import audit, done, session, unit
from onestop.backoffice.forms import BackofficeForm, ConfirmForm
from onestop.media import engine
from onestop.media.models import MAX_TITLE, MAX_ZONE
from onestop.queueing.errors import DomainError
from onestop.security import body_limit

QR = "qr"


class MediaUploadForm(BackofficeForm):
    file = FileField(_l("Tệp ảnh (PNG, JPEG, WebP) hoặc video MP4"), validators=[FileRequired()])
    title = StringField(_l("Tên hiển thị"), validators=[Optional(), Length(max=MAX_TITLE)])


class PlaylistLineForm(BackofficeForm):
    zone = StringField(_l("Khu vực (để trống: cả sảnh)"), validators=[Optional(), Length(max=MAX_ZONE)])
    item = SelectField(_l("Nội dung"))
    seconds = IntegerField(_l("Số giây hiển thị (để trống: ảnh 10 giây, video đến hết)"),
                           validators=[Optional(), NumberRange(min=1, max=engine.MAX_SECONDS)])
    start_date = DateField(_l("Từ ngày"), validators=[Optional()])
    end_date = DateField(_l("Đến ngày"), validators=[Optional()])


def _zone() -> str:
    return str(request.values.get("zone", "")).strip()[:MAX_ZONE]


def _lines(zone: str) -> list[engine.Line]:
    return [engine.Line(media_id=r.media_id, kind=r.kind, seconds=r.seconds, starts_on=r.starts_on,
                        ends_on=r.ends_on) for r in engine.playlist_rows(session(), unit(), zone)
            if r.zone == zone]


def _save(zone: str, lines: list[engine.Line]) -> Any:
    rows = engine.set_playlist(session(), unit(), zone, lines)
    after = {"zone": zone, "items": [engine.line_dict(r) for r in rows]}
    audit("update", "playlist", zone or "-", None, after, unit_id=unit().id)
    return done(_l("Đã lưu danh sách phát."), "backoffice.media", zone=zone or None)


def _page(upload_form: MediaUploadForm, line_form: PlaylistLineForm, status: int = 200) -> Any:
    u, zone = unit(), _zone()
    items = engine.list_media(session(), u)
    names = {m.id: m.title or f"#{m.id}" for m in items}
    line_form.item.choices = [(QR, gettext("Thẻ QR các thủ tục hay dùng"))] + [
        (str(m.id), names[m.id]) for m in items]
    rows = [r for r in engine.playlist_rows(session(), u, zone) if r.zone == zone]
    return render_template("backoffice/media.html", items=items, names=names, rows=rows, zone=zone,
                           upload_form=upload_form, line_form=line_form), status


@bp.get("/media")
def media() -> Any:
    line_form = PlaylistLineForm(formdata=None, zone=_zone())
    return _page(MediaUploadForm(formdata=None), line_form)


@bp.post("/media")
@body_limit(upload_limit)
def media_upload() -> Any:
    form = MediaUploadForm()
    if form.validate_on_submit():
        sent = form.file.data
        try:
            upload(sent.read(), form.title.data or (sent.filename or "")[:MAX_TITLE])
        except DomainError as error:
            session().rollback()
            form.file.errors = [str(MESSAGES.get(error.code, error.code))]
        else:
            return done(_l("Đã tải lên."), "backoffice.media")
    return _page(form, PlaylistLineForm(formdata=None), 422)


@bp.post("/media/<int:media_id>/delete")
def media_delete(media_id: int) -> Any:
    if not ConfirmForm().validate_on_submit():
        abort(400)
    remove(media_id)
    return redirect(url_for("backoffice.media"))


@bp.post("/media/playlist")
def media_playlist_add() -> Any:
    form = PlaylistLineForm()
    form.item.choices = [(QR, "")] + [(str(m.id), "") for m in engine.list_media(session(), unit())]
    if form.validate_on_submit():
        if form.start_date.data and form.end_date.data and form.end_date.data < form.start_date.data:
            form.end_date.errors = [gettext("Ngày kết thúc phải sau ngày bắt đầu.")]
        else:
            zone = (form.zone.data or "").strip()
            qr = form.item.data == QR
            line = engine.Line(media_id=None if qr else int(form.item.data),
                               kind="qr_cards" if qr else "media", seconds=form.seconds.data,
                               starts_on=form.start_date.data, ends_on=form.end_date.data)
            return _save(zone, [*_lines(zone), line])
    return _page(MediaUploadForm(formdata=None), form, 422)


@bp.post("/media/playlist/<int:position>/delete")
def media_playlist_remove(position: int) -> Any:
    if not ConfirmForm().validate_on_submit():
        abort(400)
    zone = _zone()
    lines = _lines(zone)
    if not 0 <= position < len(lines):
        abort(404)
    return _save(zone, lines[:position] + lines[position + 1:])
