"""catalog version: a number on each unit that follows every change to its services and webhooks

Each process keeps the fields' names and zones and the active webhook subscriptions
(onestop/queueing/catalog.py) instead of reading them on every call; triggers raise
``units.catalog_version`` on any insert, update or delete of a unit's services or webhooks,
and the unit's row, read on every request, tells a process when what it holds is out of
date. Existing units start at a random number.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

from onestop.units.models import catalog_triggers

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    with op.batch_alter_table('units') as batch:
        batch.add_column(sa.Column('catalog_version', sa.BigInteger(), nullable=False,
                                   server_default='0'))
    op.execute("UPDATE units SET catalog_version = "
               + ("floor(random() * 2^48)::bigint" if postgres else "abs(random() % 281474976710656)"))
    for table in ("services", "webhooks"):
        for sql in catalog_triggers(table, "postgresql" if postgres else "sqlite"):
            op.execute(sql)


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for table in ("services", "webhooks"):
        if postgres:
            op.execute(f"DROP TRIGGER IF EXISTS tr_{table}_catalog ON {table}")
        else:
            for action in ("insert", "update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS tr_{table}_catalog_{action}")
    if postgres:
        op.execute("DROP FUNCTION IF EXISTS onestop_catalog_changed()")
    with op.batch_alter_table('units') as batch:
        batch.drop_column('catalog_version')
