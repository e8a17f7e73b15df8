"""The print agent: runs on the PC that holds a printer (usually the kiosk's own PC).

    onestop agent --server http://10.0.0.2:8000 --token osd_... --printer usb://04b8:0202

It connects to the server's Socket.IO namespace ``/agent`` with the token of a device of
kind ``agent`` (``onestop device add --kind agent``), and stays connected: a lost
connection is retried forever, with exponential backoff (1 s doubling up to 30 s, with
jitter). The server sends every job waiting for this agent on each connect, then each new
one (``job.print``); the agent prints it with :func:`hardware.printing.open_printer` on
its local printer URI and answers ``job.ack`` ``{job_id, state, error, detail}``. Every
``status_interval`` seconds (and on each connect) it reports the printer's status
(``agent.status``); the server raises an alarm for paper out or offline.

At most once, never twice. A job's id is written to the agent's state file (JSON,
replaced atomically and fsynced) *before* its bytes go to the printer. A job delivered
again (the ack was lost, the server resent it on reconnect) is not printed again: the
agent re-sends the outcome it recorded. If the agent dies between the write and the
printer's answer, that job is reported ``sent`` (``agent_interrupted``) and never retried:
a citizen may miss a ticket (staff can reprint it; the kiosk showed the number), but never
gets two. Outcomes not yet acknowledged by the server are sent again on reconnect. A job
that arrives after its ``expires_in`` has run out is acknowledged ``expired`` unprinted.

Nothing here imports Flask or ``onestop``: the kiosk PC needs only this package,
python-socketio's client (``requests``, ``websocket-client``) and the printer driver.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import logging
import os
import queue
import random
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hardware.printing import Driver, PrinterState, PrinterStatus, PrintResult, PrintState, open_printer

log = logging.getLogger("onestop.agent")

# the names of onestop/realtime/events.py (this package cannot import it)
NAMESPACE = "/agent"
JOB_PRINT = "job.print"
JOB_ACK = "job.ack"
AGENT_STATUS = "agent.status"

RECONNECT_DELAY = 1.0
RECONNECT_DELAY_MAX = 30.0
ACK_TIMEOUT = 10.0


def default_state_file() -> Path:
    """``$STATE_DIRECTORY/jobs.json`` under systemd, else ``~/.local/state/onestop-agent/jobs.json``."""
    base = os.environ.get("STATE_DIRECTORY")
    root = Path(base.split(":")[0]) if base else Path.home() / ".local" / "state" / "onestop-agent"
    return root / "jobs.json"


class JobLog:
    """The jobs this agent has handled and how they went, persisted in a JSON file.

    ``{"jobs": {"<id>": {"state", "error", "detail", "acked", "at"}}}``; ``state`` is
    ``printing`` while the printer has the job. The newest ``keep`` entries are kept (the
    server expires jobs after minutes, so older ids cannot come back).
    """

    def __init__(self, path: Path | None, keep: int = 2000) -> None:
        self.path = path
        self.keep = keep
        self._lock = threading.Lock()
        self._jobs: dict[str, dict[str, Any]] = self._load()

    def _load(self) -> dict[str, dict[str, Any]]:
        if self.path is None or not self.path.exists():
            return {}
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            jobs = data.get("jobs", {}) if isinstance(data, dict) else {}
            return {str(k): v for k, v in jobs.items() if isinstance(v, dict)}
        except (OSError, ValueError) as exc:
            # without the log a redelivered job could print twice: say so loudly
            log.error("cannot read the job log %s (%s); starting with an empty one", self.path, exc)
            return {}

    def _save(self) -> None:
        if self.path is None:
            return
        if len(self._jobs) > self.keep:
            oldest = sorted(self._jobs, key=lambda k: self._jobs[k].get("at", 0))
            for key in oldest[: len(self._jobs) - self.keep]:
                del self._jobs[key]
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".jobs-", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump({"jobs": self._jobs}, fh)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise

    def get(self, job_id: int) -> dict[str, Any] | None:
        with self._lock:
            entry = self._jobs.get(str(job_id))
            return dict(entry) if entry else None

    def record(self, job_id: int, state: str, error: str | None = None, detail: str = "") -> None:
        with self._lock:
            self._jobs[str(job_id)] = {"state": state, "error": error, "detail": detail[:300],
                                       "acked": False, "at": time.time()}
            self._save()

    def acked(self, job_id: int) -> None:
        with self._lock:
            entry = self._jobs.get(str(job_id))
            if entry is not None and not entry.get("acked"):
                entry["acked"] = True
                self._save()

    def unacked(self) -> list[int]:
        """Finished jobs whose outcome the server has not confirmed yet."""
        with self._lock:
            return [int(k) for k, v in self._jobs.items()
                    if not v.get("acked") and v.get("state") != "printing"]


def error_code(result: PrintResult) -> str | None:
    """The server's error code for a failed print (see onestop.printing.service.classify)."""
    if result.state is not PrintState.FAILED:
        return None
    state = result.printer.state if result.printer else None
    if state is PrinterState.PAPER_OUT:
        return "printer_paper_out"
    if state is PrinterState.OFFLINE:
        return "printer_offline"
    return "printer_unreachable"


