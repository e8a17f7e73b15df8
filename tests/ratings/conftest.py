"""Helpers for the rating tests: tablets of the demo counters, a ticket served to the end."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from onestop.ratings.models import Rating
from onestop.units.models import Unit
from tests.api.helpers import act, add_device, in_db, issue, ok
from tests.conftest import bearer, token_for

# demo counters: 3 serves Đất đai (service 2) and Nông nghiệp; 4 serves Lao động – TB&XH (3)
SERVICE_OF = {3: 2, 4: 3}


def tablet(app: Any, counter_number: int, name: str = "Máy đánh giá") -> str:
    return add_device(app, "tablet", f"{name} {counter_number}", counter_number=counter_number)


def served(client: Any, counter_number: int, finish: bool = True) -> dict[str, Any]:
    """clerkN opens counter N, a ticket of one of its fields is issued, called and (by
    default) finished there; the ticket as the API returned it."""
    clerk = token_for(client, f"clerk{counter_number}")
    act(client, clerk, counter_number, "open")
    ticket = issue(client, clerk, SERVICE_OF[counter_number])
    called = ok(act(client, clerk, counter_number, "call-next"))
    assert called["id"] == ticket["id"]
    if finish:
        ok(act(client, clerk, counter_number, "finish", {"outcome": "served"}))
    return ticket


def rate(client: Any, token: str, ticket_id: int, level: str, **extra: Any) -> Any:
    return client.post("/api/v1/ratings", json={"ticket_id": ticket_id, "level": level, **extra},
                       headers=bearer(token))


def ratings(app: Any) -> list[Rating]:
    with in_db(app) as session:
        rows = list(session.scalars(select(Rating).order_by(Rating.id)))
        session.expunge_all()
        return rows


def set_unit(app: Any, **settings: Any) -> None:
    with in_db(app) as session:
        unit = session.scalars(select(Unit).order_by(Unit.id)).first()
        assert unit is not None
        unit.settings = {**(unit.settings or {}), **settings}


@pytest.fixture
def tablet3(app: Any) -> str:
    return tablet(app, 3)
