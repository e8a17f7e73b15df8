"""Real outside parts for the message tests: a fake SMS gateway and a fake Zalo ZNS endpoint
(http.server in a thread on a real port, recording what they receive, answering slow, 500,
malformed or refusing on demand) and a real local SMTP server (aiosmtpd)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from onestop.db import utcnow
from onestop.extensions import db
from onestop.notify.config import NotifyConfig
from onestop.notify.delivery import PassResult, run_pass
from onestop.notify.models import NotifyMessage
from onestop.queueing.models import Counter, CounterService, Service
from tests.api.helpers import in_db, unit_of
from tests.conftest import bearer, demo_app, free_port, token_for

SMS_TOKEN = "sms-secret-token"
ZNS_TOKEN = "zns-access-token"


@dataclass
class Gateway:
    """Records every POST by path (``/sms``, ``/zns``); ``mode`` per path: ``ok``, ``slow``
    (waits ``delay`` s), ``500``, ``garbage`` (200 with a body that is not JSON), ``refuse``
    (ZNS: ``{"error": -118}``)."""

    url: str = ""
    requests: list[tuple[str, dict[str, str], dict[str, Any]]] = field(default_factory=list)
    modes: dict[str, str] = field(default_factory=dict)
    delay: float = 30.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def received(self, path: str) -> list[dict[str, Any]]:
        with self.lock:
            return [body for p, _h, body in self.requests if p == path]

    def headers(self, path: str) -> list[dict[str, str]]:
        with self.lock:
            return [h for p, h, _b in self.requests if p == path]


def _handler(gateway: Gateway) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            return

        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            try:
                body = json.loads(raw)
            except ValueError:
                body = {"raw": raw.decode("utf-8", "replace")}
            with gateway.lock:
                gateway.requests.append((self.path, dict(self.headers.items()), body))
            mode = gateway.modes.get(self.path, "ok")
            if mode == "slow":
                time.sleep(gateway.delay)
            status, reply = 200, b'{"ok": true}'
            if self.path == "/zns":
                reply = json.dumps({"error": 0, "message": "Success",
                                    "data": {"msg_id": "m1", "sent_time": "1"}}).encode()
            if mode == "500":
                status, reply = 500, f"gateway down for {body.get('to', '')}".encode()
            elif mode == "garbage":
                reply = b"<html>not json"
            elif mode == "refuse":
                reply = json.dumps({"error": -118, "message": "Zalo account not existed"}).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)
            except OSError:
                pass

    return Handler


@contextmanager
def running_gateway() -> Iterator[Gateway]:
    """A gateway on a free port until the block ends."""
    gw = Gateway()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(gw))
    server.daemon_threads = True
    gw.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield gw
    server.shutdown()
    server.server_close()


@pytest.fixture
def gateway() -> Iterator[Gateway]:
    with running_gateway() as gw:
        yield gw


@dataclass
class Mailbox:
    port: int
    messages: list[EmailMessage] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's name
        message = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        self.messages.append(message)
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[Mailbox]:
    from aiosmtpd.controller import Controller

    box = Mailbox(free_port())
    controller = Controller(box, hostname="127.0.0.1", port=box.port)
    controller.start()
    yield box
    controller.stop()


def settings(gateway: Gateway, smtp: Mailbox | None = None, **extra: Any) -> dict[str, Any]:
    values = {"SMS_URL": gateway.url + "/sms", "SMS_TOKEN": SMS_TOKEN, "NOTIFY_TIMEOUT_S": 1,
              "PUBLIC_BASE_URL": "https://motcua.example.vn"}
    if smtp is not None:
        values.update(SMTP_URL=f"smtp://127.0.0.1:{smtp.port}", MAIL_FROM="motcua@example.vn")
    return {**values, **extra}


@pytest.fixture
def notify_app(tmp_path: Path, gateway: Gateway, smtp: Mailbox) -> Iterator[Any]:
    with demo_app(tmp_path, **settings(gateway, smtp)) as application:
        yield application


def send_due(app: Any, now: Any = None) -> PassResult:
    """One sending pass, as the server's loop runs it."""
    with app.app_context():
        return run_pass(db.session_factory, NotifyConfig.of(app.config), now or utcnow())


def messages(app: Any) -> list[NotifyMessage]:
    with in_db(app) as session:
        rows = list(session.scalars(select(NotifyMessage).order_by(NotifyMessage.id)))
        session.expunge_all()
        return rows


def first_counter(app: Any) -> tuple[int, int, int]:
    """``(counter id, counter number, service id)`` of demo counter 1 and its first field."""
    with in_db(app) as session:
        counter = session.scalars(select(Counter).where(Counter.unit_id == unit_of(session).id)
                                  .order_by(Counter.number)).first()
        assert counter is not None
        service_id = session.scalars(select(CounterService.service_id)
                                     .where(CounterService.counter_id == counter.id)
                                     .order_by(CounterService.position)).first()
        assert service_id is not None and session.get(Service, service_id) is not None
        return counter.id, int(counter.number), int(service_id)


def clerk(client: Any, counter_id: int) -> dict[str, str]:
    headers = bearer(token_for(client, "clerk1"))
    assert client.post(f"/api/v1/counters/{counter_id}/open", headers=headers).status_code == 200
    return headers


@pytest.fixture
def client(notify_app: Any) -> Any:
    return notify_app.test_client()
