"""Audio guidance (issue 23 item 3): one sentence of a citizen's screen said by the hall's
voice engine, for the kiosk's "Nghe hướng dẫn" button and the back office's "Nghe thử".

``GET /kiosk/say.wav?text=…&lang=vi|en``: the unit's clip pack for the language where it has
every word, espeak-ng otherwise (never the chime, never repeated); 503 ``unavailable`` when
this server has no voice (the page then uses the browser's own speech synthesis). Public like
the hall's ``/display/voice.wav``: short texts only, rate-limited, rendered once in a worker
process for everyone asking the same sentence at once and cached by the browser.
"""

from __future__ import annotations

import dataclasses

from flask import Response, request

from hardware.voice import VoiceSettings
from hardware.voice.languages import LANGUAGES, settings_for
from kiosk import bp
from onestop import offload
from onestop.api.common import resolve_unit
from onestop.extensions import db, limiter
from onestop.queueing.errors import DomainError
from queue_display import voice

MAX_TEXT = 300
ORDER = ("clips", "espeak")


@bp.get("/kiosk/say.wav")
@limiter.limit("120 per minute")  # a citizen presses the button a few times a screen
def say_wav() -> Response:
    text = " ".join((request.args.get("text") or "").split())
    lang = request.args.get("lang") or "vi"
    if not text or len(text) > MAX_TEXT or lang not in LANGUAGES:
        raise DomainError("bad_request", status=400)
    unit = resolve_unit()
    settings = settings_for(VoiceSettings.from_settings(unit.setting), lang)
    ann = voice.announcer(unit, dataclasses.replace(settings, repeat=1, chime=False), lang)
    db.release()  # espeak-ng may take a second: not while holding the database
    data = offload.run_shared(("say", repr(ann), text), voice.render, ann, text, ORDER, keep_s=60)
    if data is None:
        raise DomainError("unavailable", status=503)
    response = Response(data, mimetype="audio/wav")
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response
