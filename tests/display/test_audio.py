"""Clip packs joined with the standard `wave` module; the generated chime; espeak-ng."""

from __future__ import annotations

import math
import wave
from array import array
from pathlib import Path

import pytest

from hardware.voice import Announcer, ClipPack, Espeak, MissingClip, VoiceSettings, audio
from hardware.voice.backends import CLIP_GAP_MS, COMMA_PAUSE_MS

# clip -> length in ms (all different, so the joined length tells which clips were used)
CLIPS = {"xin mời công dân có số thứ tự": 900, "đến quầy số": 500, "a": 130, "mười": 210,
         "hai": 170, "ba": 190, "một": 150}


def write_clip(path: Path, ms: int, rate: int = audio.RATE, channels: int = 1,
               width: int = 2, freq: float = 440.0) -> None:
    count = rate * ms // 1000
    values = array("h", (int(8000 * math.sin(2 * math.pi * freq * i / rate)) for i in range(count)))
    frames = bytearray()
    for v in values:
        sample = v.to_bytes(2, "little", signed=True) if width == 2 else bytes([(v >> 8) + 128])
        frames += sample * channels
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(channels)
        wav.setsampwidth(width)
        wav.setframerate(rate)
        wav.writeframes(bytes(frames))


@pytest.fixture
def pack(tmp_path: Path) -> Path:
    folder = tmp_path / "clips"
    folder.mkdir()
    for i, (phrase, ms) in enumerate(CLIPS.items()):
        name = phrase.replace(" ", "_") if i % 2 else phrase  # both spellings are accepted
        write_clip(folder / f"{name}.wav", ms, freq=300 + 40 * i)
    return folder


def frames(ms: int) -> int:
    return audio.RATE * ms // 1000


def test_clip_pack_joins_the_clips_in_order(pack: Path) -> None:
    clips = ClipPack(pack)
    text = "Xin mời công dân có số thứ tự A, mười hai đến quầy số ba"
    plan = clips.plan(text)
    assert plan == ["xin mời công dân có số thứ tự", "a", "", "mười", "hai", "đến quầy số", "ba"]
    data = audio.to_wav(clips.render(text))
    with wave.open(__import__("io").BytesIO(data)) as wav:
        assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (1, 2, audio.RATE)
        total = wav.getnframes()
    spoken = [k for k in plan if k]
    expected = (sum(frames(CLIPS[k]) for k in spoken) + frames(COMMA_PAUSE_MS)
                + (len(spoken) - 1) * frames(CLIP_GAP_MS))  # a gap before every clip but the first
    assert total == expected


def test_missing_clip_is_reported(pack: Path) -> None:
    with pytest.raises(MissingClip) as info:
        ClipPack(pack).plan("Xin mời công dân có số thứ tự bốn")
    assert info.value.phrase == "bốn"


def test_clips_in_other_formats_are_converted(tmp_path: Path) -> None:
    write_clip(tmp_path / "stereo.wav", 400, rate=44100, channels=2)
    write_clip(tmp_path / "eight.wav", 250, rate=8000, width=1)
    assert abs(audio.duration(audio.read_wav(tmp_path / "stereo.wav")) - 0.4) < 0.002
    assert abs(audio.duration(audio.read_wav(tmp_path / "eight.wav")) - 0.25) < 0.002
    (tmp_path / "broken.wav").write_bytes(b"RIFF....not a wav")
    with pytest.raises(audio.BadAudio):
        audio.read_wav(tmp_path / "broken.wav")


def test_announcement_is_chime_then_sentence_repeated(pack: Path) -> None:
    settings = VoiceSettings(repeat=2)
    ann = Announcer(settings, clips_dir=pack)
    text = "Xin mời công dân có số thứ tự mười một đến quầy số hai"
    used, data = ann.announcement(text)
    sentence = len(ClipPack(pack).render(text))
    chime = len(audio.chime())
    with wave.open(__import__("io").BytesIO(data)) as wav:
        assert wav.getnframes() == chime + 2 * sentence + frames(700)
    assert used == "clips"


def test_fallback_from_clips_to_chime_only(tmp_path: Path) -> None:
    ann = Announcer(clips_dir=tmp_path / "none")
    ann.espeak = lambda: Espeak(binary="", library=False)  # type: ignore[method-assign]  # none installed
    used, data = ann.announcement("Xin mời số chín")
    assert used == "chime"
    assert abs(audio.wav_duration(data) - audio.duration(audio.chime())) < 0.01


def test_chime_is_generated_and_not_silent() -> None:
    chime = audio.chime()
    assert 1.0 < audio.duration(chime) < 2.0
    assert max(abs(s) for s in chime) > 5000
    assert abs(chime[0]) < 500 and abs(chime[-1]) < 500  # no click at either end


def test_espeak_writes_a_vietnamese_wav(espeak: str, tmp_path: Path) -> None:
    voice = Espeak(cache_dir=tmp_path / "cache")
    samples = voice.render("Xin mời công dân có số thứ tự A, mười hai đến quầy số ba")
    assert 2.0 < audio.duration(samples) < 10.0
    assert max(abs(s) for s in samples) > 1000
    cached = list((tmp_path / "cache").glob("*.wav"))
    assert len(cached) == 1
    with wave.open(str(cached[0])) as wav:
        assert wav.getnchannels() == 1 and wav.getframerate() == audio.RATE
    assert voice.render("Xin mời công dân có số thứ tự A, mười hai đến quầy số ba") == samples
    # falls back to espeak when a clip is missing
    used, _ = Announcer(clips_dir=tmp_path, cache_dir=tmp_path / "cache").announcement("năm")
    assert used == "espeak"


def test_espeak_cache_stays_bounded(tmp_path: Path) -> None:
    from hardware.voice.backends import _prune

    for i in range(12):
        (tmp_path / f"{i}.wav").write_bytes(b"x")
    _prune(tmp_path, limit=8)
    assert len(list(tmp_path.glob("*.wav"))) == 6
