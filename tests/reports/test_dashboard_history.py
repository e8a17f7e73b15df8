"""The dashboard of now reads no history (issue 24): the rows its statements touch stay the
same when forty working days of tickets, trails, ratings, dossiers and printed slips are
written before the two it already had; and print jobs failed today are counted, those of
yesterday not.

The work is counted, not timed: on SQLite the virtual machine's steps (a progress
handler), on PostgreSQL the rows each SELECT's plan reads (``EXPLAIN ANALYZE`` of the
statement as it ran, with its parameters: rows returned and removed by a filter, times
loops, at every scan). A statement that scans history grows with it by 20 times.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from sqlalchemy import event, select

from bench.year_reports import FIRST_ID, YearHistory, fill
from onestop.accounts.engine import add_device
from onestop.extensions import db
from onestop.printing.models import PrintJob
from onestop.queueing.models import Ticket
from onestop.units.models import Unit
from tests.conftest import bearer, token_for

PER_DAY = 150


@pytest.fixture
def app(app_both: Any) -> Any:
    """On SQLite, then on PostgreSQL."""
    return app_both


class Work:
    """Work of the database for the statements run while ``counting``."""

    def __init__(self, engine: Any) -> None:
        self.total, self.counting = 0, False
        self.statements: list[tuple[int, str]] = []  # PostgreSQL: rows read, statement
        self.sqlite = engine.dialect.name == "sqlite"
        if self.sqlite:
            engine.dispose()  # every connection from now on has the handler
            event.listen(engine, "connect", lambda conn, _rec: conn.set_progress_handler(self._step, 100))
        else:
            event.listen(engine, "after_cursor_execute", self._explain)

    def _step(self) -> int:
        self.total += self.counting
        return 0

    def _explain(self, _conn: Any, cursor: Any, statement: str, params: Any, _ctx: Any,
                 many: bool) -> None:
        if not self.counting or many or not statement.lstrip().upper().startswith("SELECT"):
            return
        with cursor.connection.cursor() as explain:
            explain.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {statement}", params)
            plan = explain.fetchone()[0]
        rows = _rows_read(plan[0]["Plan"] if isinstance(plan, list) else json.loads(plan)[0]["Plan"])
        self.total += rows
        self.statements.append((rows, " ".join(statement.split())[:160]))

    def of(self, client: Any, path: str, headers: dict[str, str]) -> int:
        client.get(path, headers=headers)  # caches warm, statements prepared
        self.total, self.counting, self.statements = 0, True, []
        res = client.get(path, headers=headers)
        self.counting = False
        assert res.status_code == 200
        return self.total


def _rows_read(node: dict[str, Any]) -> int:
    own = 0
    if "Relation Name" in node:
        own = int((node.get("Actual Rows", 0) + node.get("Rows Removed by Filter", 0)
                   + node.get("Rows Removed by Index Recheck", 0)) * node.get("Actual Loops", 1))
    return own + sum(_rows_read(child) for child in node.get("Plans", []))


def _history(app: Any, days: int, skip_recent: int, first_id: int) -> dict[str, Any]:
    with app.app_context():
        session = db.session()
        unit = session.scalars(select(Unit)).one()
        history = YearHistory(session, unit, unit.business_date(dt.datetime.now(dt.UTC)), days,
                              PER_DAY, first_id=first_id, skip_recent=skip_recent)
        db.session.remove()
    return fill(app.config["DATABASE_URL"], history)


def test_the_dashboard_reads_no_history(app):
    client = app.test_client()
    with app.app_context():
        session = db.session()
        unit = session.scalars(select(Unit)).one()
        device, token, _code = add_device(session, unit, "kiosk", "Ki-ốt sảnh",
                                          now=dt.datetime.now(dt.UTC), printer_uri="tcp://10.0.0.9:9100")
        session.commit()
        device_id = device.id
    kiosk = bearer(token)
    manager = bearer(token_for(client, "manager"))
    for i in range(12):  # today: people waiting
        res = client.post("/api/v1/tickets", json={"service_id": 1 + i % 3}, headers=kiosk)
        assert res.status_code == 201
    with app.app_context():  # today a slip that did not print and one whose agent never took it
        now = dt.datetime.now(dt.UTC)
        session = db.session()
        first, second = session.scalars(select(Ticket.id).order_by(Ticket.id).limit(2)).all()
        session.add_all([
            PrintJob(unit_id=unit.id, ticket_id=first, device_id=device_id, kind="ticket",
                     state="failed", error="printer_paper_out", created_at=now, done_at=now),
            PrintJob(unit_id=unit.id, ticket_id=second, device_id=device_id, kind="ticket",
                     state="pending", created_at=now - dt.timedelta(minutes=5),
                     expires_at=now - dt.timedelta(minutes=1))])
        session.commit()
    recent = _history(app, 2, 0, FIRST_ID)  # yesterday and the day before: a failed slip each
    work = Work(db.engine)
    paths = {"dashboard": ("/api/v1/dashboard", manager), "display": ("/api/v1/display/state", kiosk)}
    before = {name: work.of(client, *req) for name, req in paths.items()}
    body = client.get("/api/v1/dashboard", headers=manager).get_json()
    assert body["alarms"]["failed_jobs_today"] == 2  # not the history's
    assert [j["device_name"] for j in body["alarms"]["failed_jobs"]] == ["Ki-ốt sảnh"] * 2
    assert any("lệnh in lỗi" in m for m in body["alarms"]["messages"])
    assert body["previous"]["issued"] == PER_DAY
    older = _history(app, 40, 2, 2 * FIRST_ID)  # forty working days before those
    assert (recent["tickets"], older["tickets"], older["print_jobs"]) == (2 * PER_DAY, 40 * PER_DAY,
                                                                          40 * PER_DAY)
    after = {}
    for name, req in paths.items():
        after[name] = work.of(client, *req)
        after[f"{name} statements"] = sorted(work.statements, reverse=True)[:3]
    body = client.get("/api/v1/dashboard", headers=manager).get_json()
    assert body["alarms"]["failed_jobs_today"] == 2 and body["previous"]["issued"] == PER_DAY
    for name in paths:  # twenty times the history; the work of now within a quarter
        assert after[name] <= before[name] * 1.25 + 50, (name, before[name], after)
