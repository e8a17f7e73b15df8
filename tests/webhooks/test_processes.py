"""Two delivery passes in two processes on one database (SQLite file, PostgreSQL) at the
same moment: every due delivery is sent exactly once."""

from __future__ import annotations

import multiprocessing
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from onestop import demo
from onestop.db import make_engine, utcnow
from onestop.units.models import Unit
from onestop.webhooks.engine import create_webhook, queue_event
from onestop.webhooks.models import WebhookDelivery
from tests.conftest import create_schema
from tests.webhooks import _workers

PROCESSES = 2
DELIVERIES = 40


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    url = (f"sqlite:///{tmp_path / 'onestop.sqlite3'}" if request.param == "sqlite"
           else request.getfixturevalue("pg_url"))
    create_schema(url)
    return url


def test_two_processes_never_send_the_same_delivery(db_url, receiver):
    engine = make_engine(db_url)
    now = utcnow()
    with Session(engine) as session:
        demo.load(session)
        unit = session.scalars(select(Unit).order_by(Unit.id)).first()
        assert unit is not None
        hooks = [create_webhook(session, unit, receiver.url, ["ticket.issued"], now=now, allow_loopback=True)
                 for _ in range(2)]
        for i in range(DELIVERIES // len(hooks)):
            queue_event(session, unit.id, "ticket.issued", {"n": i}, now=now)
        session.commit()
    receiver.delay = 0.005
    ctx = multiprocessing.get_context("spawn")
    barrier, results = ctx.Barrier(PROCESSES), ctx.Queue()
    settings = {"WEBHOOK_ALLOW_LOOPBACK": True, "WEBHOOK_CONCURRENCY": 2}
    args = (db_url, settings, now.isoformat(), barrier, results)
    procs = [ctx.Process(target=_workers.deliver_worker, args=args, daemon=True) for _ in range(PROCESSES)]
    for proc in procs:
        proc.start()
    out: list[dict[str, Any]] = [results.get(timeout=90) for _ in procs]
    for proc in procs:
        proc.join(timeout=10)
    assert [o["error"] for o in out] == [None] * PROCESSES
    sent = receiver.ids()
    assert len(sent) == DELIVERIES == len(set(sent))
    assert sum(o["delivered"] for o in out) == DELIVERIES
    with Session(engine) as session:
        states = set(session.scalars(select(WebhookDelivery.state)))
    assert states == {"delivered"} and len(hooks) == 2
    engine.dispose()
