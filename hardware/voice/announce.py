"""An announcement as audio: chime, then the sentence as many times as configured.

Back ends are tried in the display's order with automatic fallback: the clip pack (when a
clip is missing) -> espeak-ng -> the browser's speechSynthesis (done by the page) -> the
chime alone.
"""

from __future__ import annotations

import functools
from array import array
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hardware.voice import audio, libespeak
from hardware.voice.backends import Espeak, VoiceUnavailable, clip_pack
from hardware.voice.sentence import VoiceSettings

SERVER_VOICES = ("clips", "espeak")
CHAINS: dict[str, tuple[str, ...]] = {
    "auto": ("clips", "espeak", "browser", "chime"),
    "clips": ("clips", "espeak", "browser", "chime"),
    "espeak": ("espeak", "browser", "chime"),
    "browser": ("browser", "chime"),
    "chime": ("chime",),
}
REPEAT_GAP_MS = 700


@dataclass(frozen=True)
class VoiceStatus:
    """What this server will really use for a chosen voice: ``active`` is the first back end
    of the choice's chain that works here, ``engine`` says with what (the espeak-ng program
    or the wheel's library, the clip folder), ``skipped`` the chosen ones that cannot work
    here (with why) and ``fallbacks`` what follows if the active one fails at a call."""

    chosen: str
    active: str
    engine: str
    skipped: tuple[tuple[str, str], ...]
    fallbacks: tuple[str, ...]


def folders(config: Mapping[str, Any]) -> tuple[Path, Path]:
    """(clip pack, espeak cache) from the app settings: ``VOICE_CLIPS_DIR`` and
    ``VOICE_CACHE_DIR``, by default ``DATA_DIR/voice-clips`` and ``DATA_DIR/voice-cache``."""
    data = Path(str(config.get("DATA_DIR") or "."))
    clips, cache = config.get("VOICE_CLIPS_DIR"), config.get("VOICE_CACHE_DIR")
    return (Path(clips) if clips else data / "voice-clips",
            Path(cache) if cache else data / "voice-cache")


def chain(voice: str | None) -> tuple[str, ...]:
    """The fallback order for a display's chosen voice (unknown names mean "auto")."""
    return CHAINS.get(voice or "auto", CHAINS["auto"])


@functools.lru_cache(maxsize=1)
def generated_chime() -> bytes:
    return audio.to_wav(audio.chime())


@dataclass
class Announcer:
    """Server-side audio for announcements. ``clips_dir``: the recorded clip pack (may be
    absent); ``cache_dir``: where synthesised sentences are kept."""

    settings: VoiceSettings = field(default_factory=VoiceSettings)
    clips_dir: Path | None = None
    cache_dir: Path | None = None

    def espeak(self) -> Espeak:
        return Espeak(self.settings.espeak_voice, self.settings.espeak_speed, self.cache_dir)

    def available(self) -> dict[str, bool]:
        return {"clips": bool(clip_pack(self.clips_dir)), "espeak": self.espeak().available()}

    def status(self, chosen: str | None) -> VoiceStatus:
        """The back end this server uses for ``chosen`` (a unit's or display's voice)."""
        order = chain(chosen)
        skipped: list[tuple[str, str]] = []
        for i, name in enumerate(order):
            usable, engine = self._usable(name)
            if usable:
                return VoiceStatus(chosen or "auto", name, engine, tuple(skipped), order[i + 1:])
            skipped.append((name, engine))
        return VoiceStatus(chosen or "auto", "chime", "", tuple(skipped), ())  # not reached: chime

    def _usable(self, name: str) -> tuple[bool, str]:
        """(works here, engine or why not) for one back end."""
        if name == "clips":
            return (True, str(self.clips_dir)) if clip_pack(self.clips_dir) else (False, "no clip pack")
        if name == "espeak":
            voice = self.espeak()
            if not voice.available():
                return False, "espeak-ng not installed (neither the program nor espeakng-loader)"
            if voice.library and not libespeak.has_voice(voice.voice):
                return False, f"libespeak-ng has no voice {voice.voice!r}"
            return True, f"{voice.engine()}, voice {voice.voice}"
        return True, ""  # browser (the display checks its own voices) and chime always exist

    def speak(self, text: str, order: tuple[str, ...]) -> tuple[str, array]:
        """The sentence by the first server back end in ``order`` that can say it."""
        reasons = []
        for name in order:
            try:
                if name == "clips":
                    pack = clip_pack(self.clips_dir)
                    if pack:
                        return name, pack.render(text)
                    reasons.append("clips: no clip pack")
                elif name == "espeak":
                    return name, self.espeak().render(text)
            except VoiceUnavailable as exc:
                reasons.append(f"{name}: {exc}")
        raise VoiceUnavailable("; ".join(reasons) or "no server voice in " + ",".join(order))

    def chime(self) -> array:
        pack = clip_pack(self.clips_dir)
        custom = pack.chime() if pack else None
        return custom if custom is not None else audio.read_wav(generated_chime())

    def chime_wav(self) -> bytes:
        pack = clip_pack(self.clips_dir)
        return audio.to_wav(self.chime()) if pack and pack.chime() is not None else generated_chime()

    def announcement(self, text: str, order: tuple[str, ...] = CHAINS["auto"],
                     chime_only_fallback: bool = True) -> tuple[str, bytes]:
        """(back end used, WAV bytes): chime + sentence x repeat. With no server voice the
        result is the chime alone (back end ``"chime"``) or, if not allowed, an error."""
        try:
            name, sentence = self.speak(text, order)
        except VoiceUnavailable:
            if not chime_only_fallback:
                raise
            return "chime", audio.to_wav(self.chime())
        parts = [self.chime()] if self.settings.chime else []
        for i in range(self.settings.repeat):
            if i:
                parts.append(audio.silence(REPEAT_GAP_MS))
            parts.append(sentence)
        return name, audio.to_wav(audio.concat(parts))
