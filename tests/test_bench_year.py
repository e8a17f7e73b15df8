"""bench/year_reports.py cannot rot: its smoke size (5 working days of 200 tickets) on a
SQLite file and on PostgreSQL writes what it says it wrote, and every request it times
answers 200 (the year summary reads the history's tickets and dossiers back)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bench.year_reports import run_kind
from tests.conftest import make_sqlite_url


@pytest.fixture(params=["sqlite", pytest.param("pg", marks=pytest.mark.postgres)])
def target(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, str]:
    if request.param == "sqlite":
        return "sqlite", make_sqlite_url(tmp_path)
    return "pg", request.getfixturevalue("pg_url")


def test_the_smoke_year(target: tuple[str, str]) -> None:
    kind, url = target
    out: dict[str, Any] = run_kind(kind, days=5, per_day=200, repeat=1, url=url)
    filled, stored = out["history"], out["in_database"]
    assert (filled["days"], filled["tickets"], filled["events"]) == (5, 1000, 4000)
    assert filled["ratings"] == sum(1 for i in range(200) if i % 3) * 5
    assert filled["dossiers"] == 500 and filled["print_jobs"] == 1000
    assert 2 * 500 <= filled["dossier_events"] <= 5 * 500
    assert stored == {"tickets": 1000, "ticket_events": 4000, "ratings": filled["ratings"],
                      "dossiers": 500, "dossier_events": filled["dossier_events"], "print_jobs": 1000}
    states = filled["dossier_states"]
    assert sum(states.values()) == 500 and states.get("returned") and states.get("processing")
    answers = {name: r["status"] for name, r in out["requests"].items()}
    assert set(answers.values()) == {200}, answers
    assert "summary_year" in answers and "export_xlsx_year" in answers and "staffing_month" in answers
    year = out["year_summary"]
    assert year["issued"] == 1000 + 60  # the history and today's waiting morning
    assert year["dossiers"]["received"] == 500
    # the nightly summary covered the history (and the days between without tickets), and a
    # second night found nothing new
    rollup = out["rollup"]
    assert rollup["days"] >= 5 and rollup["cells"] > 0 and rollup["nothing_new_days"] == 0, rollup
    assert "summary_year_from_events" in answers
