"""Dossier codes under concurrency: four processes receive at once on one SQLite file and on
PostgreSQL; every code is distinct and the day's numbers are consecutive (DESIGN §3)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from onestop import demo
from onestop.db import make_engine
from onestop.dossiers.models import Dossier, DossierEvent, Procedure
from tests.conftest import MONDAY_9, create_schema, race_processes
from tests.dossiers import _workers
from tests.dossiers.conftest import THREE_DAYS

PROCESSES = 4
PER_PROCESS = 25


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    url = (f"sqlite:///{tmp_path / 'onestop.sqlite3'}" if request.param == "sqlite"
           else request.getfixturevalue("pg_url"))
    create_schema(url)  # the models' schema (the migration comes at integration)
    engine = make_engine(url)
    with Session(engine) as session:
        demo.load(session)
        session.commit()
    engine.dispose()
    return url


def test_parallel_receipt_codes_are_distinct_and_consecutive(db_url: str) -> None:
    engine = make_engine(db_url)
    with Session(engine) as session:
        proc = session.scalars(select(Procedure).where(Procedure.code == THREE_DAYS)).one()
        unit_id, proc_id = proc.unit_id, proc.id
    results = race_processes(_workers.receive_worker,
                             [(db_url, unit_id, proc_id, PER_PROCESS, MONDAY_9.isoformat())] * PROCESSES)

    total = PROCESSES * PER_PROCESS
    codes = [c for row in results for c in row["codes"]]
    assert len(codes) == len(set(codes)) == total
    expected = [f"H56.12.3-261123-{n:04d}" for n in range(1, total + 1)]
    assert sorted(codes) == expected
    assert sorted(line for row in results for line in row["lines"]) == list(range(1, total + 1))
    assert all(row["codes"] == sorted(row["codes"]) for row in results)
    with Session(engine) as session:
        stored = list(session.scalars(select(Dossier.code).order_by(Dossier.code)))
        numbers = list(session.scalars(select(Dossier.number).order_by(Dossier.number)))
        events = list(session.scalars(select(DossierEvent.action)))
    engine.dispose()
    assert stored == expected and numbers == list(range(1, total + 1))
    assert events == ["receive"] * total
