"""``/media/<name>``: the uploaded files, served by us (a hall display never fetches
anything from outside). Names are content hashes, so a file never changes under its name:
it is cached for a year; Range requests are answered (a browser seeks in a video)."""

from __future__ import annotations

import re

from flask import Blueprint, Response, current_app, send_from_directory
from sqlalchemy import select

from onestop.extensions import db
from onestop.media.engine import media_dir
from onestop.media.models import MediaItem
from onestop.queueing.errors import NotFound

bp = Blueprint("media", __name__, url_prefix="/media")
NAME = re.compile(r"^[0-9a-f]{64}\.(png|jpg|webp|mp4)$")
YEAR = 365 * 24 * 3600


@bp.get("/<name>")
def file(name: str) -> Response:
    mime = db.session.scalar(select(MediaItem.mime).where(MediaItem.file_name == name).limit(1)) \
        if NAME.match(name) else None
    if mime is None:
        raise NotFound("media_not_found")
    db.release()  # a long video download must not hold a database connection
    response = send_from_directory(media_dir(current_app.config["DATA_DIR"]), name, mimetype=mime,
                                   conditional=True, max_age=YEAR)
    response.headers["Cache-Control"] = f"public, max-age={YEAR}, immutable"
    return response
