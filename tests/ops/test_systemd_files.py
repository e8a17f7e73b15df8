"""The files in systemd/: units that systemd accepts, commands and settings that exist."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from onestop.config import DEFAULTS
from tests.conftest import need_service

SYSTEMD = Path(__file__).resolve().parents[2] / "systemd"
ONESTOP = str(Path(sys.executable).with_name("onestop"))
UNITS = sorted(p.name for p in SYSTEMD.iterdir() if p.suffix in (".service", ".timer"))


def test_the_expected_files_are_there() -> None:
    for name in ("onestop@.service", "onestop-kiosk-browser.service", "onestop-display-browser.service",
                 "onestop-agent.service", "onestop-backup.service", "onestop-backup.timer",
                 "onestop-day-close.service", "onestop-day-close.timer", "nginx-onestop.conf",
                 "INSTALL.md", "onestop-admin", "onestop.env.example"):
        assert (SYSTEMD / name).is_file(), name


@pytest.mark.parametrize("name", UNITS)
def test_systemd_accepts_the_unit(name: str, tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        need_service("services", "systemd-analyze is not installed (apt-get install systemd)")
    for unit in UNITS:  # a timer is verified with its service beside it
        shutil.copy(SYSTEMD / unit, tmp_path / unit)
    result = subprocess.run([analyze, "verify", "--man=no", str(tmp_path / name)],
                            capture_output=True, text=True, timeout=60, check=False)
    complaints = [ln for ln in (result.stdout + result.stderr).splitlines() if ln.strip()
                  and "is not executable" not in ln  # /opt/onestop/... and chromium: not on this box
                  and "No such file or directory" not in ln]
    assert not complaints, "\n".join(complaints)


def read(name: str) -> str:
    return (SYSTEMD / name).read_text()


def test_server_template_runs_one_instance_per_port_from_the_env_file() -> None:
    unit = read("onestop@.service")
    assert "EnvironmentFile=/etc/onestop/onestop.env" in unit
    assert "ExecStart=/opt/onestop/.venv/bin/onestop serve --host 127.0.0.1 --port %i" in unit
    assert "Restart=always" in unit and "User=onestop" in unit


def test_timers_run_commands_that_exist() -> None:
    assert "onestop day-close --all-units --yesterday" in read("onestop-day-close.service")
    assert "OnCalendar=" in read("onestop-day-close.timer") and "Persistent=true" in read(
        "onestop-day-close.timer")
    assert "ExecStart=/opt/onestop/.venv/bin/onestop backup" in read("onestop-backup.service")
    help_day = subprocess.run([ONESTOP, "day-close", "--help"], capture_output=True, text=True,
                              timeout=60, check=True).stdout
    assert "--all-units" in help_day and "--yesterday" in help_day


def test_kiosk_browser_is_a_chromium_kiosk_without_error_dialogs() -> None:
    unit = read("onestop-kiosk-browser.service")
    for flag in ("--kiosk", "--noerrdialogs", "--disable-session-crashed-bubble"):
        assert flag in unit
    assert "Restart=always" in unit and "ONESTOP_KIOSK_URL" in unit


def test_nginx_sample_balances_and_passes_websockets() -> None:
    conf = read("nginx-onestop.conf")
    for needle in ("ip_hash;", "location /socket.io/", "proxy_set_header Upgrade $http_upgrade",
                   "ssl_certificate ", "X-Forwarded-For", "X-Forwarded-Proto", "location = /metrics"):
        assert needle in conf, needle
    assert conf.count("{") == conf.count("}")


def test_env_example_names_only_real_settings() -> None:
    names = re.findall(r"^#?ONESTOP_([A-Z_]+)=", read("onestop.env.example"), re.M)
    assert names and set(names) <= set(DEFAULTS), set(names) - set(DEFAULTS)


def test_onestop_admin_reads_the_env_file_and_runs_the_command(tmp_path: Path) -> None:
    env_file = tmp_path / "onestop.env"
    env_file.write_text(f"ONESTOP_DATA_DIR={tmp_path}\nONESTOP_SECRET_KEY=abc\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("ONESTOP_")}
    # as root the script switches to ONESTOP_USER (no "onestop" user here)
    env.update(ONESTOP_ENV_FILE=str(env_file), ONESTOP_BIN=ONESTOP, ONESTOP_USER="root")
    result = subprocess.run(["sh", str(SYSTEMD / "onestop-admin"), "db", "upgrade"], env=env,
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    assert f"database up to date: sqlite:///{tmp_path}/onestop.sqlite3" in result.stdout
    missing = subprocess.run(["sh", str(SYSTEMD / "onestop-admin"), "doctor"],
                             env={**env, "ONESTOP_ENV_FILE": str(tmp_path / "nope.env")},
                             capture_output=True, text=True, timeout=60, check=False)
    assert missing.returncode == 2 and "cannot read" in missing.stderr
