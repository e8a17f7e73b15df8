"""Results handed over (trả kết quả) in the reports: per clerk who recorded the hand-over,
and the days between the result being ready and its return; GET /api/v1/reports/summary
and /reports/data (the manager's page reads the latter)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select

from onestop.accounts.models import User
from onestop.dossiers import engine
from onestop.queueing.engine import Actor
from tests.api.helpers import in_db
from tests.conftest import bearer, local, token_for
from tests.dossiers.conftest import SAME_DAY, TEN_DAYS, procedure, receive

MONDAY = dt.date(2026, 11, 23)


def _ids(session: Any) -> dict[str, int]:
    ids = {u.username: u.id for u in session.scalars(select(User))}
    return {**ids, "land": procedure(session, TEN_DAYS).service_id}


def _returned(session: Any, code: str, ready: dt.datetime, returned: dt.datetime | None,
              clerk: int) -> None:
    dossier = receive(session, ready - dt.timedelta(hours=1), code, actor=Actor(user_id=clerk))
    engine.change_state(session, dossier, "processing", actor=Actor(user_id=clerk), now=ready)
    engine.change_state(session, dossier, "ready", actor=Actor(user_id=clerk), now=ready)
    if returned is not None:
        engine.hand_over(session, dossier, engine.Collector(), actor=Actor(user_id=clerk), now=returned)


def _history(app: Any) -> dict[str, int]:
    """clerk1 hands over two results (after 2 and 1 days), clerk2 one (after 4 days); one
    result waits, one was handed over after the period."""
    with in_db(app) as session:
        ids = _ids(session)
        ready = local(2026, 11, 23, 9, 0)
        _returned(session, SAME_DAY, ready, local(2026, 11, 25, 9, 0), ids["clerk1"])
        _returned(session, SAME_DAY, ready, local(2026, 11, 24, 9, 0), ids["clerk1"])
        _returned(session, TEN_DAYS, ready, local(2026, 11, 27, 9, 0), ids["clerk2"])
        _returned(session, SAME_DAY, ready, None, ids["clerk2"])
        _returned(session, SAME_DAY, ready, local(2026, 12, 2, 9, 0), ids["clerk2"])
    return ids


def _get(client: Any, url: str) -> dict[str, Any]:
    res = client.get(url, headers=bearer(token_for(client, "manager")))
    assert res.status_code == 200, res.get_data(as_text=True)[:400]
    return dict(res.get_json())


def test_results_returned_per_clerk_and_days_from_ready(app, client):
    ids = _history(app)
    week = "from=2026-11-23&to=2026-11-29"
    returns = _get(client, f"/api/v1/reports/summary?{week}")["returns"]
    assert (returns["returned"], returns["mean_days"], returns["median_days"]) == (3, 2.33, 2.0)
    by_clerk = {row["id"]: row for row in returns["by_clerk"]}
    assert set(by_clerk) == {ids["clerk1"], ids["clerk2"]}
    one, two = by_clerk[ids["clerk1"]], by_clerk[ids["clerk2"]]
    assert (one["returned"], one["mean_days"], one["median_days"]) == (2, 1.5, 1.5)
    assert (two["returned"], two["mean_days"], two["median_days"]) == (1, 4.0, 4.0)
    assert one["name"] and one["name"] != "clerk1"  # the display name, never the login
    # the page's answer carries the same figures
    assert _get(client, f"/api/v1/reports/data?{week}")["returns"] == returns
    # narrowed to a clerk, to a field; under a counter filter there is no such figure
    mine = _get(client, f"/api/v1/reports/summary?{week}&clerk_id={ids['clerk2']}")["returns"]
    assert (mine["returned"], mine["median_days"]) == (1, 4.0)
    land = _get(client, f"/api/v1/reports/summary?{week}&service_id={ids['land']}")["returns"]
    assert (land["returned"], [row["id"] for row in land["by_clerk"]]) == (1, [ids["clerk2"]])
    assert _get(client, f"/api/v1/reports/summary?{week}&counter_id=1")["returns"] is None
    # the next week: the late hand-over only, after 9 days
    later = _get(client, "/api/v1/reports/summary?from=2026-11-30&to=2026-12-06")["returns"]
    assert (later["returned"], later["mean_days"]) == (1, 9.0)


def test_no_returns_no_days(app, client):
    returns = _get(client, "/api/v1/reports/summary?from=2026-11-23&to=2026-11-29")["returns"]
    assert returns == {"returned": 0, "mean_days": None, "median_days": None, "by_clerk": []}
