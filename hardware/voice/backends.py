"""Server-side speech back ends: a recorded clip pack and espeak-ng (program or library).

Each back end turns a sentence into samples (``audio.RATE``, mono, 16-bit) or raises
``VoiceUnavailable`` (``MissingClip`` for a clip pack that lacks a word), so the caller can
fall back to the next one.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import unicodedata
from array import array
from pathlib import Path

from hardware.voice import audio, libespeak

CHIME_CLIP = "chime"
COMMA_PAUSE_MS = 250
CLIP_GAP_MS = 30
ESPEAK_TIMEOUT_S = 15
MAX_CACHE_FILES = 2000
_SEGMENTS = re.compile(r"[,.;:!?…]+")
_ROOT = Path(__file__).resolve().parents[2]  # where `-m hardware.voice.libespeak` resolves


class VoiceUnavailable(RuntimeError):
    """This back end cannot say the sentence (not installed, failed, or a clip missing)."""


class MissingClip(VoiceUnavailable):
    def __init__(self, phrase: str) -> None:
        super().__init__(f"clip missing: {phrase}")
        self.phrase = phrase


def clip_key(name: str) -> str:
    """The phrase a clip file stands for: NFC, lower case, ``_``/``-`` as spaces."""
    text = unicodedata.normalize("NFC", name).lower().replace("_", " ").replace("-", " ")
    return " ".join(text.split())


class ClipPack:
    """A folder of WAV clips, one per word or phrase, named after what they say
    (``mười.wav``, ``đến quầy số.wav``, ``a.wav``); see hardware/voice/README.md."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.files: dict[str, Path] = {}
        if folder.is_dir():
            for path in sorted(folder.iterdir()):
                if path.suffix.lower() == ".wav" and path.is_file():
                    self.files[clip_key(path.stem)] = path
        self._longest = max((len(k.split()) for k in self.files), default=0)
        self._loaded: dict[str, array] = {}
        self._lock = threading.Lock()

    def __bool__(self) -> bool:
        return any(key != CHIME_CLIP for key in self.files)

    def clip(self, key: str) -> array:
        with self._lock:
            if key not in self._loaded:
                try:
                    self._loaded[key] = audio.read_wav(self.files[key])
                except audio.BadAudio as exc:
                    raise VoiceUnavailable(f"bad clip {self.files[key].name}: {exc}") from exc
            return self._loaded[key]

    def plan(self, text: str) -> list[str]:
        """The clips for ``text``, longest phrase first; ``""`` marks a comma pause."""
        out: list[str] = []
        for segment in _SEGMENTS.split(clip_key(text)):
            words = segment.split()
            i = 0
            while i < len(words):
                for size in range(min(self._longest, len(words) - i), 0, -1):
                    phrase = " ".join(words[i:i + size])
                    if phrase in self.files:
                        out.append(phrase)
                        i += size
                        break
                else:
                    raise MissingClip(words[i])
            if words:
                out.append("")
        return out[:-1]

    def render(self, text: str) -> array:
        if not self:
            raise VoiceUnavailable("no clip pack")
        parts: list[array] = []
        for key in self.plan(text):
            if key == "":
                parts.append(audio.silence(COMMA_PAUSE_MS))
            else:
                if parts:
                    parts.append(audio.silence(CLIP_GAP_MS))
                parts.append(self.clip(key))
        return audio.concat(parts)

    def chime(self) -> array | None:
        return self.clip(CHIME_CLIP) if CHIME_CLIP in self.files else None


_packs: dict[tuple[str, tuple[tuple[str, float], ...]], ClipPack] = {}


def clip_pack(folder: Path | None) -> ClipPack | None:
    """The pack in ``folder``, reloaded when a file is added, removed or re-recorded."""
    if folder is None or not folder.is_dir():
        return None
    stamp = tuple(sorted((p.name, p.stat().st_mtime) for p in folder.iterdir()
                         if p.suffix.lower() == ".wav"))
    key = (str(folder), stamp)
    if key not in _packs:
        _packs.clear()
        _packs[key] = ClipPack(folder)
    return _packs[key]


class Espeak:
    """espeak-ng with a Vietnamese voice (``vi``), cached as WAV files named by a hash of
    voice, speed and text.

    Two engines, the same options: the ``espeak-ng`` program when it is on PATH (Debian
    package ``espeak-ng``), else the library shipped by the ``espeakng-loader`` wheel that
    the project's own install brings (``python -m hardware.voice.libespeak``). ``binary=""``
    means "no program", ``library=False`` "no wheel" (tests, a forced fallback).
    """

    def __init__(self, voice: str = "vi", speed: int = 150, cache_dir: Path | None = None,
                 binary: str | None = None, library: bool = True) -> None:
        self.voice, self.speed, self.cache_dir = voice, speed, cache_dir
        self.binary = shutil.which("espeak-ng") if binary is None else binary
        self.library = library and not self.binary and libespeak.paths() is not None

    def available(self) -> bool:
        return bool(self.binary) or self.library

    def engine(self) -> str:
        """Which engine speaks, in words for an administrator ("" when none)."""
        if self.binary:
            return f"espeak-ng ({self.binary})"
        if self.library:
            return f"libespeak-ng (espeakng-loader {libespeak.version()})"
        return ""

    def _command(self) -> list[str]:
        if self.binary:
            return [self.binary]
        if self.library:
            return [sys.executable, "-m", "hardware.voice.libespeak"]
        raise VoiceUnavailable("espeak-ng is not installed (neither the program nor espeakng-loader)")

    def _cache_path(self, text: str) -> Path | None:
        if self.cache_dir is None:
            return None
        digest = hashlib.sha256(f"espeak\0{self.voice}\0{self.speed}\0{text}".encode()).hexdigest()
        return self.cache_dir / f"{digest[:32]}.wav"

    def render(self, text: str) -> array:
        command = self._command()
        cached = self._cache_path(text)
        if cached is not None and cached.is_file():
            return audio.read_wav(cached)
        data = self._run(command, text)
        if cached is not None:
            _store(cached, data)
        return audio.read_wav(data)

    def _run(self, command: list[str], text: str) -> bytes:
        with tempfile.TemporaryDirectory(prefix="onestop-voice-") as tmp:
            out = Path(tmp) / "say.wav"
            try:
                # the text goes through stdin: nothing in it can be taken for an option
                subprocess.run([*command, "-v", self.voice, "-s", str(self.speed), "-w", str(out),
                                "--stdin"], input=text.encode(), capture_output=True, check=True,
                               timeout=ESPEAK_TIMEOUT_S, cwd=_ROOT)
                return out.read_bytes()
            except (OSError, subprocess.SubprocessError) as exc:
                raise VoiceUnavailable(f"espeak-ng failed: {exc}") from exc


def _store(path: Path, data: bytes) -> None:
    """Write atomically (several displays may ask at once), then keep the cache bounded."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".part")
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
        _prune(path.parent)
    except OSError:
        pass  # a cache that cannot be written only costs time


def _prune(folder: Path, limit: int = MAX_CACHE_FILES) -> None:
    files = [e for e in os.scandir(folder) if e.name.endswith(".wav")]
    if len(files) <= limit:
        return
    files.sort(key=lambda e: e.stat().st_mtime)
    for entry in files[: len(files) - limit * 3 // 4]:
        with contextlib.suppress(OSError):
            os.unlink(entry.path)
