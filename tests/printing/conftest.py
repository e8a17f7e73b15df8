"""Fixtures for printing: fake network printers, kiosks pointing at them, staff sockets."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from hardware.printing.fakeprinter import FakePrinter
from onestop.accounts import engine as accounts
from onestop.db import utcnow
from onestop.extensions import socketio
from onestop.printing.models import PrintJob
from onestop.queueing.models import Ticket
from onestop.realtime import events as ev
from tests.api.helpers import in_db, unit_of
from tests.conftest import bearer, token_for


@pytest.fixture
def printer() -> Iterator[FakePrinter]:
    with FakePrinter() as fake:
        yield fake


@pytest.fixture
def printer2() -> Iterator[FakePrinter]:
    with FakePrinter() as fake:
        yield fake


def refused_uri() -> str:
    """A tcp:// URI on which nothing listens (connection refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"tcp://127.0.0.1:{port}"


def add_printing_device(app: Any, kind: str, name: str, printer_uri: str | None = None,
                        counter_number: int | None = None, **settings: Any) -> tuple[str, int]:
    """A device of the demo unit; returns ``(token, id)``."""
    with in_db(app) as session:
        device, token, _code = accounts.add_device(session, unit_of(session), kind, name, now=utcnow(),
                                                   printer_uri=printer_uri, counter_number=counter_number)
        device.settings = dict(settings)
        session.flush()
        return token, device.id


def issue_at(client: Any, token: str, service_id: int = 1) -> dict[str, Any]:
    res = client.post("/api/v1/tickets", json={"service_id": service_id}, headers=bearer(token))
    assert res.status_code == 201, res.get_data(as_text=True)[:500]
    return dict(res.get_json())


def jobs(app: Any, ticket_id: int | None = None) -> list[dict[str, Any]]:
    with in_db(app) as session:
        query = select(PrintJob).order_by(PrintJob.id)
        if ticket_id is not None:
            query = query.where(PrintJob.ticket_id == ticket_id)
        return [{c: getattr(j, c) for c in ("id", "ticket_id", "device_id", "agent_device_id", "kind",
                                            "state", "error", "detail", "attempts", "payload", "printer_uri",
                                            "requested_by_user_id", "expires_at", "done_at")}
                for j in session.scalars(query)]


def ticket_of(app: Any, ticket_id: int) -> tuple[str, str]:
    """``(state, print_state)``."""
    with in_db(app) as session:
        ticket = session.get(Ticket, ticket_id)
        assert ticket is not None
        return ticket.state, ticket.print_state


def staff_socket(app: Any, username: str = "manager") -> Any:
    """A /counter Socket.IO test client signed in as ``username``, its backlog drained."""
    client = app.test_client()
    sio = socketio.test_client(app, namespace=ev.COUNTER_NS, flask_test_client=client,
                               auth={"token": token_for(client, username)})
    assert sio.is_connected(ev.COUNTER_NS)
    sio.get_received(ev.COUNTER_NS)
    return sio


def alarms(sio: Any) -> list[dict[str, Any]]:
    return [e["args"][0] for e in sio.get_received(ev.COUNTER_NS) if e["name"] == ev.PRINTER_ALARM]
