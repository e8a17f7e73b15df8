"""Helpers for direct engine tests: the demo unit, its services, counters and clerks."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from onestop import demo
from onestop.accounts.models import User
from onestop.app import create_app
from onestop.extensions import db
from onestop.queueing import engine
from onestop.queueing.engine import Actor
from onestop.queueing.models import Counter, Service, Ticket
from onestop.units.models import Unit
from tests.conftest import MONDAY_9, app_config, create_schema


@dataclass
class Centre:
    """The demo centre seen through one session, with short-hands for engine calls."""

    session: Session
    unit: Unit

    def service(self, code: str) -> Service:
        svc = self.session.scalar(
            select(Service).where(Service.unit_id == self.unit.id, Service.code == code))
        assert svc is not None
        return svc

    def counter(self, number: int) -> Counter:
        counter = self.session.scalar(
            select(Counter).where(Counter.unit_id == self.unit.id, Counter.number == number))
        assert counter is not None
        return counter

    def user_id(self, username: str) -> int:
        user_id = self.session.scalar(select(User.id).where(User.username == username))
        assert user_id is not None
        return int(user_id)

    def clerk(self, number: int) -> Actor:
        return Actor(user_id=self.user_id(f"clerk{number}"))

    def settings(self, **values: Any) -> None:
        self.unit.settings = {**(self.unit.settings or {}), **values}
        self.session.flush()

    def issue(self, code: str = "TPHT", now: dt.datetime = MONDAY_9, **kwargs: Any) -> Ticket:
        kwargs.setdefault("actor", Actor())
        return engine.issue_ticket(self.session, self.unit, self.service(code), now=now,
                                   **kwargs)

    def open(self, number: int, now: dt.datetime = MONDAY_9) -> Counter:
        counter = self.counter(number)
        return engine.open_counter(self.session, counter, self.user_id(f"clerk{number}"),
                                   now=now)

    def call_next(self, number: int, now: dt.datetime = MONDAY_9) -> Ticket:
        return engine.call_next(self.session, self.unit, self.counter(number),
                                actor=self.clerk(number), now=now)


@pytest.fixture
def centre(session: Session) -> Centre:
    unit = session.scalar(select(Unit).where(Unit.code == demo.UNIT_CODE))
    assert unit is not None
    return Centre(session, unit)


@pytest.fixture
def pg_centre(pg_url: str, tmp_path: Path) -> Iterator[Centre]:
    """The demo centre on PostgreSQL (skips when PostgreSQL is absent)."""
    application = create_app(app_config(tmp_path, DATABASE_URL=pg_url))
    create_schema(application.config["DATABASE_URL"])
    with application.app_context():
        unit = demo.load(db.session())
        db.session.commit()
        yield Centre(db.session(), unit)
        db.session.rollback()
        db.session.remove()
        assert db.engine is not None
        db.engine.dispose()
