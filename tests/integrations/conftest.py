"""A fake provincial TTHC system: a real HTTP server on a free 127.0.0.1 port that records
every request and answers as told (well, slowly, 500, garbage, or not at all), and the demo
app pointed at it."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from sqlalchemy import select

from onestop.extensions import db
from onestop.integrations import status
from onestop.integrations.config import ProvinceConfig
from onestop.integrations.models import ProvincePush
from onestop.integrations.outbox import PassResult, run_pass
from onestop.integrations.worker import adapter_for
from tests.api.helpers import in_db
from tests.conftest import demo_app, free_port

TOKEN = "province-secret-token"


@dataclass
class FakeProvince:
    """``mode``: ok, slow (answers after ``delay`` s), error (500), garbage (not JSON),
    refuse (``error_code`` 1). ``dossiers``: code -> TrangThaiHoSo the lookups answer."""

    url: str = ""
    mode: str = "ok"
    delay: float = 3.0
    dossiers: dict[str, dict[str, Any]] = field(default_factory=dict)
    requests: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self, body: dict[str, Any]) -> tuple[int, bytes]:
        if self.mode == "slow":
            time.sleep(self.delay)
        if self.mode == "error":
            return 500, b"Internal Server Error"
        if self.mode == "garbage":
            return 200, b"<html>not json{"
        if self.mode == "refuse":
            return 200, json.dumps({"error_code": "1", "message": "sai dữ liệu"}).encode()
        if body.get("service") == "TraCuuHoSo":
            row = self.dossiers.get(str(body.get("mahoso")))
            return 200, json.dumps({"error_code": 0, "result": [row] if row else []}).encode()
        return 200, json.dumps({"error_code": "0", "message": "OK"}).encode()

    def services(self) -> list[str]:
        return [r.get("service", "") for r in self.requests]


def _handler(fake: FakeProvince) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            body = json.loads(raw)
            with fake.lock:
                fake.requests.append(body)
                fake.headers.append(dict(self.headers.items()))
            status_code, reply = fake.answer(body)
            try:
                self.send_response(status_code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)
            except OSError:  # the client gave up waiting (the slow mode)
                pass

        def log_message(self, *_args: Any) -> None:
            pass

    return Handler


@pytest.fixture
def province() -> Iterator[FakeProvince]:
    fake = FakeProvince()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake))
    server.daemon_threads = True
    fake.url = f"http://127.0.0.1:{server.server_address[1]}/api/tthc"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    status.clear_cache()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
        status.clear_cache()


@pytest.fixture
def app(tmp_path: Any, province: FakeProvince) -> Iterator[Any]:
    with demo_app(tmp_path, PROVINCE_URL=province.url, PROVINCE_TOKEN=TOKEN, PROVINCE_MAX_ATTEMPTS="3",
                  PROVINCE_BACKOFF_S="10,60") as application:
        yield application


def closed_port_url() -> str:
    """An address where nothing listens: connections are refused at once."""
    return f"http://127.0.0.1:{free_port()}/api/tthc"


def push_pass(app: Any, now: Any = None) -> PassResult:
    with app.app_context():
        config = ProvinceConfig.of(app.config)
        return run_pass(db.session_factory, config, adapter_for(config), now=now)


def pushes(app: Any) -> list[dict[str, Any]]:
    with in_db(app) as session:
        rows = session.scalars(select(ProvincePush).order_by(ProvincePush.id)).all()
        return [{"id": p.id, "dossier_id": p.dossier_id, "state": p.state, "attempts": p.attempts,
                 "payload": p.payload, "last_error": p.last_error, "next_attempt_at": p.next_attempt_at}
                for p in rows]
