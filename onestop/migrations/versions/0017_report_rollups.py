"""the reports' summary of closed days, and the print jobs still pending (issue 24 item 3)

- ``report_days``: the past days summarised, by which version of the summary, each with its
  cells (per field, counter and clerk: the counts and the exact samples of waits and
  services) as arrays (onestop/reports/models.py, onestop/reports/rollup.py);
- ``ix_print_jobs_pending``: ``print_jobs (unit_id, expires_at) WHERE state = 'pending'``,
  for the look-up of expired jobs made on every slip sent to a print agent (it read every
  job of the unit: a year of slips);
- ``ix_dossiers_unit_received``, ``ix_dossiers_unit_state_received``,
  ``ix_dossiers_unit_service_received``: ``dossiers (unit_id, [state | service_id,]
  received_at, id)``, the dossier desk's list newest received first, all / by state / by
  field (onestop/dossiers/search.py): it read and counted every dossier of the unit.

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
_DOSSIER_LIST = {
    'ix_dossiers_unit_received': ['unit_id', 'received_at', 'id'],
    'ix_dossiers_unit_state_received': ['unit_id', 'state', 'received_at', 'id'],
    'ix_dossiers_unit_service_received': ['unit_id', 'service_id', 'received_at', 'id'],
}


def upgrade() -> None:
    op.create_table(
        'report_days',
        sa.Column('unit_id', sa.Integer(), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('cells', sa.Integer(), nullable=False),
        sa.Column('facts', sa.Text(), nullable=False),
        sa.Column('block', sa.LargeBinary(), nullable=False),
        sa.Column('written_at', onestop.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_report_days_unit_id_units')),
        sa.PrimaryKeyConstraint('unit_id', 'day', name=op.f('pk_report_days')),
    )
    op.create_index('ix_print_jobs_pending', 'print_jobs', ['unit_id', 'expires_at'], unique=False,
                    sqlite_where=sa.text(_PENDING), postgresql_where=sa.text(_PENDING))
    # the dossier desk's list (onestop/dossiers/search.py, onestop/dossiers/models.py)
    for name, columns in _DOSSIER_LIST.items():
        op.create_index(name, 'dossiers', columns, unique=False)


def downgrade() -> None:
    for name in _DOSSIER_LIST:
        op.drop_index(name, table_name='dossiers')
    op.drop_index('ix_print_jobs_pending', table_name='print_jobs')
    op.drop_table('report_days')
