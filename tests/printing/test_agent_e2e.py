"""Real processes: `onestop demo` serving, `onestop agent` printing to a fake TCP printer,
a kiosk (printer URI ``agent``) issuing over HTTP; the agent killed and restarted; a job
outliving PRINT_JOB_TTL_S; and `onestop print-test`."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import requests
from sqlalchemy import select
from sqlalchemy.orm import Session

from hardware.printing.fakeprinter import FakePrinter, decode
from onestop.accounts.engine import add_device
from onestop.db import make_engine, utcnow
from onestop.units.models import Unit
from tests.conftest import create_schema
from tests.hardware.conftest import read_qr
from tests.livesrv import ONESTOP, demo_server

TTL_S = 8  # long enough for an agent to restart on a busy machine


def devices(data_dir: Path) -> tuple[str, str]:
    """An agent and a kiosk printing through it (``agent``), in the server's database."""
    url = f"sqlite:///{data_dir / 'onestop.sqlite3'}"
    create_schema(url)  # tables newer than the last migration (tests build with create_all)
    engine = make_engine(url)
    with Session(engine) as session:
        unit = session.scalars(select(Unit).order_by(Unit.id)).first()
        assert unit is not None
        _a, agent_token, _c = add_device(session, unit, "agent", "Máy in ki-ốt sảnh", now=utcnow())
        _k, kiosk_token, _c = add_device(session, unit, "kiosk", "Ki-ốt sảnh", now=utcnow(),
                                         printer_uri="agent")
        session.commit()
    engine.dispose()
    return agent_token, kiosk_token


