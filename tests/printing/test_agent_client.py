"""hardware.agent without a server: at most once, the job log, expiry, event names."""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path
from typing import Any

import pytest

from hardware import agent as agent_module
from hardware.agent import Agent, AgentConfig, JobLog
from hardware.printing import PrinterUriError
from hardware.printing.fakeprinter import FakePrinter, Mode
from onestop.realtime import events as ev

JOB = b"\x1b@hello\n\x1dV\x00"


def make_agent(tmp_path: Path, uri: str) -> Agent:
    return Agent(AgentConfig(server="http://127.0.0.1:9", token="osd_x", printer=uri,
                             state_file=tmp_path / "state" / "jobs.json"))


def message(job_id: int, data: bytes = JOB, expires_in: float = 60, **extra: Any) -> dict[str, Any]:
    return {"job_id": job_id, "kind": "ticket", "label": "A001", "data": base64.b64encode(data).decode(),
            "expires_in": expires_in, "_received": time.monotonic(), **extra}


def test_a_job_is_printed_once_even_when_delivered_again(tmp_path, printer: FakePrinter):
    agent = make_agent(tmp_path, printer.uri)
    agent.handle(message(1))
    agent.handle(message(1))
    assert printer.wait_for_jobs(1) == [JOB + b"\x10\x04\x01\x10\x04\x04"]  # the job, then its status query
    assert agent.jobs.get(1)["state"] == "printed"
    # the agent restarts: its job log remembers
    again = make_agent(tmp_path, printer.uri)
    again.handle(message(1))
    time.sleep(0.2)
    assert len(printer.jobs()) == 1
    assert again.jobs.unacked() == [1]  # never confirmed by a server: sent again on connect


def test_a_job_interrupted_by_a_crash_is_not_printed_again(tmp_path, printer: FakePrinter):
    state = tmp_path / "state" / "jobs.json"
    state.parent.mkdir()
    state.write_text(json.dumps({"jobs": {"7": {"state": "printing", "acked": False, "at": 1}}}))
    agent = make_agent(tmp_path, printer.uri)
    assert agent.jobs.unacked() == []
    agent.handle(message(7))
    assert printer.jobs() == []
    entry = agent.jobs.get(7)
    assert (entry["state"], entry["error"]) == ("sent", "agent_interrupted")


def test_the_job_id_is_on_disk_before_the_printer_gets_the_job(tmp_path):
    seen: list[Any] = []
    state = tmp_path / "state" / "jobs.json"

    class Spy:
        uri = "spy://"

        def send(self, data: bytes) -> Any:
            seen.append(json.loads(state.read_text())["jobs"]["3"]["state"])
            from hardware.printing import PrintResult, PrintState

            return PrintResult(PrintState.SENT)

        def status(self) -> Any:
            raise AssertionError

    agent = Agent(AgentConfig(server="http://127.0.0.1:9", token="t", printer="dummy", state_file=state),
                  printer_factory=lambda uri: Spy())  # type: ignore[arg-type,return-value]
    agent.handle(message(3))
    assert seen == ["printing"]
    assert json.loads(state.read_text())["jobs"]["3"]["state"] == "sent"


def test_expired_and_malformed_jobs_are_not_printed(tmp_path, printer: FakePrinter):
    agent = make_agent(tmp_path, printer.uri)
    agent.handle(message(1, expires_in=1, _received=time.monotonic() - 2))
    agent.handle(message(2, data=b"", expires_in=60) | {"data": "%%% not base64"})
    time.sleep(0.1)
    assert printer.jobs() == []
    assert (agent.jobs.get(1)["state"], agent.jobs.get(1)["error"]) == ("expired", "print_expired")
    assert (agent.jobs.get(2)["state"], agent.jobs.get(2)["error"]) == ("failed", "bad_job")
    assert sorted(agent.jobs.unacked()) == [1, 2]


def test_a_failed_print_is_reported_with_its_code(tmp_path, printer: FakePrinter):
    printer.mode = Mode.PAPER_OUT
    agent = make_agent(tmp_path, printer.uri)
    agent.handle(message(4))
    assert (agent.jobs.get(4)["state"], agent.jobs.get(4)["error"]) == ("failed", "printer_paper_out")


def test_job_log_survives_a_corrupt_file_and_stays_small(tmp_path):
    path = tmp_path / "jobs.json"
    path.write_text("{not json")
    log = JobLog(path, keep=3)
    for i in range(5):
        log.record(i, "printed")
    assert sorted(json.loads(path.read_text())["jobs"]) == ["2", "3", "4"]
    log.acked(4)
    assert sorted(log.unacked()) == [2, 3]


def test_the_agent_refuses_an_agent_uri_or_a_bad_one(tmp_path):
    with pytest.raises(ValueError):
        make_agent(tmp_path, "agent://3")
    with pytest.raises(PrinterUriError):
        make_agent(tmp_path, "lpt://1")


def test_event_names_match_the_server():
    assert agent_module.NAMESPACE == ev.AGENT_NS
    assert (agent_module.JOB_PRINT, agent_module.JOB_ACK, agent_module.AGENT_STATUS) == (
        ev.JOB_PRINT, ev.JOB_ACK, ev.AGENT_STATUS)


def test_hardware_does_not_import_the_web_layer():
    source = Path(agent_module.__file__).read_text()
    assert "import flask" not in source and "from flask" not in source
    assert "from onestop" not in source and "import onestop" not in source


def test_a_job_pushed_during_the_handshake_is_acknowledged_once_connected(tmp_path, printer: FakePrinter):
    """The server pushes waiting jobs before its CONNECT packet; the client's ``connected``
    flag turns true only later. The ack must not be lost in between (it was, once, in CI)."""
    agent = make_agent(tmp_path, printer.uri)
    acks: list[tuple[str, int, str]] = []

    class Client:  # stands in for the socket only: no server here
        connected = False

        def call(self, event: str, body: dict[str, Any], namespace: str, timeout: float) -> Any:
            acks.append((event, body["job_id"], body["state"]))
            return {"ok": True}

        def emit(self, *args: Any, **kwargs: Any) -> None:
            pass

    agent.sio = Client()  # type: ignore[assignment]
    agent._on_job(message(5))  # before the connect handler
    agent._on_connect()
    agent._queue.put(None)
    agent._work()
    assert acks == [(ev.JOB_ACK, 5, "printed")]
    assert agent.jobs.unacked() == []
    assert len(printer.wait_for_jobs(1)) == 1
