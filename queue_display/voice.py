"""Glue between the web app and ``hardware.voice``: folders, the unit's settings, a call.

Folders (settings ``VOICE_CLIPS_DIR`` / ``VOICE_CACHE_DIR``, i.e. ``ONESTOP_VOICE_CLIPS_DIR``
or ``voice_clips_dir`` in onestop.toml): the clip pack defaults to ``DATA_DIR/voice-clips``,
the espeak-ng cache to ``DATA_DIR/voice-cache``.
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

from flask import current_app

from hardware.voice import (
    SERVER_VOICES,
    Announcer,
    MissingClip,
    VoiceSettings,
    VoiceUnavailable,
    clip_pack,
    folders,
    languages,
)
from onestop.queueing.models import Counter, Ticket
from onestop.units.models import Unit

log = logging.getLogger(__name__)


def clips_dir() -> Path:
    return folders(current_app.config)[0]


def cache_dir() -> Path:
    return folders(current_app.config)[1]


def announcer(unit: Unit, settings: VoiceSettings | None = None, lang: str = "vi") -> Announcer:
    return Announcer(settings or VoiceSettings.from_settings(unit.setting),
                     languages.clips_for(clips_dir(), lang), cache_dir())


def with_repeat(settings: VoiceSettings, repeat: int) -> VoiceSettings:
    return dataclasses.replace(settings, repeat=repeat)


def spoken(ticket: Ticket, counter: Counter, settings: VoiceSettings, lang: str = "vi") -> str:
    return languages.sentence(lang, ticket.label, counter.number, settings, ticket.service.name)


def shown(ticket: Ticket, counter: Counter, settings: VoiceSettings, lang: str = "vi") -> str:
    return languages.sentence(lang, ticket.label, counter.number, settings, ticket.service.name,
                              spoken=False)


def server_voice(ann: Announcer, text: str, order: tuple[str, ...]) -> str | None:
    """The first server back end in ``order`` able to say ``text`` (a clip pack lacking a
    word is skipped), or None: the page then uses the browser's voice or the chime."""
    for name in order:
        if name not in SERVER_VOICES:
            return None
        if name == "clips":
            pack = clip_pack(ann.clips_dir)
            try:
                if pack and pack.plan(text):
                    return name
            except MissingClip as exc:
                log.info("clip pack cannot say %r: %s", text, exc)
        elif ann.espeak().available():
            return name
    return None


def render(ann: Announcer, text: str, order: tuple[str, ...]) -> bytes | None:
    if not order:
        return None
    try:
        return ann.announcement(text, order, chime_only_fallback=False)[1]
    except VoiceUnavailable as exc:
        log.warning("no server voice for %r: %s", text, exc)
        return None