@contextmanager
def agent_process(base: str, token: str, printer: FakePrinter, state: Path, log: Path) -> Iterator[Any]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ONESTOP_")}
    env["ONESTOP_AGENT_TOKEN"] = token  # from the environment, as under systemd
    with log.open("ab") as out:
        proc = subprocess.Popen([ONESTOP, "agent", "--server", base, "--printer", printer.uri,
                                 "--state-file", str(state), "--status-interval", "1"],
                                env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()  # kill -9: no goodbye, as a power cut would do
        proc.wait(timeout=10)


def issue(base: str, token: str) -> dict[str, Any]:
    res = requests.post(f"{base}/api/v1/tickets", json={"service_id": 1},
                        headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert res.status_code == 201, res.text[:300]
    return dict(res.json())


def print_state(base: str, ticket_id: int) -> str:
    return str(requests.get(f"{base}/api/v1/tickets/{ticket_id}", timeout=5).json()["print_state"])


def wait_print_state(base: str, ticket_id: int, want: str, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while (got := print_state(base, ticket_id)) != want:
        assert time.monotonic() < deadline, f"ticket {ticket_id}: print_state {got}, not {want}"
        time.sleep(0.1)


def test_agent_end_to_end_with_real_processes(tmp_path: Path):
    state, log = tmp_path / "agent" / "jobs.json", tmp_path / "agent.log"
    with FakePrinter() as printer, demo_server(tmp_path, ONESTOP_PRINT_JOB_TTL_S=str(TTL_S)) as base:
        agent_token, kiosk_token = devices(tmp_path)
        try:
            # 1. agent up: a kiosk's ticket reaches the printer through it
            with agent_process(base, agent_token, printer, state, log):
                first = issue(base, kiosk_token)
                assert first["print_state"] in ("queued_for_agent",)
                [data] = printer.wait_for_jobs(1, timeout=15)
                page = decode(data).page()
                assert page is not None
                [url] = read_qr(page)
                assert url.startswith(f"{base}/t/{first['id']}?k=")
                wait_print_state(base, first["id"], "printed")
            # 2. agent killed: two tickets wait, and print exactly once when it is back
            waiting = [issue(base, kiosk_token), issue(base, kiosk_token)]
            assert {t["print_state"] for t in waiting} == {"queued_for_agent"}
            with agent_process(base, agent_token, printer, state, log):
                printer.wait_for_jobs(3, timeout=TTL_S)
                for ticket in waiting:
                    wait_print_state(base, ticket["id"], "printed")
                time.sleep(1.0)  # status reports, maybe redeliveries: nothing prints twice
                assert len(printer.jobs()) == 3
                manager = requests.post(f"{base}/api/v1/auth/token", timeout=10,
                                        json={"username": "manager", "password": "demo"}).json()["token"]
                listing = requests.get(f"{base}/api/v1/printers", timeout=10,
                                       headers={"Authorization": f"Bearer {manager}"}).json()
                agent_row = next(d for d in listing["devices"] if d["kind"] == "agent")
                assert agent_row["status"]["state"] == "online" and agent_row["pending_jobs"] == 0
            # 3. agent down longer than PRINT_JOB_TTL_S: the job expires and is never printed
            late = issue(base, kiosk_token)
            time.sleep(TTL_S + 0.5)
            with agent_process(base, agent_token, printer, state, log):
                wait_print_state(base, late["id"], "failed")
                time.sleep(1.0)
                assert len(printer.jobs()) == 3
            listing = requests.get(f"{base}/api/v1/printers", timeout=10,
                                   headers={"Authorization": f"Bearer {manager}"}).json()
            assert [(j["ticket_id"], j["state"]) for j in listing["failed_jobs"]] == [(late["id"], "expired")]
        except BaseException:
            print(log.read_text(errors="replace")[-3000:] if log.exists() else "no agent log")
            print((tmp_path / "server.log").read_text(errors="replace")[-3000:])
            raise


def test_agent_waits_for_the_server_and_survives_its_restart(tmp_path: Path):
    """The agent starts before the server (initial connect retried with backoff) and
    reconnects by itself when the server is stopped and started again."""
    from onestop import demo
    from onestop.migrate import upgrade
    from tests.conftest import SECRET, free_port
    from tests.system._server import Server, clean_env

    url = f"sqlite:///{tmp_path / 'onestop.sqlite3'}"
    upgrade(url)
    engine = make_engine(url)
    with Session(engine) as session:
        demo.load(session)
        session.commit()
    engine.dispose()
    agent_token, kiosk_token = devices(tmp_path)
    port = free_port()
    env = clean_env(ONESTOP_DATA_DIR=str(tmp_path), ONESTOP_SECRET_KEY=SECRET, ONESTOP_ALWAYS_OPEN="1")
    args = ["serve", "--host", "127.0.0.1", "--port", str(port)]
    state, log = tmp_path / "agent" / "jobs.json", tmp_path / "agent.log"
    with FakePrinter() as printer, \
            agent_process(f"http://127.0.0.1:{port}", agent_token, printer, state, log):
        time.sleep(1.5)  # nothing listens yet: the agent keeps trying
        for round_ in (1, 2):
            with Server(args, env, port, tmp_path / f"server{round_}.log") as server:
                server.wait_healthy()
                ticket = issue(server.base, kiosk_token)
                printer.wait_for_jobs(round_, timeout=35)  # at most one backoff step (30 s) away
                wait_print_state(server.base, ticket["id"], "printed")
        assert len(printer.jobs()) == 2
    assert "connected to" in log.read_text()


def test_print_test_command(tmp_path: Path, printer: FakePrinter):
    env = {k: v for k, v in os.environ.items() if not k.startswith("ONESTOP_")}
    env["ONESTOP_PUBLIC_BASE_URL"] = "http://10.0.0.2:8000"
    done = subprocess.run([ONESTOP, "print-test", "--printer", printer.uri], env=env, capture_output=True,
                          text=True, timeout=60, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("printed in ") and "printer online" in done.stdout
    page = decode(printer.wait_for_jobs(1)[0]).page()
    assert page is not None and read_qr(page) == ["http://10.0.0.2:8000"]
    assert not (tmp_path / ".data").exists()  # no database needed, none created
    printer.mode = printer.mode.PAPER_OUT
    done = subprocess.run([ONESTOP, "print-test", "--printer", printer.uri, "--paper", "58"], env=env,
                          capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert done.returncode == 1 and done.stdout.startswith("failed") and "paper out" in done.stdout
