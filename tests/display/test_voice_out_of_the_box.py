"""A Vietnamese voice with nothing installed by hand: the espeakng-loader wheel (a dependency
of the package) speaks when the ``espeak-ng`` program is absent, and the admin page and
``onestop doctor`` say which voice is in use and what it falls back to."""

from __future__ import annotations

import re
import wave
from array import array
from pathlib import Path
from typing import Any

import pytest

from hardware.voice import (
    Announcer,
    Espeak,
    VoiceSettings,
    VoiceUnavailable,
    audio,
    libespeak,
    spoken_sentence,
)
from onestop.ops import doctor
from tests.backoffice.conftest import signed_in, text_of
from tests.display.test_display_app import call

SENTENCE = spoken_sentence("1025", 3, VoiceSettings())


@pytest.fixture
def no_program(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """As on a fresh machine: no ``espeak-ng`` program anywhere on PATH."""
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))


def voiced(samples: array) -> float:
    """Share of 20 ms frames that are not near-silent."""
    size = audio.RATE // 50
    frames = [samples[i:i + size] for i in range(0, len(samples) - size, size)]
    return sum(1 for f in frames if max(abs(s) for s in f) > 1000) / max(len(frames), 1)


def test_the_sentence_reads_the_number_in_words() -> None:
    assert SENTENCE == ("Xin mời công dân có số thứ tự một nghìn không trăm hai mươi lăm "
                        "đến quầy số ba")


def test_the_wheel_ships_a_vietnamese_voice() -> None:
    assert libespeak.paths() is not None, "espeakng-loader is a dependency: pip install -e ."
    assert libespeak.has_voice("vi") and libespeak.has_voice("vi-VN-x-south")


def test_the_wheel_speaks_vietnamese_without_the_program(no_program: None, tmp_path: Path) -> None:
    voice = Espeak(cache_dir=tmp_path / "cache")
    assert voice.binary is None and voice.library and voice.available()
    assert voice.engine().startswith("libespeak-ng (espeakng-loader ")
    samples = voice.render(SENTENCE)
    assert 3.0 < audio.duration(samples) < 10.0  # a spoken sentence, not a beep
    assert voiced(samples) > 0.5
    with wave.open(str(next((tmp_path / "cache").glob("*.wav")))) as wav:
        assert wav.getnchannels() == 1 and wav.getframerate() == audio.RATE
    # the voice really is chosen: an unknown one fails instead of speaking English
    with pytest.raises(VoiceUnavailable):
        Espeak(voice="xx-no-such-voice").render(SENTENCE)


def test_nothing_at_all_falls_back_to_the_chime(no_program: None, tmp_path: Path) -> None:
    ann = Announcer(clips_dir=tmp_path / "none")
    ann.espeak = lambda: Espeak(binary="", library=False)  # type: ignore[method-assign]
    assert ann.announcement(SENTENCE)[0] == "chime"
    assert ann.status("auto").active == "browser"


def test_a_called_ticket_is_announced_in_words_by_the_wheel(app: Any, client: Any,
                                                             no_program: None) -> None:
    ticket = call(app, 1)
    info = client.get(f"/display/announcement.json?ticket={ticket['id']}&counter=1").get_json()
    assert info["server_voice"] == "espeak"
    res = client.get(info["audio_url"])
    assert res.status_code == 200 and res.mimetype == "audio/wav"
    samples = audio.read_wav(res.data)
    chime = audio.duration(audio.chime())
    assert audio.duration(samples) > chime + 2 * 2.0  # chime + the sentence twice


def test_doctor_names_the_voice_and_its_fallback(no_program: None, tmp_path: Path) -> None:
    result = doctor.check_voice({"DATA_DIR": str(tmp_path)})
    assert result.status == doctor.OK
    assert re.search(r"espeak: libespeak-ng \(espeakng-loader [\d.]+\), voice vi; fallback: browser, chime",
                     result.line()), result.line()


def test_doctor_warns_with_the_fix_when_there_is_no_server_voice(
        no_program: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(libespeak, "paths", lambda: None)
    result = doctor.check_voice({"DATA_DIR": str(tmp_path)})
    assert result.status == doctor.WARN and "chime" in result.message
    assert "espeakng-loader" in result.hint


def test_admin_display_page_shows_the_voice_in_use(app: Any, no_program: None) -> None:
    page = text_of(signed_in(app, "admin").get("/admin/display"))
    assert "Giọng đọc trên máy chủ này" in page
    active = re.search(r"data-voice-active>([^<]*)</span> \(([^)]*\))", page)
    assert active, page
    assert active.group(1) == "Giọng máy chủ (espeak-ng)"
    assert "thư viện libespeak-ng của gói espeakng-loader" in active.group(2)
    assert "Dự phòng:" in page and "Giọng của trình duyệt → Chỉ chuông" in page
    assert "Không dùng được: Đoạn ghi âm: chưa có đoạn ghi âm trong" in page


def test_admin_display_page_shows_the_fallback_when_no_voice(app: Any, no_program: None,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(libespeak, "paths", lambda: None)
    page = text_of(signed_in(app, "admin").get("/admin/display"))
    assert re.search(r"data-voice-active>Giọng của trình duyệt</span>", page), page
    assert "chưa cài espeak-ng" in page
