"""GET /readyz: database, schema at the code's head (cached while at head), message queue."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from onestop.app import create_app
from onestop.extensions import db
from onestop.migrate import upgrade
from onestop.ops import health
from tests.conftest import app_config, free_port


def test_ready_when_database_answers_at_head(ops_client: Any) -> None:
    res = ops_client.get("/readyz")
    assert res.status_code == 200, res.get_json()
    body = res.get_json()
    assert body["status"] == "ready"
    assert body["checks"]["database"] == {"status": "ok"}
    assert body["checks"]["schema"]["status"] == "ok" and body["checks"]["schema"]["revision"]
    assert "message_queue" not in body["checks"]  # none configured


def _bare_app(tmp_path: Path, **extra: Any) -> Any:
    return create_app(app_config(tmp_path, **extra))


def test_not_ready_without_schema_then_ready_right_after_upgrade(tmp_path: Path) -> None:
    app = _bare_app(tmp_path)
    client = app.test_client()
    url = app.config["DATABASE_URL"]
    try:
        res = client.get("/readyz")
        assert res.status_code == 503
        body = res.get_json()
        assert body["status"] == "not_ready" and body["failed"] == ["schema"]
        assert "onestop db upgrade" in body["checks"]["schema"]["detail"]

        upgrade(url, "0001")
        body = client.get("/readyz").get_json()
        assert body["failed"] == ["schema"]
        assert "0001" in body["checks"]["schema"]["detail"]

        upgrade(url)  # a stale answer is never cached: ready at once
        assert client.get("/readyz").status_code == 200
    finally:
        db.session.remove()
        assert db.engine is not None
        db.engine.dispose()


def test_schema_at_head_is_cached_for_a_minute(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []

    def fake_heads(url: str) -> tuple[str, str]:
        calls.append(url)
        return "0002", "0002"

    monkeypatch.setattr("onestop.migrate.current_heads", fake_heads)
    url = "sqlite:////nowhere/cache-test.sqlite3"
    assert health.schema_state(url, now=1000.0) == ("0002", "0002")
    assert health.schema_state(url, now=1000.0 + health.SCHEMA_TTL_S - 1) == ("0002", "0002")
    assert len(calls) == 1
    health.schema_state(url, now=1000.0 + health.SCHEMA_TTL_S + 1)
    assert len(calls) == 2


def test_database_down_names_the_check_without_leaking_the_error(tmp_path: Path) -> None:
    app = _bare_app(tmp_path, DATABASE_URL=f"sqlite:///{tmp_path}/missing/dir/onestop.sqlite3")
    try:
        res = app.test_client().get("/readyz")
        assert res.status_code == 503
        body = res.get_json()
        assert body["failed"] == ["database", "schema"]
        assert "ONESTOP_DATABASE_URL" in body["checks"]["database"]["detail"]
        assert "unable to open" not in res.get_data(as_text=True)  # the error is in the log only
        assert "Traceback" not in res.get_data(as_text=True)
    finally:
        db.session.remove()
        assert db.engine is not None
        db.engine.dispose()


def test_message_queue_down_fails_readiness(ops_app: Any, ops_client: Any) -> None:
    # set after create_app: Socket.IO itself keeps running without a queue here
    ops_app.config["MESSAGE_QUEUE_URL"] = f"redis://127.0.0.1:{free_port()}/0"
    res = ops_client.get("/readyz")
    assert res.status_code == 503
    body = res.get_json()
    assert body["failed"] == ["message_queue"]
    assert "ONESTOP_MESSAGE_QUEUE_URL" in body["checks"]["message_queue"]["detail"]


@pytest.mark.redis
def test_message_queue_up_is_ready(ops_app: Any, ops_client: Any, redis_url: str) -> None:
    ops_app.config["MESSAGE_QUEUE_URL"] = redis_url
    res = ops_client.get("/readyz")
    assert res.status_code == 200, res.get_json()
    assert res.get_json()["checks"]["message_queue"] == {"status": "ok"}
