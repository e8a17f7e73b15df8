"""The ticket at each counter is found through an index whatever the history: SQLite with
statistics (after ``ANALYZE``) scanned every ticket of the year for it on every display
snapshot while the states were bound parameters (docs/postgres-performance.md)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import event, insert, select, text

from onestop.extensions import db
from onestop.queueing.models import Counter, Service, Ticket
from onestop.queueing.state import counter_list
from onestop.units.models import Unit
from tests.conftest import MONDAY_9


def _history(session: Any, unit: Unit, days: int, per_day: int) -> None:
    """``days`` of finished tickets at the unit's counters before MONDAY_9."""
    service = session.scalars(select(Service).where(Service.unit_id == unit.id)).first()
    counters = [c.id for c in session.scalars(select(Counter).where(Counter.unit_id == unit.id))]
    rows = []
    for d in range(1, days + 1):
        day = MONDAY_9 - dt.timedelta(days=d)
        for n in range(1, per_day + 1):
            rows.append({
                "unit_id": unit.id, "service_id": service.id, "issued_service_id": service.id,
                "business_date": day.date(), "number": n, "label": f"H{n}", "priority": "none",
                "source": "kiosk", "state": "done", "issued_at": day, "queue_at": day,
                "called_at": day, "finished_at": day, "counter_id": counters[n % len(counters)],
                "recall_count": 0, "print_state": "none"})
    session.execute(insert(Ticket), rows)
    session.commit()


def test_the_snapshot_finds_the_ticket_at_each_counter_by_an_index_after_analyze(app: Any) -> None:
    with app.app_context():
        session = db.session()
        unit = session.scalars(select(Unit)).first()
        _history(session, unit, days=60, per_day=250)
        session.execute(text("ANALYZE"))
        plans: list[str] = []

        def explain(conn: Any, cursor: Any, statement: str, params: Any, context: Any,
                    many: bool) -> None:
            if ("state IN" in statement and "counter_id IN" in statement and not many
                    and not statement.startswith("EXPLAIN")):
                rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, params).all()
                plans.append(" | ".join(str(r[-1]) for r in rows))

        engine = session.get_bind()
        event.listen(engine, "before_cursor_execute", explain)
        try:
            counter_list(session, unit)
        finally:
            event.remove(engine, "before_cursor_execute", explain)
        assert plans, "counter_list asked no 'ticket at the counter' question"
        assert all("SEARCH tickets USING INDEX" in plan and "SCAN tickets" not in plan
                   for plan in plans), plans
