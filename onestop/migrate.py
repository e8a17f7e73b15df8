"""Run Alembic programmatically: no alembic.ini to find, the URL passed in."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the database at ``url`` to ``revision`` (creates it on first run)."""
    command.upgrade(alembic_config(url), revision)


def current_heads(url: str) -> tuple[str | None, str | None]:
    """(database revision, code head) to tell whether the schema is up to date."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    from onestop.db import make_engine

    script = ScriptDirectory.from_config(alembic_config(url))
    engine = make_engine(url)
    with engine.connect() as conn:
        db_rev = MigrationContext.configure(conn).get_current_revision()
    engine.dispose()
    return db_rev, script.get_current_head()
