"""counter ticket indexes: the ticket at a counter, and a counter's day

On every call-next, the ticket at the counter was found through an index on ``counter_id``
alone, so the search read every ticket the counter had ever served (some 12,000 a year at a
busy counter) to keep the one or two still called or being served. The rating tablet's
question (the ticket just finished there) and the weighted mode's count of a counter's calls
today did the same.

Revision ID: 0005
Revises: 0004
"""

from alembic import op


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_tickets_at_counter', 'tickets', ['counter_id', 'state', 'finished_at'])
    op.create_index('ix_tickets_counter_day', 'tickets',
                    ['counter_id', 'business_date', 'service_id'])
    op.drop_index('ix_tickets_counter_id', table_name='tickets')


def downgrade() -> None:
    op.create_index('ix_tickets_counter_id', 'tickets', ['counter_id'])
    op.drop_index('ix_tickets_counter_day', table_name='tickets')
    op.drop_index('ix_tickets_at_counter', table_name='tickets')
