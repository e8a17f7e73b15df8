"""pickup tickets: a ticket taken at the kiosk to collect a dossier's result or hand in a supplement

- ``tickets.dossier_id``: the dossier the ticket was taken for (null for every other ticket).
  The clerk who calls it gets that dossier opened with the hand-over ready.
- ``tickets.purpose``: ``pickup`` (nhận kết quả) or ``supplement`` (nộp bổ sung), null when
  the ticket is not linked to a dossier.
- a unique index on (dossier_id, business_date): one such ticket per dossier per day, held by
  the database even when two taps race (NULLs are distinct, so ordinary tickets are free).

Added in place (ALTER TABLE ADD COLUMN, with the check and the reference inline on SQLite):
rebuilding ``tickets`` would trip the foreign keys that point at it.

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

_PURPOSES = "('pickup', 'supplement')"


def upgrade() -> None:
    if op.get_bind().dialect.name == 'sqlite':
        # SQLite adds column constraints in place, never a table constraint
        op.execute("ALTER TABLE tickets ADD COLUMN dossier_id INTEGER"
                   " CONSTRAINT fk_tickets_dossier_id_dossiers REFERENCES dossiers (id)")
        op.execute("ALTER TABLE tickets ADD COLUMN purpose VARCHAR(16)"
                   f" CONSTRAINT ck_tickets_purpose CHECK (purpose IN {_PURPOSES})")
    else:
        op.add_column('tickets', sa.Column('dossier_id', sa.Integer(), nullable=True))
        op.add_column('tickets', sa.Column('purpose', sa.String(length=16), nullable=True))
        op.create_foreign_key('fk_tickets_dossier_id_dossiers', 'tickets', 'dossiers',
                              ['dossier_id'], ['id'])
        op.create_check_constraint('ck_tickets_purpose', 'tickets', f"purpose IN {_PURPOSES}")
    op.create_index('ux_tickets_dossier_day', 'tickets', ['dossier_id', 'business_date'],
                    unique=True)


def downgrade() -> None:
    op.drop_index('ux_tickets_dossier_day', table_name='tickets')
    if op.get_bind().dialect.name == 'sqlite':
        op.execute("ALTER TABLE tickets DROP COLUMN purpose")
        op.execute("ALTER TABLE tickets DROP COLUMN dossier_id")
    else:
        op.drop_constraint('ck_tickets_purpose', 'tickets', type_='check')
        op.drop_constraint('fk_tickets_dossier_id_dossiers', 'tickets', type_='foreignkey')
        op.drop_column('tickets', 'purpose')
        op.drop_column('tickets', 'dossier_id')
