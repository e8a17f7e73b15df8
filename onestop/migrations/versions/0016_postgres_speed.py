"""the ticket at each counter through a partial index (issue 24)

- ``ix_tickets_current``: ``tickets (counter_id) WHERE state IN ('called', 'serving')``. It
  holds only the tickets at a counter now, so the display snapshot's search for them costs
  the same with a year of history. SQLite with statistics (after ``ANALYZE``) otherwise
  scanned the whole table: 0.08 ms became 22-77 ms a snapshot at 60,000 tickets
  (docs/postgres-performance.md).

Revision ID: 0016
Revises: 0015
"""

import sqlalchemy as sa
from alembic import op

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None

_WHERE = "state IN ('called', 'serving')"


def upgrade() -> None:
    op.create_index('ix_tickets_current', 'tickets', ['counter_id'], unique=False,
                    sqlite_where=sa.text(_WHERE), postgresql_where=sa.text(_WHERE))


def downgrade() -> None:
    op.drop_index('ix_tickets_current', table_name='tickets')
