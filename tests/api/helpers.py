"""Helpers shared by the API and realtime tests.

Database work runs in its own short app context (``in_db``), never around client calls: a
request made while a test holds an app context reuses that context's ``g``, so Flask-Login
would keep the first caller's user for every later request.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from onestop.accounts import engine as accounts
from onestop.accounts.models import User
from onestop.db import utcnow
from onestop.extensions import db
from onestop.queueing.models import Counter, Service, Ticket, TicketEvent
from onestop.units.models import Unit
from tests.conftest import bearer, token_for

INTEGRATION_PASSWORD = "integration-pass"


@contextmanager
def in_db(app: Any) -> Iterator[Session]:
    """A session in a fresh app context; commits on success."""
    with app.app_context():
        session = db.session()
        yield session
        session.commit()


def unit_of(session: Session) -> Unit:
    unit = session.scalars(select(Unit).order_by(Unit.id)).first()
    assert unit is not None
    return unit


def add_integration_user(app: Any, client: Any, username: str = "bridge") -> str:
    """Create an integration account and return a bearer token for it."""
    with in_db(app) as session:
        accounts.add_user(session, unit_of(session), username, INTEGRATION_PASSWORD,
                          "integration")
    return token_for(client, username, INTEGRATION_PASSWORD)


def add_device(app: Any, kind: str, name: str = "D1", **kwargs: Any) -> str:
    """Register a device of the demo unit and return its token."""
    with in_db(app) as session:
        _device, token, _code = accounts.add_device(session, unit_of(session), kind, name,
                                                    now=utcnow(), **kwargs)
    return token


def update_row(app: Any, model: Any, row_id: int, **values: Any) -> None:
    with in_db(app) as session:
        row = session.get(model, row_id)
        assert row is not None
        for key, value in values.items():
            setattr(row, key, value)


def set_service(app: Any, service_id: int, **values: Any) -> None:
    update_row(app, Service, service_id, **values)


def user_id(app: Any, username: str) -> int:
    with in_db(app) as session:
        return int(session.scalars(select(User.id).where(User.username == username)).one())


def ticket_count(app: Any) -> int:
    with in_db(app) as session:
        return int(session.scalar(select(func.count()).select_from(Ticket)) or 0)


def event_count(app: Any) -> int:
    with in_db(app) as session:
        return int(session.scalar(select(func.count()).select_from(TicketEvent)) or 0)


def ticket_row(app: Any, ticket_id: int) -> dict[str, Any]:
    with in_db(app) as session:
        t = session.get(Ticket, ticket_id)
        assert t is not None
        return {"state": t.state, "counter_id": t.counter_id, "service_id": t.service_id,
                "target_counter_id": t.target_counter_id, "outcome": t.outcome,
                "recall_count": t.recall_count}


def counter_row(app: Any, counter_id: int) -> tuple[str, int | None, str | None]:
    with in_db(app) as session:
        c = session.get(Counter, counter_id)
        assert c is not None
        return c.state, c.clerk_id, c.pause_reason


def snapshot(app: Any) -> tuple[Any, ...]:
    """Everything a refused request must leave alone: tickets, events, counters."""
    with in_db(app) as session:
        tickets = session.execute(select(Ticket.id, Ticket.state, Ticket.counter_id,
                                         Ticket.service_id).order_by(Ticket.id)).all()
        counters = session.execute(select(Counter.id, Counter.state, Counter.clerk_id,
                                          Counter.pause_reason).order_by(Counter.id)).all()
        events = session.scalar(select(func.count()).select_from(TicketEvent))
    return tuple(tickets), tuple(counters), events


def assert_error(res: Any, status: int, code: str | None = None) -> dict[str, Any]:
    """The response is the JSON error envelope with ``status`` (and ``code``); no traceback."""
    text = res.get_data(as_text=True)
    assert res.status_code == status, text[:500]
    assert res.mimetype == "application/json", (res.mimetype, text[:200])
    assert "Traceback" not in text and "<html" not in text.lower()
    body = json.loads(text)
    assert set(body) == {"error"}, body
    error = body["error"]
    assert isinstance(error.get("code"), str) and error["code"], body
    assert isinstance(error.get("message"), str) and error["message"], body
    if code is not None:
        assert error["code"] == code, body
    return dict(error)


def issue(client: Any, token: str, service_id: int = 1, **extra: Any) -> dict[str, Any]:
    res = client.post("/api/v1/tickets", json={"service_id": service_id, **extra},
                      headers=bearer(token))
    assert res.status_code == 201, res.get_json()
    return dict(res.get_json())


def act(client: Any, token: str, counter_id: int, action: str, body: Any = None) -> Any:
    url = f"/api/v1/counters/{counter_id}/{action}"
    if body is None:
        return client.post(url, headers=bearer(token))
    return client.post(url, json=body, headers=bearer(token))


def ok(res: Any, status: int = 200) -> dict[str, Any]:
    assert res.status_code == status, res.get_data(as_text=True)[:500]
    return dict(res.get_json())
