"""the reports' summary of closed days, and the print jobs still pending (issue 24 item 3)

- ``report_days``: which past days are summarised, by which version of the summary;
- ``report_cells``: per (day, field, counter, clerk) the counts and the exact samples of
  waits and services (onestop/reports/models.py, onestop/reports/rollup.py);
- ``ix_print_jobs_pending``: ``print_jobs (unit_id, expires_at) WHERE state = 'pending'``,
  for the look-up of expired jobs made on every slip sent to a print agent (it read every
  job of the unit: a year of slips).

The tables start empty: the nightly ``onestop day-close --yesterday`` fills the days it
finds settled, ``onestop reports rollup`` all of them at once; until then a report reads
the events, as before.

Revision ID: 0017
Revises: 0016
"""

import sqlalchemy as sa
from alembic import op

import onestop.db

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None

_PENDING = "state = 'pending'"


def upgrade() -> None:
    op.create_table(
        'report_days',
        sa.Column('unit_id', sa.Integer(), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('cells', sa.Integer(), nullable=False),
        sa.Column('written_at', onestop.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_report_days_unit_id_units')),
        sa.PrimaryKeyConstraint('unit_id', 'day', name=op.f('pk_report_days')),
    )
    op.create_table(
        'report_cells',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('unit_id', sa.Integer(), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('service_id', sa.Integer(), nullable=True),
        sa.Column('counter_id', sa.Integer(), nullable=True),
        sa.Column('clerk_id', sa.Integer(), nullable=True),
        sa.Column('facts', sa.Text(), nullable=False),
        sa.Column('samples', sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_report_cells_unit_id_units')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_report_cells')),
    )
    op.create_index('ix_report_cells_unit_day', 'report_cells', ['unit_id', 'day'], unique=False)
    op.create_index('ix_print_jobs_pending', 'print_jobs', ['unit_id', 'expires_at'], unique=False,
                    sqlite_where=sa.text(_PENDING), postgresql_where=sa.text(_PENDING))


def downgrade() -> None:
    op.drop_index('ix_print_jobs_pending', table_name='print_jobs')
    op.drop_index('ix_report_cells_unit_day', table_name='report_cells')
    op.drop_table('report_cells')
    op.drop_table('report_days')
