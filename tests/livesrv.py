"""A real onestop server in a subprocess, for tests that go over the network."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import requests

from tests.conftest import SECRET, free_port

ONESTOP = str(Path(sys.executable).with_name("onestop"))


@contextmanager
def demo_server(data_dir: Path, history_weeks: int = 0, **env: str) -> Iterator[str]:
    """Run ``onestop demo --always-open`` on a free port; yield its base URL.

    No past history by default: it is not what these tests look at, and it slows the start."""
    port = free_port()
    # a browser's open websocket would hold every stop for the full 5 s graceful timeout
    environ = {**os.environ, "ONESTOP_SECRET_KEY": SECRET, "ONESTOP_DATA_DIR": str(data_dir),
               "ONESTOP_GRACEFUL_TIMEOUT_S": "1", **env}
    environ.pop("ONESTOP_DATABASE_URL", None)
    log = (data_dir / "server.log").open("wb")
    proc = subprocess.Popen([ONESTOP, "demo", "--always-open", "--port", str(port),
                             "--history-weeks", str(history_weeks)],
                            env=environ, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(base, proc)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def wait_healthy(base: str, proc: subprocess.Popen[bytes], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            if requests.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise RuntimeError("server did not become healthy")


@contextmanager
def loaded_demo_server(data_dir: Path, prepare: Callable[[Any], None] | None = None,
                       **env: str) -> Iterator[str]:
    """``demo_server`` on a demo database loaded by this process first: with the test run's
    cheap password hashes (``cheap_password_hashing``), signing in costs nothing.
    ``prepare(session)``: more rows of the test's, committed with the demo."""
    from sqlalchemy.orm import Session

    from onestop import demo
    from onestop.db import make_engine
    from onestop.migrate import upgrade

    url = f"sqlite:///{data_dir / 'onestop.sqlite3'}"
    upgrade(url)
    engine = make_engine(url)
    with Session(engine) as session:
        demo.load(session)
        if prepare is not None:
            prepare(session)
        session.commit()
    engine.dispose()
    with demo_server(data_dir, **env) as base:
        yield base
