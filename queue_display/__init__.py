"""Hall display, counter displays and voice announcements (blueprint ``/display``).

Pages are public (they show what the hall already sees); a paired display device adds
its own settings (``zones``, ``voice``) through the device cookie. Live data comes from the
``/display`` Socket.IO namespace; this blueprint serves the pages, their configuration and
the announcement audio.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from flask import Blueprint, Response, redirect, render_template, request, url_for
from sqlalchemy import select

from hardware.voice import Announcer, VoiceSettings, chain
from hardware.voice.languages import languages, settings_for
from onestop import offload
from onestop.accounts.auth import current_device
from onestop.accounts.models import Device
from onestop.api.common import resolve_unit
from onestop.db import utcnow
from onestop.extensions import db, limiter
from onestop.queueing.desk import current_message
from onestop.queueing.errors import DomainError, NotFound
from onestop.queueing.models import Counter, Ticket
from onestop.queueing.state import iso
from onestop.units.models import Unit
from queue_display import voice

bp = Blueprint("queue_display", __name__, url_prefix="/display", template_folder="templates",
               static_folder="static")

VOICES = ("auto", "clips", "espeak", "browser", "chime")
MAX_ZONES = 20


@bp.get("/")
def hall() -> str:
    return render_template("queue_display/hall.html")


@bp.get("/counter/")
def counter_home() -> Any:
    """A paired counter display opens the screen of the counter it is bound to."""
    device = current_device()
    if device is not None and device.counter_id is not None:
        counter = db.session.get(Counter, device.counter_id)
        if counter is not None:
            return redirect(url_for("queue_display.counter_screen", number=counter.number))
    raise NotFound("counter_not_found")


@bp.get("/counter/<int:number>")
def counter_screen(number: int) -> str:
    unit = resolve_unit()
    counter = db.session.scalar(select(Counter).where(Counter.unit_id == unit.id,
                                                      Counter.number == number))
    if counter is None:
        raise NotFound("counter_not_found")
    return render_template("queue_display/counter.html", unit=unit, counter=counter)


def _zones(device: Device | None) -> list[str]:
    if device is not None and device.settings.get("zones"):
        return [str(z) for z in device.settings["zones"]][:MAX_ZONES]
    raw = request.args.get("zone", "")[:200]
    return [z.strip() for z in raw.split(",") if z.strip()][:MAX_ZONES]


def _voice(unit: Unit, device: Device | None) -> str:
    asked = request.args.get("voice") or (device.settings.get("voice") if device else None)
    chosen = asked or unit.setting("announcement_voice")
    return chosen if chosen in VOICES else "auto"


def _int_setting(unit: Unit, key: str, low: int, high: int) -> int:
    try:
        return max(low, min(high, int(unit.setting(key))))
    except (TypeError, ValueError):
        return low


@bp.get("/config.json")
def config() -> dict[str, Any]:
    """What a display needs besides the live snapshot: texts, clock, voice and its fallbacks."""
    unit = resolve_unit()
    device = current_device()
    settings = VoiceSettings.from_settings(unit.setting)
    chosen = _voice(unit, device)
    return {
        "unit": {"id": unit.id, "code": unit.code, "name": unit.name, "timezone": unit.timezone},
        "now": iso(utcnow()),
        "notice": str(unit.setting("display_notice") or "")[:1000],
        # the manager's timed message ({text, until} or None), shown instead of the notice
        "message": current_message(unit, utcnow()),
        "recent_calls": _int_setting(unit, "display_recent_calls", 0, 12),
        "highlight_seconds": _int_setting(unit, "display_highlight_seconds", 2, 60),
        "zones": _zones(device),
        "device": {"id": device.id, "name": device.name, "kind": device.kind} if device else None,
        "voice": chosen, "chain": list(chain(chosen)),
        "repeat": settings.repeat, "chime": settings.chime,
        "server_voices": voice.announcer(unit).available(),
        "chime_url": url_for("queue_display.chime_wav"),
        "announcement_languages": languages(unit.setting("announcement_languages")),
    }


def _lang(unit: Unit) -> tuple[str, VoiceSettings]:
    """``?lang=``: one of the unit's announcement languages (else its first), and the voice
    settings for it (the chime comes once, before the first language)."""
    allowed = languages(unit.setting("announcement_languages"))
    asked = request.args.get("lang", "")
    lang = asked if asked in allowed else allowed[0]
    settings = settings_for(_repeat(VoiceSettings.from_settings(unit.setting)), lang)
    return lang, settings if lang == allowed[0] else dataclasses.replace(settings, chime=False)


def _call(unit: Unit) -> tuple[Ticket, Counter]:
    try:
        ticket_id, counter_id = int(request.args["ticket"]), int(request.args["counter"])
    except (KeyError, ValueError) as exc:
        raise DomainError("bad_request", status=400) from exc
    ticket = db.session.get(Ticket, ticket_id)
    counter = db.session.get(Counter, counter_id)
    if ticket is None or ticket.unit_id != unit.id:
        raise NotFound("ticket_not_found")
    if counter is None or counter.unit_id != unit.id:
        raise NotFound("counter_not_found")
    return ticket, counter


def _repeat(settings: VoiceSettings) -> VoiceSettings:
    """``?repeat=1``: a display with calls waiting shortens the announcement (never lengthens)."""
    try:
        asked = int(request.args.get("repeat", settings.repeat))
    except ValueError:
        asked = settings.repeat
    return voice.with_repeat(settings, max(1, min(settings.repeat, asked)))


@bp.get("/announcement.json")
def announcement() -> dict[str, Any]:
    """The sentence for one call (``?ticket=&counter=&voice=``) and where its audio is."""
    unit = resolve_unit()
    ticket, counter = _call(unit)
    lang, settings = _lang(unit)
    chosen = _voice(unit, current_device())
    order = chain(chosen)
    text = voice.spoken(ticket, counter, settings, lang)
    server_voice = voice.server_voice(voice.announcer(unit, settings, lang), text, order)
    audio_url = url_for("queue_display.voice_wav", ticket=ticket.id, counter=counter.id,
                        voice=server_voice, repeat=settings.repeat, lang=lang,
                        unit=request.args.get("unit")) if server_voice else None
    return {
        "lang": lang,
        "text": text, "display_text": voice.shown(ticket, counter, settings, lang),
        "label": ticket.label, "counter": counter.number, "repeat": settings.repeat,
        "chime": settings.chime, "voice": chosen, "chain": list(order),
        "server_voice": server_voice, "audio_url": audio_url,
        "chime_url": url_for("queue_display.chime_wav"),
    }


@bp.get("/voice.wav")
@limiter.limit("300 per minute")  # each new sentence may run espeak-ng once
def voice_wav() -> Response:
    """The announcement of one call as WAV: chime + sentence x repeat, by a server voice
    (``?voice=clips|espeak``, falling back from clips to espeak); 503 when none can say it."""
    unit = resolve_unit()
    ticket, counter = _call(unit)
    lang, settings = _lang(unit)
    asked = request.args.get("voice", "auto")
    order = tuple(v for v in chain(asked if asked in VOICES else "auto") if v in ("clips", "espeak"))
    ann, text = voice.announcer(unit, settings, lang), voice.spoken(ticket, counter, settings, lang)
    db.release()  # espeak-ng may take a second: not while holding the database
    # drawn in a worker process (espeak-ng and the mixing are CPU work the event loop must
    # not do), once for every display asking for the same call at once, kept for a minute
    data = offload.run_shared(("voice", repr(ann), text, order), voice.render, ann, text, order, keep_s=60)
    if data is None:
        raise DomainError("unavailable", status=503)
    return _wav(data, max_age=300)


@bp.get("/chime.wav")
def chime_wav() -> Response:
    """The chime alone (the office's ``chime.wav`` clip, else a generated ding-dong)."""
    return _wav(Announcer(clips_dir=voice.clips_dir()).chime_wav(), max_age=3600)


def _wav(data: bytes, max_age: int) -> Response:
    response = Response(data, mimetype="audio/wav")
    response.headers["Cache-Control"] = f"public, max-age={max_age}"
    return response


@bp.get("/pair")
def pair() -> str:
    """Pair this screen as a display device: ``/display/pair?code=XXXX`` (a TV has no
    keyboard, so the code can come in the URL the browser service opens once)."""
    device = current_device()
    return render_template("queue_display/pair.html", device=device,
                           code=request.args.get("code", "")[:16])
