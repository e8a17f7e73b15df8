"""THE RACE: six processes book the last places of a day's slots at once, on one SQLite
file and on PostgreSQL. No slot ever holds more than ``per_slot`` bookings, the day never
more than its share of the cap, and every attempt that lost is a clean 409 ``slot_full``."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from onestop import demo
from onestop.bookings import engine as bookings
from onestop.bookings.models import Booking
from onestop.db import make_engine
from onestop.queueing.engine import Actor
from onestop.queueing.models import Service
from onestop.units.models import Unit
from tests.bookings import _workers
from tests.conftest import create_schema, local, race_processes

PROCESSES = 6
NOW = local(2026, 11, 20, 10)  # Friday; the slots are Monday 23 November's
SLOTS = [local(2026, 11, 23, 9, 0), local(2026, 11, 23, 9, 15), local(2026, 11, 23, 9, 30),
         local(2026, 11, 23, 9, 45)]
PER_SLOT = 3
DAY_LIMIT = 10  # daily cap 20, half kept for walk-ins


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    url = (f"sqlite:///{tmp_path / 'onestop.sqlite3'}" if request.param == "sqlite"
           else request.getfixturevalue("pg_url"))
    create_schema(url)
    engine = make_engine(url)
    with Session(engine) as session:
        demo.load(session)
        service = session.scalars(select(Service).where(Service.code == "TPHT")).one()
        service.booking = {"per_slot": PER_SLOT, "walkin_share": 0.5}
        service.daily_cap = 2 * DAY_LIMIT
        unit = session.scalars(select(Unit)).one()
        # one place of the first slot is already taken
        bookings.book(session, unit, service, start=SLOTS[0], phone="0912999999", actor=Actor(),
                      now=NOW)
        session.commit()
    engine.dispose()
    return url


def test_processes_racing_for_the_last_places_never_overbook(db_url: str) -> None:
    engine = make_engine(db_url)
    with Session(engine) as session:
        service = session.scalars(select(Service).where(Service.code == "TPHT")).one()
        unit_id, service_id = service.unit_id, service.id
    # every process tries every slot, three different phones each: 72 attempts, 9 places
    # left by the day's limit (the slots alone would still take 11)
    rows = [(db_url, unit_id, service_id,
             [(slot.isoformat(), f"09{p}{s}{k}000{p}{s}"[:10]) for s, slot in enumerate(SLOTS)
              for k in range(3)], NOW.isoformat()) for p in range(PROCESSES)]
    results = race_processes(_workers.book_worker, rows)
    booked = [code for row in results for code in row["booked"]]
    refused = [code for row in results for code in row["refused"]]
    assert len(booked) == len(set(booked)) == DAY_LIMIT - 1
    assert set(refused) == {"slot_full"} and len(refused) == PROCESSES * 12 - len(booked)
    with Session(engine) as session:
        per_slot = Counter(session.scalars(select(Booking.start).where(Booking.state == "booked")))
        total = session.scalar(select(func.count()).select_from(Booking))
    engine.dispose()
    assert total == DAY_LIMIT
    assert max(per_slot.values()) <= PER_SLOT and sum(per_slot.values()) == DAY_LIMIT
