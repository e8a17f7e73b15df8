"""queue head indexes: call-next reads the oldest tickets of each field and priority class

Revision ID: 0004
Revises: 0003
"""

from alembic import op


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_tickets_waiting', 'tickets',
                    ['unit_id', 'business_date', 'state', 'service_id', 'priority', 'queue_at'])
    op.create_index('ix_tickets_target', 'tickets',
                    ['target_counter_id', 'unit_id', 'business_date', 'state', 'queue_at'])


def downgrade() -> None:
    op.drop_index('ix_tickets_target', table_name='tickets')
    op.drop_index('ix_tickets_waiting', table_name='tickets')
