"""provincial link: the province's dossier code on tickets and dossiers, and the outbox of
pushes to the province's TTHC information system (onestop/integrations, docs/provincial-link.md)

- ``tickets.provincial_code``: the code the clerk scanned or typed on the ticket being served
  (link mode); copied to the dossier received under that ticket.
- ``dossiers.provincial_code`` (indexed: the kiosk and ``/lookup`` find a dossier by it).
- ``province_pushes``: one row per state change to send (written in the transaction of the
  change), ``pending -> sent | dead``, retried with backoff by the push loop.

Plain columns added in place (no rebuild of ``tickets``: foreign keys point at it).

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

import onestop.db

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('tickets', sa.Column('provincial_code', sa.String(length=64), nullable=True))
    op.add_column('dossiers', sa.Column('provincial_code', sa.String(length=64), nullable=True))
    op.create_index('ix_dossiers_provincial_code', 'dossiers', ['provincial_code'], unique=False)
    op.create_table(
        'province_pushes',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('dossier_id', sa.Integer(), nullable=False),
        sa.Column('payload', sa.JSON(), nullable=False),
        sa.Column('state', sa.String(length=12), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('next_attempt_at', onestop.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('last_attempt_at', onestop.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('last_status_code', sa.Integer(), nullable=True),
        sa.Column('last_error', sa.String(length=500), nullable=False),
        sa.Column('created_at', onestop.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('sent_at', onestop.db.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint("state IN ('pending', 'sent', 'dead')", name=op.f('ck_province_pushes_state')),
        sa.ForeignKeyConstraint(['dossier_id'], ['dossiers.id'],
                                name=op.f('fk_province_pushes_dossier_id_dossiers')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_province_pushes')),
    )
    op.create_index('ix_province_pushes_due', 'province_pushes', ['state', 'next_attempt_at'])
    op.create_index('ix_province_pushes_dossier', 'province_pushes', ['dossier_id', 'id'])


def downgrade() -> None:
    op.drop_index('ix_province_pushes_dossier', table_name='province_pushes')
    op.drop_index('ix_province_pushes_due', table_name='province_pushes')
    op.drop_table('province_pushes')
    op.drop_index('ix_dossiers_provincial_code', table_name='dossiers')
    if op.get_bind().dialect.name == 'sqlite':
        op.execute("ALTER TABLE dossiers DROP COLUMN provincial_code")
        op.execute("ALTER TABLE tickets DROP COLUMN provincial_code")
    else:
        op.drop_column('dossiers', 'provincial_code')
        op.drop_column('tickets', 'provincial_code')
