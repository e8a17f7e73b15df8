"""espeak-ng as a library, from the ``espeakng-loader`` wheel (``libespeak-ng.so`` with its
``espeak-ng-data``, Vietnamese included), for machines without the ``espeak-ng`` program.

Run as a program it takes the few options of ``espeak-ng`` that ``backends.Espeak`` uses::

    python -m hardware.voice.libespeak -v vi -s 150 -w out.wav --stdin

so the server calls it exactly like the Debian binary: in a child process (the library keeps
global state, is not thread-safe, and a crash in C must not take the server down; a child
also lets a gevent worker keep serving while it speaks).
"""

from __future__ import annotations

import argparse
import ctypes
import importlib.metadata
import importlib.util
import sys
import wave
from pathlib import Path

PACKAGE = "espeakng_loader"
AUDIO_OUTPUT_SYNCHRONOUS = 2  # espeak_AUDIO_OUTPUT: samples go to the callback, Synth blocks
ESPEAK_RATE = 1  # espeak_PARAMETER
POS_CHARACTER = 1  # espeak_POSITION_TYPE
CHARS_UTF8 = 1
EE_OK = 0
_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int,
                             ctypes.c_void_p)


def paths() -> tuple[Path, Path] | None:
    """(shared library, data folder) of the installed wheel, or None; loads nothing."""
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations)))
    lib, data = folder / "libespeak-ng.so", folder / "espeak-ng-data"
    return (lib, data) if lib.is_file() and data.is_dir() else None


def has_voice(voice: str) -> bool:
    """The wheel is installed and its data holds ``voice`` (``vi``, ``vi-VN-x-south`` ...)."""
    found = paths()
    if found is None:
        return False
    wanted = voice.lower()
    return any(p.name.lower() == wanted for p in (found[1] / "lang").rglob("*") if p.is_file())


def version() -> str:
    try:
        return importlib.metadata.version("espeakng-loader")
    except importlib.metadata.PackageNotFoundError:
        return "?"


def synthesise(text: str, voice: str = "vi", speed: int = 150) -> tuple[int, bytes]:
    """(sample rate, 16-bit mono PCM) for ``text``; raises RuntimeError when it cannot."""
    found = paths()
    if found is None:
        raise RuntimeError("espeakng-loader is not installed")
    lib = ctypes.CDLL(str(found[0]))
    lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
    lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
    lib.espeak_Synth.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int,
                                 ctypes.c_uint, ctypes.c_uint, ctypes.c_void_p, ctypes.c_void_p]
    rate = lib.espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, 0, str(found[1]).encode(), 0)
    if rate <= 0:
        raise RuntimeError(f"libespeak-ng did not start (data {found[1]})")
    chunks: list[bytes] = []

    def collect(samples: ctypes.Array[ctypes.c_short], count: int, _events: int) -> int:
        if samples and count > 0:
            chunks.append(ctypes.string_at(samples, count * 2))
        return 0  # 0: go on

    callback = _CALLBACK(collect)  # kept referenced until Synth returns
    lib.espeak_SetSynthCallback(callback)
    if lib.espeak_SetVoiceByName(voice.encode()) != EE_OK:
        raise RuntimeError(f"libespeak-ng has no voice {voice!r}")
    lib.espeak_SetParameter(ESPEAK_RATE, int(speed), 0)
    data = text.encode() + b"\0"
    if lib.espeak_Synth(data, len(data), 0, POS_CHARACTER, 0, CHARS_UTF8, None, None) != EE_OK:
        raise RuntimeError("libespeak-ng could not say the text")
    lib.espeak_Synchronize()
    lib.espeak_Terminate()
    return rate, b"".join(chunks)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m hardware.voice.libespeak")
    parser.add_argument("-v", dest="voice", default="vi")
    parser.add_argument("-s", dest="speed", type=int, default=150)
    parser.add_argument("-w", dest="out", required=True)
    parser.add_argument("--stdin", action="store_true", help="read the text from stdin (always)")
    args = parser.parse_args(argv)
    try:
        rate, pcm = synthesise(sys.stdin.buffer.read().decode(), args.voice, args.speed)
    except RuntimeError as exc:
        print(exc, file=sys.stderr)
        return 1
    with wave.open(args.out, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(pcm)
    return 0


if __name__ == "__main__":
    sys.exit(main())
