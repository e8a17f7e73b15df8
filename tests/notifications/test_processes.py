"""Two sending loops in two processes on one database (PostgreSQL, and an SQLite file) at the
same moment: every due message reaches the gateway exactly once."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from onestop import demo
from onestop.db import make_engine, utcnow
from onestop.notify import engine
from onestop.units.models import Unit
from tests.conftest import create_schema, race_processes
from tests.notifications import _workers
from tests.notifications.conftest import settings

PROCESSES = 2
MESSAGES = 40


@pytest.fixture(params=[pytest.param("postgres", marks=pytest.mark.postgres), "sqlite"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    url = (f"sqlite:///{tmp_path / 'onestop.sqlite3'}" if request.param == "sqlite"
           else request.getfixturevalue("pg_url"))
    create_schema(url)
    return url


def test_two_processes_never_send_one_message_twice(db_url, gateway):
    db = make_engine(db_url)
    now = utcnow()
    with Session(db) as session:
        demo.load(session)
        unit = session.scalars(select(Unit).order_by(Unit.id)).first()
        assert unit is not None
        for i in range(MESSAGES):  # booking.cancelled: always timely, no subject to look up
            sub, _ = engine.subscribe(session, unit, "booking", 1000 + i, f"09123450{i:02d}",
                                      business_date=unit.business_date(now), now=now)
            engine.queue(session, sub, "booking.cancelled", {"code": f"B{i}"}, dedup="cancelled", now=now)
        session.commit()
    db.dispose()
    gateway.delay = 0.005
    gateway.modes["/sms"] = "slow"
    row = (db_url, settings(gateway), now.isoformat())
    out = race_processes(_workers.send_worker, [row] * PROCESSES, timeout=90)
    sent = [body["to"] for body in gateway.received("/sms")]
    assert len(sent) == MESSAGES == len(set(sent))
    assert sum(o["sent"] for o in out) == MESSAGES
    assert all(o["sent"] > 0 for o in out)  # both took part
