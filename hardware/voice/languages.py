"""Announcements in more than one language (issue 23): the unit's ``announcement_languages``
(e.g. ``["vi", "en"]``) are said one after the other for each call.

Vietnamese keeps the unit's own template and number reading (``sentence.py``); another
language has its sentence here, its espeak-ng voice, and its own clip pack in a sub-folder
of the pack (``voice-clips/en/``) where the office recorded one.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from hardware.voice.sentence import VoiceSettings, display_sentence, spoken_sentence

DEFAULT_LANGUAGE = "vi"
# language -> (sentence, espeak-ng voice); {number} is the label as printed, {counter} a number
SENTENCES: dict[str, tuple[str, str]] = {
    "en": ("Number {number}, please come to counter {counter}.", "en"),
}
LANGUAGES = (DEFAULT_LANGUAGE, *SENTENCES)


def languages(raw: object) -> list[str]:
    """The unit's setting as a clean list: known languages, in order, once each; Vietnamese
    when nothing valid is left."""
    found: list[str] = []
    for item in raw if isinstance(raw, list | tuple) else [raw]:
        lang = str(item or "").strip().lower()[:8]
        if lang in LANGUAGES and lang not in found:
            found.append(lang)
    return found or [DEFAULT_LANGUAGE]


def settings_for(settings: VoiceSettings, lang: str) -> VoiceSettings:
    """The voice settings for ``lang``: another language reads the label as printed."""
    if lang not in SENTENCES:
        return settings
    _sentence, voice = SENTENCES[lang]
    return dataclasses.replace(settings, espeak_voice=voice)


def sentence(lang: str, label: str, counter_number: int, settings: VoiceSettings | None = None,
             field: str = "", *, spoken: bool = True) -> str:
    """What is said (``spoken``) or shown for one call in ``lang``."""
    if lang not in SENTENCES:
        make = spoken_sentence if spoken else display_sentence
        return make(label, counter_number, settings, field)
    template = SENTENCES[lang][0]
    return template.replace("{number}", label).replace("{counter}", str(counter_number))


def clips_for(folder: Path, lang: str) -> Path:
    """A language's clip pack: the pack itself for Vietnamese, its sub-folder for another."""
    return folder if lang == DEFAULT_LANGUAGE else folder / lang
