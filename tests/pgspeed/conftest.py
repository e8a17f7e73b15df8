"""The demo centre on PostgreSQL, for direct engine calls (``pg_centre``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from onestop import demo
from onestop.app import create_app
from onestop.extensions import db
from tests.conftest import app_config, create_schema
from tests.queueing.conftest import Centre


@pytest.fixture
def pg_centre(pg_url: str, tmp_path: Path) -> Iterator[Centre]:
    application = create_app(app_config(tmp_path, DATABASE_URL=pg_url))
    create_schema(application.config["DATABASE_URL"])
    with application.app_context():
        unit = demo.load(db.session())
        db.session.commit()
        yield Centre(db.session(), unit)
        db.session.rollback()
        db.session.remove()
        assert db.engine is not None
        db.engine.dispose()