@dataclass
class AgentConfig:
    server: str
    token: str
    printer: str
    state_file: Path | None = None
    status_interval: float = 30.0
    transports: list[str] | None = None  # default: polling, then upgrade to websocket


class Agent:
    """One connection to the server, one printer. :meth:`run` blocks until :meth:`stop`."""

    def __init__(self, config: AgentConfig, *,
                 printer_factory: Callable[[str], Driver] = open_printer) -> None:
        import socketio  # the client extra: requests + websocket-client

        if config.printer.strip().lower().startswith("agent"):
            raise ValueError("the agent's --printer is the local printer (usb://, tcp://, serial://, file://)")
        self.config = config
        self.printer = printer_factory(config.printer)  # raises PrinterUriError for a bad URI
        self.jobs = JobLog(config.state_file)
        self.printed = 0
        self._queue: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self._stopping = threading.Event()
        self._report_now = threading.Event()
        # set by the namespace's connect handler, cleared on disconnect. Not ``sio.connected``:
        # the server sends waiting jobs before the handshake ends, and the client sets that
        # flag only after the connect handler ran, so an ack checked against it was dropped
        self._online = threading.Event()
        self.sio = socketio.Client(reconnection=True, reconnection_attempts=0,
                                   reconnection_delay=RECONNECT_DELAY,
                                   reconnection_delay_max=RECONNECT_DELAY_MAX,
                                   randomization_factor=0.5, logger=False, engineio_logger=False)
        self.sio.on("connect", self._on_connect, namespace=NAMESPACE)
        self.sio.on("disconnect", self._on_disconnect, namespace=NAMESPACE)
        self.sio.on("connect_error", self._on_connect_error, namespace=NAMESPACE)
        self.sio.on(JOB_PRINT, self._on_job, namespace=NAMESPACE)

    # -- connection ------------------------------------------------------------------------

    def run(self) -> None:
        """Connect (retrying forever), print what comes, until :meth:`stop`."""
        workers = [threading.Thread(target=self._work, name="agent-print", daemon=True),
                   threading.Thread(target=self._report_loop, name="agent-status", daemon=True)]
        for thread in workers:
            thread.start()
        delay = RECONNECT_DELAY
        while not self._stopping.is_set():
            try:
                self.sio.connect(self.config.server, auth={"token": self.config.token},
                                 namespaces=[NAMESPACE], transports=self.config.transports, wait_timeout=10)
            except Exception as exc:  # noqa: BLE001 - server down, refused, DNS: retry, forever
                wait = min(delay, RECONNECT_DELAY_MAX) * random.uniform(0.75, 1.25)
                log.warning("cannot connect to %s (%s); again in %.1f s", self.config.server, exc, wait)
                self._stopping.wait(wait)
                delay *= 2
                continue
            delay = RECONNECT_DELAY
            self.sio.wait()  # returns only once the client gives up (it does not) or stop()
        self._queue.put(None)

    def stop(self) -> None:
        self._stopping.set()
        self._report_now.set()
        with contextlib.suppress(Exception):
            self.sio.disconnect()

    def _on_connect(self) -> None:
        log.info("connected to %s", self.config.server)
        self._online.set()
        self._queue.put({"resend": True})  # outcomes the server has not confirmed
        self._report_now.set()

    def _on_disconnect(self, reason: Any = None) -> None:
        self._online.clear()
        if not self._stopping.is_set():
            log.warning("disconnected from the server (%s); reconnecting", reason)

    def _on_connect_error(self, data: Any = None) -> None:
        if isinstance(data, dict):  # the server answered: a wrong or revoked token
            log.error("the server refused this agent: %s (check ONESTOP_AGENT_TOKEN)", data.get("message"))
        else:  # a network error, logged by the retry loop
            log.debug("connection failed: %s", data)

    # -- jobs ------------------------------------------------------------------------------

    def _on_job(self, message: Any = None) -> None:
        if isinstance(message, dict) and isinstance(message.get("job_id"), int):
            message = {**message, "_received": time.monotonic()}
            self._queue.put(message)
        else:
            log.warning("ignored a malformed job message")

    def _work(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            try:
                if item.get("resend"):
                    for job_id in self.jobs.unacked():
                        self._ack(job_id)
                else:
                    self.handle(item)
            except Exception:  # one bad job must not stop the agent
                log.exception("could not handle %s", item.get("job_id"))

    def handle(self, message: dict[str, Any]) -> None:
        """Print one ``job.print`` message at most once, then acknowledge it."""
        job_id = int(message["job_id"])
        known = self.jobs.get(job_id)
        if known is not None:
            if known["state"] == "printing":  # the agent died while printing it: never again
                self.jobs.record(job_id, PrintState.SENT.value, "agent_interrupted",
                                 "the agent stopped while printing this job; not printed again")
            log.info("job %s was already handled (%s); not printed again", job_id, known["state"])
            self._ack(job_id)
            return
        received = float(message.get("_received", time.monotonic()))
        if time.monotonic() > received + float(message.get("expires_in") or 0):
            self.jobs.record(job_id, "expired", "print_expired", "expired before the agent could print it")
            self._ack(job_id)
            return
        try:
            data = base64.b64decode(str(message.get("data", "")), validate=True)
        except (binascii.Error, ValueError):
            self.jobs.record(job_id, PrintState.FAILED.value, "bad_job", "the job's data is not base64")
            self._ack(job_id)
            return
        self.jobs.record(job_id, "printing")  # on disk before the printer sees a byte
        result = self.printer.send(data)
        self.jobs.record(job_id, result.state.value, error_code(result), result.error or result.detail)
        if result.ok:
            self.printed += 1
        log.info("job %s (%s): %s %s", job_id, message.get("label") or message.get("kind"),
                 result.state.value, result.error or "")
        self._ack(job_id)
        if result.printer is not None:
            self._send_status(result.printer)

    def _ack(self, job_id: int) -> None:
        entry = self.jobs.get(job_id)
        if entry is None or not self._online.is_set():
            return  # offline or mid-handshake: the connect handler queues a resend after this job
        body = {"job_id": job_id, "state": entry["state"], "error": entry.get("error"),
                "detail": entry.get("detail", "")}
        try:
            answer = self.sio.call(JOB_ACK, body, namespace=NAMESPACE, timeout=ACK_TIMEOUT)
        except Exception as exc:  # noqa: BLE001 - disconnected or no answer: resent on reconnect
            log.warning("ack of job %s not confirmed (%s); will resend", job_id, exc)
            return
        if isinstance(answer, dict) and answer.get("error"):
            log.warning("the server refused the ack of job %s: %s", job_id, answer["error"])
            if answer["error"] == "unauthorized":
                return
        self.jobs.acked(job_id)

    # -- status ----------------------------------------------------------------------------

    def _report_loop(self) -> None:
        while not self._stopping.is_set():
            self._report_now.wait(self.config.status_interval)
            self._report_now.clear()
            if self._stopping.is_set():
                return
            if self._online.is_set():
                self._send_status(self.printer.status())

    def _send_status(self, status: PrinterStatus) -> None:
        with contextlib.suppress(Exception):
            self.sio.emit(AGENT_STATUS, {"state": status.state.value, "detail": status.detail[:200]},
                          namespace=NAMESPACE)


def run(config: AgentConfig) -> None:
    """Run an agent until SIGTERM / SIGINT (what ``onestop agent`` does)."""
    import signal

    agent = Agent(config)

    def _stop(signum: int, _frame: Any) -> None:
        log.info("signal %s: stopping", signum)
        agent.stop()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    log.info("print agent for %s, printer %s, job log %s", config.server, config.printer, config.state_file)
    agent.run()
