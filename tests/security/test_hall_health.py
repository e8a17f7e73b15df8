"""The hall's health is visible and a failed commit is said plainly (issue 18, item 4).

A commit that fails (here PostgreSQL refuses it with ``disk_full`` at COMMIT, after the view
succeeded) answers 503 ``unavailable`` with a Vietnamese message, never a 500, and /readyz
fails until a commit succeeds again; /readyz also fails when the disk holding the SQLite
file has less free space than configured, and while the event loop's lag stays high.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from onestop.app import create_app
from onestop.db import COMMITS
from onestop.extensions import db
from onestop.migrate import upgrade
from onestop.ops.looplag import INTERVAL_S, MONITOR
from tests.conftest import app_config, bearer, token_for
from tests.ops.conftest import load_demo

FAIL_AT_COMMIT = """
CREATE FUNCTION fail_at_commit() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'could not extend file: No space left on device' USING ERRCODE = 'disk_full';
END $$;
CREATE CONSTRAINT TRIGGER tickets_fail_at_commit AFTER INSERT ON tickets
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION fail_at_commit();
"""


@pytest.fixture(autouse=True)
def fresh_health() -> Iterator[None]:
    COMMITS.succeeded()
    yield
    COMMITS.succeeded()
    MONITOR.samples.clear()
    MONITOR.running = False


def _app(tmp_path: Path, **extra: Any) -> Any:
    # PROPAGATE_EXCEPTIONS off, as in production: what a client gets, not the test's traceback
    application = create_app(app_config(tmp_path, ALWAYS_OPEN=True, PROPAGATE_EXCEPTIONS=False, **extra))
    url = application.config["DATABASE_URL"]
    upgrade(url)
    load_demo(url)
    return application


@pytest.mark.postgres
def test_a_failed_commit_is_503_unavailable_in_vietnamese(tmp_path: Path, pg_url: str) -> None:
    application = _app(tmp_path, DATABASE_URL=pg_url)
    client = application.test_client()
    try:
        token = token_for(client, "clerk1")
        assert client.get("/readyz").status_code == 200
        with psycopg.connect(pg_url, autocommit=True) as conn:
            conn.execute(FAIL_AT_COMMIT)

        res = client.post("/api/v1/tickets", json={"service_id": 1}, headers=bearer(token))
        assert res.status_code == 503, res.get_data(as_text=True)
        error = res.get_json()["error"]
        assert error["code"] == "unavailable"
        assert error["message"] == "Hệ thống tạm thời không sẵn sàng. Vui lòng thử lại."
        with psycopg.connect(pg_url) as conn:
            assert conn.execute("SELECT count(*) FROM tickets").fetchone() == (0,)  # nothing half-saved

        ready = client.get("/readyz")
        assert ready.status_code == 503
        assert "commit" in ready.get_json()["failed"], ready.get_json()

        with psycopg.connect(pg_url, autocommit=True) as conn:
            conn.execute("DROP TRIGGER tickets_fail_at_commit ON tickets")
        assert client.post("/api/v1/tickets", json={"service_id": 1},
                           headers=bearer(token)).status_code == 201
        assert client.get("/readyz").status_code == 200  # a commit went through again
    finally:
        with application.app_context():
            db.session.remove()
        assert db.engine is not None
        db.engine.dispose()


def test_readyz_fails_when_the_database_disk_is_nearly_full(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    roomy = _app(tmp_path / "a", DISK_FREE_READY_MB=1)
    assert roomy.test_client().get("/readyz").status_code == 200
    full = _app(tmp_path / "b", DISK_FREE_READY_MB=10**12)  # more than any disk has free
    ready = full.test_client().get("/readyz")
    assert ready.status_code == 503
    body = ready.get_json()
    assert body["failed"] == ["disk"], body
    assert "MB free" in body["checks"]["disk"]["detail"]


def test_readyz_fails_while_the_loop_lag_stays_high(tmp_path: Path) -> None:
    client = _app(tmp_path, LOOP_LAG_READY_S=0.5).test_client()
    MONITOR.running = True  # as under onestop serve; the samples are what it would record
    now = 1000.0
    for i in range(4):  # lagging 1.2 s at every wake-up for ~5.8 s
        MONITOR.observe(1.2, now + i * (INTERVAL_S + 1.2))
    from onestop.ops import health

    with client.application.test_request_context():
        assert health.check_loop(now=now + 3 * (INTERVAL_S + 1.2))["status"] == "fail"
    MONITOR.observe(0.01, now + 7)  # the loop is back
    assert client.get("/readyz").status_code == 200
    MONITOR.observe(2.0, now + 9.5)  # one stall is not "staying high"
    with client.application.test_request_context():
        assert health.check_loop(now=now + 9.5)["status"] == "ok"
