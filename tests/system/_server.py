"""Start ``onestop demo`` / ``onestop serve`` as real processes, and stop them for sure."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import IO, Any

import requests

ONESTOP = str(Path(sys.executable).with_name("onestop"))
START_TIMEOUT = 20.0


def clean_env(**extra: str) -> dict[str, str]:
    """The caller's environment without any ONESTOP_* setting, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ONESTOP_")}
    env.update(extra)
    return env


def run_cli(args: list[str], env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([ONESTOP, *args], env=env, capture_output=True, text=True,
                          timeout=timeout, check=False)


class Server:
    """A server process in its own session (so gunicorn's worker goes down with it)."""

    def __init__(self, args: list[str], env: dict[str, str], port: int, log: Path) -> None:
        self.base = f"http://127.0.0.1:{port}"
        self.log_path = log
        self._log: IO[str] = log.open("w")
        self.proc = subprocess.Popen([ONESTOP, *args], env=env, stdout=self._log,
                                     stderr=subprocess.STDOUT, text=True, start_new_session=True)

    def wait_healthy(self, timeout: float = START_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}:\n{self.log()}")
            try:
                if requests.get(f"{self.base}/healthz", timeout=1).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"no 200 from /healthz within {timeout} s:\n{self.log()}")

    def log(self) -> str:
        self._log.flush()
        return self.log_path.read_text(errors="replace")[-4000:]

    def stop(self) -> None:
        """SIGINT (gunicorn's quick shutdown) to the server's group, SIGKILL if it lingers."""
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGINT)
                self.proc.wait(timeout=10)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                pass
        with contextlib.suppress(ProcessLookupError):  # a worker outliving its master
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=5)
        self._log.close()

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()
