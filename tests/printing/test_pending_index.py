"""The look-up of expired print jobs, made for every slip sent to a print agent, reads the
jobs still pending, not a year of printed slips (``ix_print_jobs_pending``, migration 0017)."""

from __future__ import annotations

import datetime as dt
import sqlite3
from typing import Any

from sqlalchemy import event, select

from onestop.extensions import db
from onestop.printing import service
from onestop.printing.models import PrintJob
from onestop.units.models import Unit

FMT = "%Y-%m-%d %H:%M:%S.%f"


def test_expiring_jobs_reads_the_pending_ones_only(app: Any) -> None:
    with app.app_context():
        unit_id = db.session.scalars(select(Unit.id)).one()
    path = app.config["DATABASE_URL"].removeprefix("sqlite:///")
    old = dt.datetime(2026, 1, 5, 2, 0)
    with sqlite3.connect(path) as conn:  # a year of printed slips
        conn.executemany(
            "INSERT INTO print_jobs (unit_id, kind, printer_uri, state, attempts, detail, created_at, "
            "expires_at) "
            "VALUES (?, 'ticket', 'tcp://127.0.0.1:9100', 'printed', 1, '', ?, ?)",
            [(unit_id, (old + dt.timedelta(minutes=i)).strftime(FMT),
              (old + dt.timedelta(minutes=i + 2)).strftime(FMT)) for i in range(30_000)])
        conn.execute("ANALYZE")
    statements: list[tuple[str, Any]] = []

    def seen(_conn: Any, _cursor: Any, statement: str, params: Any, *_rest: Any) -> None:
        if "FROM print_jobs" in statement and "expires_at <" in statement:
            statements.append((statement, params))

    with app.app_context():
        engine = db.engine
        event.listen(engine, "before_cursor_execute", seen)
        try:
            assert service.expire_due(db.session(), dt.datetime.now(dt.UTC), unit_id=unit_id) == []
            db.session.rollback()
        finally:
            event.remove(engine, "before_cursor_execute", seen)
    assert len(statements) == 1
    statement, params = statements[0]
    with sqlite3.connect(path) as conn:
        plan = " ".join(row[3] for row in conn.execute(f"EXPLAIN QUERY PLAN {statement}", params))
    assert "ix_print_jobs_pending" in plan, plan
    with app.app_context():  # the index is the model's (and the models' schema)
        assert any(ix.name == "ix_print_jobs_pending" for ix in PrintJob.__table__.indexes)
