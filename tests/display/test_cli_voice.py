"""`onestop voice say`: the sentence on stdout, the audio with --out."""

from __future__ import annotations

import wave
from pathlib import Path

import pytest
from click.testing import CliRunner

from onestop.cli import main


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("ONESTOP_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("ONESTOP_DATABASE_URL", raising=False)
    return tmp_path


def test_say_prints_the_sentence_without_a_database(data_dir: Path) -> None:
    result = CliRunner().invoke(main, ["voice", "say", "--number", "1024", "--counter", "3"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == (
        "Xin mời công dân có số thứ tự một nghìn không trăm hai mươi tư đến quầy số ba")
    assert not (data_dir / "onestop.sqlite3").exists()


def test_say_uses_the_unit_settings(data_dir: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(main, ["db", "upgrade"]).exit_code == 0
    assert runner.invoke(main, ["unit", "add", "--code", "X1", "--name", "UBND xã Thử"]).exit_code == 0
    from onestop.db import Database, make_engine
    from onestop.units.models import Unit

    database = Database()
    database.engine = make_engine(f"sqlite:///{data_dir / 'onestop.sqlite3'}")
    database.session_factory.configure(bind=database.engine)
    with database.transaction() as session:
        unit = session.query(Unit).one()
        unit.settings = {"announcement_template": "Mời số {số} đến quầy {quầy}",
                         "announcement_number_mode": "digits"}
    database.engine.dispose()
    result = runner.invoke(main, ["voice", "say", "--number", "A012", "--counter", "2"])
    assert result.output.strip() == "Mời số A, không một hai đến quầy hai"
    wrong = runner.invoke(main, ["voice", "say", "--number", "1", "--counter", "2", "--unit", "NOPE"])
    assert wrong.exit_code != 0


def test_say_writes_a_wav(data_dir: Path, espeak: str) -> None:
    out = data_dir / "call.wav"
    result = CliRunner().invoke(main, ["voice", "say", "--number", "A012", "--counter", "3",
                                       "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "A, mười hai" in result.output and "espeak" in result.output
    with wave.open(str(out)) as wav:
        assert wav.getnchannels() == 1 and wav.getnframes() / wav.getframerate() > 3


def test_say_chime_only(data_dir: Path) -> None:
    out = data_dir / "chime.wav"
    result = CliRunner().invoke(main, ["voice", "say", "--number", "5", "--counter", "1", "--voice",
                                       "chime", "--out", str(out)])
    assert result.exit_code == 0, result.output
    with wave.open(str(out)) as wav:
        assert 1 < wav.getnframes() / wav.getframerate() < 2
