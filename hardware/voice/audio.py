"""PCM helpers on the standard library only: read any PCM WAV, join, silence, chime.

Everything is brought to one format (mono, 16-bit, 22,050 Hz: what espeak-ng writes), so
clips recorded on different devices can be joined. Samples are ``array('h')``.
"""

from __future__ import annotations

import io
import math
import sys
import wave
from array import array
from pathlib import Path

RATE = 22050
Samples = array  # array('h'), mono, RATE


class BadAudio(ValueError):
    """A file that is not a PCM WAV this module can read."""


def _frames_to_mono(raw: bytes, width: int, channels: int) -> array:
    if width == 1:
        values = array("h", ((b - 128) << 8 for b in raw))
    elif width == 2:
        values = array("h", raw[: len(raw) // 2 * 2])
        if sys.byteorder == "big":
            values.byteswap()
    elif width in (3, 4):
        step = width
        values = array("h", (int.from_bytes(raw[i + step - 2:i + step], "little", signed=True)
                             for i in range(0, len(raw) - step + 1, step)))
    else:
        raise BadAudio(f"unsupported sample width {width}")
    if channels == 1:
        return values
    return array("h", (sum(values[i:i + channels]) // channels
                       for i in range(0, len(values) - channels + 1, channels)))


def _resample(samples: array, rate: int) -> array:
    if rate == RATE or not samples:
        return samples
    count = max(1, int(len(samples) * RATE / rate))
    ratio = (len(samples) - 1) / max(1, count - 1)
    out = array("h", bytes(2 * count))
    last = len(samples) - 1
    for i in range(count):
        pos = i * ratio
        j = int(pos)
        frac = pos - j
        nxt = samples[j + 1] if j < last else samples[j]
        out[i] = int(samples[j] + (nxt - samples[j]) * frac)
    return out


def read_wav(source: str | Path | bytes) -> array:
    """Any PCM WAV (8/16/24/32-bit, mono or stereo, any rate) -> mono 16-bit at RATE."""
    stream = io.BytesIO(source) if isinstance(source, bytes) else open(source, "rb")  # noqa: SIM115
    try:
        with wave.open(stream, "rb") as wav:
            params = wav.getparams()
            raw = wav.readframes(params.nframes)
    except (wave.Error, EOFError) as exc:
        raise BadAudio(str(exc)) from exc
    finally:
        stream.close()
    mono = _frames_to_mono(raw, params.sampwidth, params.nchannels)
    return _resample(mono, params.framerate)


def to_wav(samples: array) -> bytes:
    out = io.BytesIO()
    data = array("h", samples)
    if sys.byteorder == "big":
        data.byteswap()
    with wave.open(out, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(RATE)
        wav.writeframes(data.tobytes())
    return out.getvalue()


def silence(ms: int) -> array:
    return array("h", bytes(2 * int(RATE * ms / 1000)))


def concat(parts: list[array], gap_ms: int = 0) -> array:
    out = array("h")
    gap = silence(gap_ms)
    for i, part in enumerate(parts):
        if i and gap_ms:
            out.extend(gap)
        out.extend(part)
    return out


def duration(samples: array) -> float:
    return len(samples) / RATE


def wav_duration(data: bytes) -> float:
    with wave.open(io.BytesIO(data), "rb") as wav:
        return wav.getnframes() / wav.getframerate()


def tone(freq: float, ms: int, volume: float = 0.35, decay: float = 3.5) -> array:
    """A bell-like tone: the fundamental with two soft partials, a short attack and an
    exponential decay (no click at either end)."""
    count = int(RATE * ms / 1000)
    attack = int(RATE * 0.008)
    out = array("h", bytes(2 * count))
    for i in range(count):
        t = i / RATE
        env = math.exp(-decay * t) * min(1.0, i / attack if attack else 1.0)
        env *= min(1.0, (count - i) / attack) if attack else 1.0
        wave_ = (math.sin(2 * math.pi * freq * t) + 0.35 * math.sin(4 * math.pi * freq * t)
                 + 0.12 * math.sin(6 * math.pi * freq * t)) / 1.47
        out[i] = int(32767 * volume * env * wave_)
    return out


def chime() -> array:
    """The "ding-dong" before every announcement (generated, never a downloaded file)."""
    return concat([tone(880.0, 420), tone(659.25, 750), silence(250)])
