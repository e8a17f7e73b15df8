"""The dossier desk's list reads no history (issue 24 item 3): ``GET /api/v1/dossiers``, as it
opens (newest first) and with the filters a clerk uses (state, a common name, a date range,
the field), does the same work with forty more working days of dossiers written before the
two it had; past the count's cap it says "more than" (``total_capped``) instead of counting
every dossier of the unit.

The work is counted, not timed (``tests/reports/test_dashboard_history.py``'s ``Work``: SQLite
virtual machine steps, PostgreSQL rows read per ``EXPLAIN ANALYZE``). The cap is lowered to 50
for the test so that the small history (150 dossiers) is already past it: what grows with
the history would then be the reading of it, twenty times, while a bounded list stays put;
the comparison allows three times plus a constant (plans and page sizes wobble, a scan of
the history does not fit). After each fill the pool is emptied (SQLite: a connection keeps
the statistics it read with the schema) and PostgreSQL is analysed again, so the two
measures are planned from the statistics of their own data.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import select

from bench.year_reports import FIRST_ID
from onestop.dossiers import search
from onestop.extensions import db
from onestop.units.models import Unit
from tests.conftest import bearer, token_for
from tests.reports.test_dashboard_history import Work

# the dashboard test's history: 150 tickets a day, a dossier for every second one
from tests.reports.test_dashboard_history import _history as write_history

CAP = 50


@pytest.fixture
def app(app_both: Any) -> Any:
    """On SQLite, then on PostgreSQL."""
    return app_both


def _history(app: Any, days: int, skip_recent: int, first_id: int) -> dict[str, Any]:
    counts = write_history(app, days, skip_recent, first_id)
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as conn:
                conn.exec_driver_sql("ANALYZE")
        db.engine.dispose()
    return counts


def test_the_dossier_list_reads_no_history(app, monkeypatch):
    monkeypatch.setattr(search, "COUNT_CAP", CAP)
    client = app.test_client()
    clerk = bearer(token_for(client, "clerk1"))
    recent = _history(app, 2, 0, FIRST_ID)  # yesterday and the day before
    with app.app_context():
        unit = db.session.scalars(select(Unit)).one()
        today = unit.business_date(dt.datetime.now(dt.UTC))
        db.session.remove()
    week = (today - dt.timedelta(days=7)).isoformat()
    paths = {
        "newest": "/api/v1/dossiers",
        "second page": "/api/v1/dossiers?page=2",
        "state": "/api/v1/dossiers?state=processing",
        "a state nobody is in": "/api/v1/dossiers?state=rejected",
        "common name": "/api/v1/dossiers?q=nguyen",
        "last week": f"/api/v1/dossiers?from={week}&to={today.isoformat()}",
        "field": "/api/v1/dossiers?service_id=1",
    }
    work = Work(db.engine)
    before = {name: work.of(client, path, clerk) for name, path in paths.items()}
    first = client.get("/api/v1/dossiers", headers=clerk).get_json()
    assert recent["dossiers"] > CAP and (first["total"], first["total_capped"]) == (CAP, True)
    assert len(first["items"]) == 20 and first["pages"] == 3  # the first 50, in pages of 20

    days = client.get(f"/api/v1/dossiers?from={week}&to={today.isoformat()}&per_page=100&page=2",
                      headers=clerk).get_json()  # the last page: the total known exactly
    assert (days["total"], days["total_capped"], days["pages"]) == (recent["dossiers"], False, 2)

    older = _history(app, 40, 2, 2 * FIRST_ID)  # forty working days before those
    assert older["dossiers"] >= 20 * recent["dossiers"] * 0.8
    after, heaviest = {}, {}
    for name, path in paths.items():
        after[name] = work.of(client, path, clerk)
        heaviest[name] = sorted(work.statements, reverse=True)[:2]
    for name in paths:
        assert after[name] <= before[name] * 3 + 60, (name, before, after, heaviest[name])

    # what the clerk sees: the newest received first, "more than 50" and pages to go on
    body = client.get("/api/v1/dossiers", headers=clerk).get_json()
    received = [d["received_at"] for d in body["items"]]
    assert received == sorted(received, reverse=True) and received[0] >= first["items"][0]["received_at"]
    assert (body["total"], body["total_capped"], body["pages"]) == (CAP, True, 3)
    deep = client.get("/api/v1/dossiers?page=4", headers=clerk).get_json()
    assert deep["page"] == 4 and len(deep["items"]) == 20 and deep["pages"] == 5  # beyond the cap
    none = client.get("/api/v1/dossiers?state=rejected", headers=clerk).get_json()
    assert (none["total"], none["total_capped"], none["items"]) == (0, False, [])

    # the dossier desk's page says it in words: "Hơn 50 hồ sơ", "trong hơn 50", a next page
    from tests.counter.test_dossier_desk import sign_in

    sign_in(client, "clerk1")
    html = client.get("/counter/dossiers").get_data(as_text=True)
    assert "Hơn 50 hồ sơ (chỉ đếm đến 50)" in html and "Hồ sơ 1–20 trong hơn 50 · trang 1" in html
    assert 'rel="next"' in html
    html = client.get("/counter/dossiers?state=processing&page=2").get_data(as_text=True)
    assert "Hồ sơ 21–40 trong hơn 50 · trang 2" in html
