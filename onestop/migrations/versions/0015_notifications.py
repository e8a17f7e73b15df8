"""messages to the citizen's phone: subscriptions and the delivery outbox (issue 21)

- ``notify_subscriptions``: a phone (``+84…``) or e-mail address attached to a ticket,
  booking or dossier (erased at day close, or with the dossier's personal data);
- ``notify_messages``: one row per message (written in the transaction of its event),
  ``pending -> sent | dead | dropped``, sent by the loop in onestop/notify/worker.py.

Revision ID: 0015
Revises: 0014
"""

import sqlalchemy as sa
from alembic import op

import onestop.db

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None

UTC = onestop.db.UTCDateTime(timezone=True)
EVENTS = ("'ticket.near', 'ticket.called', 'ticket.transferred', 'booking.confirmed', 'booking.reminder', "
          "'booking.cancelled', 'dossier.ready', 'dossier.supplement_requested'")


def upgrade() -> None:
    op.create_table(
        'notify_subscriptions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('unit_id', sa.Integer(), nullable=False),
        sa.Column('subject', sa.String(length=8), nullable=False),
        sa.Column('subject_id', sa.Integer(), nullable=False),
        sa.Column('business_date', sa.Date(), nullable=False),
        sa.Column('address_kind', sa.String(length=8), nullable=False),
        sa.Column('address', sa.String(length=254), nullable=False),
        sa.Column('lang', sa.String(length=2), nullable=False),
        sa.Column('created_at', UTC, nullable=False),
        sa.CheckConstraint("subject IN ('ticket', 'booking', 'dossier')",
                           name=op.f('ck_notify_subscriptions_subject')),
        sa.CheckConstraint("address_kind IN ('phone', 'email')", name=op.f('ck_notify_subscriptions_address_kind')),
        sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_notify_subscriptions_unit_id_units')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_notify_subscriptions')),
        sa.UniqueConstraint('subject', 'subject_id', 'address',
                            name=op.f('uq_notify_subscriptions_subject_subject_id_address')),
    )
    op.create_index('ix_notify_subscriptions_unit_day', 'notify_subscriptions', ['unit_id', 'business_date'])
    op.create_table(
        'notify_messages',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('unit_id', sa.Integer(), nullable=False),
        sa.Column('subscription_id', sa.Integer(), nullable=True),
        sa.Column('subject', sa.String(length=8), nullable=False),
        sa.Column('subject_id', sa.Integer(), nullable=False),
        sa.Column('event', sa.String(length=40), nullable=False),
        sa.Column('dedup', sa.String(length=40), nullable=False),
        sa.Column('data', sa.JSON(), nullable=False),
        sa.Column('masked', sa.String(length=64), nullable=False),
        sa.Column('state', sa.String(length=8), nullable=False),
        sa.Column('channel', sa.String(length=8), nullable=True),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('next_attempt_at', UTC, nullable=True),
        sa.Column('last_error', sa.String(length=300), nullable=False),
        sa.Column('created_at', UTC, nullable=False),
        sa.Column('sent_at', UTC, nullable=True),
        sa.CheckConstraint("state IN ('pending', 'sent', 'dead', 'dropped')", name=op.f('ck_notify_messages_state')),
        sa.CheckConstraint(f"event IN ({EVENTS})", name=op.f('ck_notify_messages_event')),
        sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_notify_messages_unit_id_units')),
        sa.ForeignKeyConstraint(['subscription_id'], ['notify_subscriptions.id'], ondelete='SET NULL',
                                name=op.f('fk_notify_messages_subscription_id_notify_subscriptions')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_notify_messages')),
        sa.UniqueConstraint('subscription_id', 'dedup', name=op.f('uq_notify_messages_subscription_id_dedup')),
    )
    op.create_index('ix_notify_messages_due', 'notify_messages', ['state', 'next_attempt_at'])
    op.create_index('ix_notify_messages_subject', 'notify_messages', ['subject', 'subject_id'])
    op.create_index('ix_notify_messages_unit_created', 'notify_messages', ['unit_id', 'created_at'])


def downgrade() -> None:
    op.drop_index('ix_notify_messages_unit_created', table_name='notify_messages')
    op.drop_index('ix_notify_messages_subject', table_name='notify_messages')
    op.drop_index('ix_notify_messages_due', table_name='notify_messages')
    op.drop_table('notify_messages')
    op.drop_index('ix_notify_subscriptions_unit_day', table_name='notify_subscriptions')
    op.drop_table('notify_subscriptions')
