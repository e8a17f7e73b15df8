"""A real HTTP receiver (http.server in a thread), the app with loopback targets allowed,
and the integrator's signature check."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import shutil
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from onestop.db import utcnow
from onestop.extensions import db
from onestop.webhooks.config import WebhookConfig
from onestop.webhooks.delivery import PassResult, run_pass
from onestop.webhooks.models import WebhookDelivery
from tests.api.helpers import in_db
from tests.conftest import bearer, demo_app, need_service, token_for


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> dict[str, Any]:
        return dict(json.loads(self.body))


@dataclass
class Receiver:
    """Records every POST; answers ``status`` (default 200), or ``fail_status`` for the next
    ``fail`` requests; waits ``delay`` seconds before answering."""

    url: str = ""
    requests: list[Received] = field(default_factory=list)
    fail: int = 0
    fail_status: int = 500
    delay: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self, received: Received) -> int:
        with self.lock:
            self.requests.append(received)
            if self.fail > 0:
                self.fail -= 1
                return self.fail_status
        return 200

    def ids(self) -> list[int]:
        return [int(r.headers["X-Onestop-Delivery"]) for r in self.requests]


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if receiver.delay:
                time.sleep(receiver.delay)
            status = receiver.answer(Received(self.path, dict(self.headers.items()), body))
            reply = b'{"ok": true}' if status < 300 else b"upstream down"
            self.send_response(status)
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, *_args: Any) -> None:
            pass

    return Handler


@contextmanager
def serve(tls: ssl.SSLContext | None = None, host: str = "127.0.0.1") -> Iterator[Receiver]:
    rec = Receiver()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(rec))
    server.daemon_threads = True
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    scheme = "https" if tls else "http"
    rec.url = f"{scheme}://{host}:{server.server_address[1]}/hooks/onestop?src=test"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield rec
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with serve() as rec:
        yield rec


@pytest.fixture
def self_signed(tmp_path: Path) -> tuple[Path, Path]:
    """A certificate for ``localhost`` (openssl CLI) and its key."""
    if shutil.which("openssl") is None:
        need_service("services", "openssl is not installed (apt-get install openssl)")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "2", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=DNS:localhost"], check=True, capture_output=True)
    return cert, key


@pytest.fixture
def app(tmp_path: Path) -> Iterator[Any]:
    """The demo centre, with webhooks to the loopback receiver allowed."""
    with demo_app(tmp_path, WEBHOOK_ALLOW_LOOPBACK=True) as application:
        yield application


@pytest.fixture
def admin(client: Any) -> str:
    return token_for(client, "admin")


def verify(secret: str, headers: dict[str, str], body: bytes, now: float | None = None,
           tolerance: int = 300) -> bool:
    """The integrator's check, exactly as documented in onestop.webhooks.delivery."""
    timestamp = headers["X-Onestop-Timestamp"]
    signed = timestamp.encode() + b"." + body
    expected = "sha256=" + hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return (hmac.compare_digest(expected, headers["X-Onestop-Signature"])
            and abs((now if now is not None else time.time()) - int(timestamp)) <= tolerance)


def add_webhook(client: Any, token: str, url: str, events: list[str]) -> dict[str, Any]:
    res = client.post("/api/v1/webhooks", json={"url": url, "events": events}, headers=bearer(token))
    assert res.status_code == 201, res.get_data(as_text=True)
    return dict(res.get_json())


def deliver(app: Any, now: dt.datetime | None = None, **settings: Any) -> PassResult:
    """One delivery pass, as ``onestop webhooks deliver`` runs it (``now`` injectable)."""
    config = WebhookConfig.of({**app.config, **settings})
    return run_pass(db.session_factory, config, now or utcnow())


def deliveries(app: Any) -> list[dict[str, Any]]:
    with in_db(app) as session:
        rows = session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id))
        return [{"id": d.id, "webhook_id": d.webhook_id, "event": d.event, "state": d.state,
                 "attempts": d.attempts, "next_attempt_at": d.next_attempt_at,
                 "last_status_code": d.last_status_code, "last_error": d.last_error,
                 "payload": d.payload} for d in rows]
