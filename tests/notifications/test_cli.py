"""``onestop notify test`` against the fake gateway, the fake ZNS and the real SMTP server."""

from __future__ import annotations

import os
import subprocess

from tests.livesrv import ONESTOP
from tests.notifications.conftest import SMS_TOKEN


def run(tmp_path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {**os.environ, "ONESTOP_DATA_DIR": str(tmp_path), **env}
    return subprocess.run([ONESTOP, "notify", "test", *args], env=environ, capture_output=True, text=True,
                          timeout=60)


def test_each_channel_once(tmp_path, gateway, smtp):
    env = {"ONESTOP_SMS_URL": gateway.url + "/sms", "ONESTOP_SMS_TOKEN": SMS_TOKEN,
           "ONESTOP_ZNS_URL": gateway.url + "/zns", "ONESTOP_ZNS_TOKEN": "z",
           "ONESTOP_SMTP_URL": f"smtp://127.0.0.1:{smtp.port}", "ONESTOP_MAIL_FROM": "motcua@example.vn"}
    sms = run(tmp_path, "--channel", "sms", "--to", "0912345678", **env)
    assert sms.returncode == 0 and "sent to +84 91*****78" in sms.stdout
    assert gateway.received("/sms")[0]["text"].startswith("Onestop: tin nhan thu")
    zns = run(tmp_path, "--channel", "zns", "--to", "0912345678", "--template-id", "777", **env)
    assert zns.returncode == 0 and gateway.received("/zns")[0]["template_id"] == "777"
    mail = run(tmp_path, "--channel", "email", "--to", "an@example.vn", **env)
    assert mail.returncode == 0 and smtp.messages[0]["To"] == "an@example.vn"
    gateway.modes["/sms"] = "500"
    failed = run(tmp_path, "--channel", "sms", "--to", "0912345678", **env)
    assert failed.returncode == 1 and "http_500" in failed.stderr and "0912345678" not in failed.stderr
    wrong = run(tmp_path, "--channel", "email", "--to", "0912345678", **env)
    assert wrong.returncode == 1
