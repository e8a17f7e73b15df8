"""Announcements in more than one language (issue 23 item 2): the unit's
``announcement_languages`` in /display/config.json, the sentence per language from
/display/announcement.json and ``onestop voice say --lang en``."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

from sqlalchemy import select

from onestop.extensions import db
from onestop.units.models import Unit
from tests.api.helpers import ok
from tests.conftest import bearer, demo_app, token_for
from tests.livesrv import ONESTOP


def test_voice_say_speaks_english(tmp_path: Path) -> None:
    env = {**os.environ, "ONESTOP_DATA_DIR": str(tmp_path)}
    env.pop("ONESTOP_DATABASE_URL", None)
    said = subprocess.run([ONESTOP, "voice", "say", "--number", "A012", "--counter", "3", "--lang", "en"],
                          env=env, capture_output=True, text=True, check=True).stdout.strip()
    assert said == "Number A012, please come to counter 3."
    vi = subprocess.run([ONESTOP, "voice", "say", "--number", "A012", "--counter", "3"],
                        env=env, capture_output=True, text=True, check=True).stdout.strip()
    assert vi.startswith("Xin mời công dân có số thứ tự")


def test_the_display_gets_the_languages_and_a_sentence_in_each(tmp_path: Path) -> None:
    with demo_app(tmp_path) as app:
        client = app.test_client()
        assert ok(client.get("/display/config.json"))["announcement_languages"] == ["vi"]
        with app.app_context():
            unit = db.session.scalars(select(Unit)).first()
            unit.settings = {**(unit.settings or {}), "announcement_languages": ["en", "vi", "xx", "en"]}
            db.session.commit()
        assert ok(client.get("/display/config.json"))["announcement_languages"] == ["en", "vi"]
        headers = bearer(token_for(client, "admin"))
        ok(client.post("/api/v1/counters/1/open", headers=headers))
        res = client.post("/api/v1/tickets", json={"service_id": 1}, headers=headers)
        ticket: dict[str, Any] = ok(res, 201)
        ok(client.post("/api/v1/counters/1/call-next", headers=headers))
        query = f"ticket={ticket['id']}&counter=1&voice=chime"
        en = ok(client.get(f"/display/announcement.json?{query}&lang=en"))
        assert en["text"] == f"Number {ticket['label']}, please come to counter 1." and en["lang"] == "en"
        vi = ok(client.get(f"/display/announcement.json?{query}&lang=vi"))
        assert vi["text"].startswith("Xin mời công dân") and vi["lang"] == "vi"
        # a language the unit does not announce in falls back to its first
        assert ok(client.get(f"/display/announcement.json?{query}&lang=fr"))["lang"] == "en"
