"""`onestop doctor`: one line per check, OK/WARN/FAIL with what to do, exit 1 on a FAIL."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import select
from sqlalchemy.orm import Session

from hardware.printing.fakeprinter import FakePrinter, Mode
from onestop.accounts.engine import add_device
from onestop.cli import main
from onestop.db import make_engine, utcnow
from onestop.migrate import upgrade
from onestop.ops import doctor
from onestop.units.models import Unit
from tests.conftest import SECRET, free_port
from tests.ops.conftest import load_demo

GOOD_SECRET = SECRET + "-long-enough-for-doctor"


@pytest.fixture
def deployment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    for key in [k for k in os.environ if k.startswith("ONESTOP_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("ONESTOP_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("ONESTOP_SECRET_KEY", GOOD_SECRET)
    monkeypatch.setenv("ONESTOP_PUBLIC_BASE_URL", "https://192.168.1.10")
    url = f"sqlite:///{tmp_path / 'onestop.sqlite3'}"
    upgrade(url)
    load_demo(url)
    yield url


def add_kiosk(url: str, printer_uri: str, name: str = "Ki-ốt") -> None:
    engine = make_engine(url)
    with Session(engine) as session:
        unit = session.scalars(select(Unit)).first()
        assert unit is not None
        add_device(session, unit, "kiosk", name, now=utcnow(), printer_uri=printer_uri)
        session.commit()
    engine.dispose()


def run() -> Result:
    return CliRunner().invoke(main, ["doctor"])


def line(output: str, name: str) -> str:
    found = [ln for ln in output.splitlines() if ln[6:].startswith(name + " ")]
    assert found, f"no {name} line in:\n{output}"
    return found[0]


def test_a_sound_deployment_passes(deployment: str) -> None:
    assert CliRunner().invoke(main, ["backup"]).exit_code == 0
    with FakePrinter() as printer:
        add_kiosk(deployment, printer.uri)
        result = run()
    assert result.exit_code == 0, result.output
    for name in ("secret", "public-url", "data-dir", "database", "schema", "printer", "fonts",
                 "message-queue", "backups"):
        assert line(result.output, name).startswith("OK "), result.output
    assert "online" in line(result.output, "printer")
    assert "0 failed" in result.output.splitlines()[-1]


def test_failures_say_what_to_do_and_exit_1(deployment: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ONESTOP_SECRET_KEY")
    monkeypatch.setenv("ONESTOP_PUBLIC_BASE_URL", "http://127.0.0.1:8000")
    monkeypatch.setenv("ONESTOP_MESSAGE_QUEUE_URL", f"redis://127.0.0.1:{free_port()}/0")
    add_kiosk(deployment, f"tcp://127.0.0.1:{free_port()}", "Ki-ốt tắt")
    with FakePrinter(Mode.PAPER_OUT) as printer:
        add_kiosk(deployment, printer.uri, "Ki-ốt hết giấy")
        start = time.monotonic()
        result = run()
        took = time.monotonic() - start
    assert result.exit_code == 1, result.output
    assert line(result.output, "secret").startswith("FAIL") and "token_hex" in result.output
    assert line(result.output, "public-url").startswith("FAIL")
    assert line(result.output, "message-queue").startswith("FAIL")
    printers = [ln for ln in result.output.splitlines() if ln[6:].startswith("printer ")]
    assert len(printers) == 2 and all(p.startswith("FAIL") for p in printers), result.output
    assert any("offline" in p and "print-test" in p for p in printers)
    assert any("paper_out" in p for p in printers)
    assert line(result.output, "backups").startswith("WARN")
    assert took < 20


def test_an_old_schema_fails_with_the_upgrade_command(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ONESTOP_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("ONESTOP_DATABASE_URL", raising=False)
    upgrade(f"sqlite:///{tmp_path / 'onestop.sqlite3'}", "0001")
    result = run()
    assert result.exit_code == 1
    schema = line(result.output, "schema")
    assert schema.startswith("FAIL") and "onestop db upgrade" in schema


def test_missing_assets_fail(tmp_path: Path) -> None:
    (tmp_path / "static" / "vendor").mkdir(parents=True)
    (tmp_path / "translations" / "en" / "LC_MESSAGES").mkdir(parents=True)
    (tmp_path / "translations" / "en" / "LC_MESSAGES" / "messages.po").write_text("")
    assets, translations = doctor.check_assets(tmp_path)
    assert assets.status == doctor.FAIL and "build_assets" in assets.hint
    assert translations.status == doctor.WARN and "pybabel compile" in translations.hint
