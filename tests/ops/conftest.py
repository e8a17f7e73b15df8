"""Fixtures for the operations tests: an app on a migrated SQLite file (Alembic, not
create_all: /readyz checks the revision), with the demo centre."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session

from onestop import demo
from onestop.app import create_app
from onestop.db import make_engine
from onestop.extensions import db
from onestop.migrate import upgrade
from tests.conftest import app_config


def pytest_configure(config: Any) -> None:
    config.addinivalue_line(
        "markers", "slow: spawns several processes or a real server (deselect with -m 'not slow')")


def load_demo(url: str) -> None:
    engine = make_engine(url)
    with Session(engine) as session:
        demo.load(session)
        session.commit()
    engine.dispose()


@pytest.fixture
def ops_app(tmp_path: Path) -> Iterator[Any]:
    application = create_app(app_config(tmp_path, ALWAYS_OPEN=True))
    url = application.config["DATABASE_URL"]
    upgrade(url)
    load_demo(url)
    yield application
    db.session.remove()
    assert db.engine is not None
    db.engine.dispose()


@pytest.fixture
def ops_client(ops_app: Any) -> Any:
    return ops_app.test_client()
