"""login locks per address, session generation, budgets that survive a restart

- ``login_locks``: wrong passwords per (account, client address); the lock holds for that
  address only (it replaces ``users.failed_logins`` / ``users.locked_until``, which locked
  the account for everyone: a lock running when this migration runs is dropped).
- ``users.session_generation``: raised by signing out, it ends every copy of the session.
- ``throttle_counts``: the sign-in tries per address and the phone-digit guesses per
  dossier code, counted in the database so that a restart does not reset them.

The users columns are added and dropped in place (ALTER TABLE; SQLite >= 3.35): rebuilding
the table would trip the foreign keys that point at it.

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

import onestop.db

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('users', sa.Column('session_generation', sa.Integer(), server_default='0',
                                     nullable=False))
    op.drop_column('users', 'failed_logins')
    op.drop_column('users', 'locked_until')
    op.create_table(
        'login_locks',
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('address', sa.String(length=64), nullable=False),
        sa.Column('failures', sa.Integer(), server_default='0', nullable=False),
        sa.Column('locks', sa.Integer(), server_default='0', nullable=False),
        sa.Column('locked_until', onestop.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('last_failure_at', onestop.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_login_locks_user_id_users')),
        sa.PrimaryKeyConstraint('user_id', 'address', name=op.f('pk_login_locks')),
    )
    op.create_table(
        'throttle_counts',
        sa.Column('scope', sa.String(length=16), nullable=False),
        sa.Column('key', sa.String(length=64), nullable=False),
        sa.Column('bucket', sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column('hits', sa.Integer(), nullable=False),
        sa.Column('expires', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('scope', 'key', 'bucket', name=op.f('pk_throttle_counts')),
    )
    op.create_index(op.f('ix_throttle_counts_expires'), 'throttle_counts', ['expires'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_throttle_counts_expires'), table_name='throttle_counts')
    op.drop_table('throttle_counts')
    op.drop_table('login_locks')
    op.add_column('users', sa.Column('locked_until', onestop.db.UTCDateTime(timezone=True), nullable=True))
    op.add_column('users', sa.Column('failed_logins', sa.Integer(), server_default='0', nullable=False))
    op.drop_column('users', 'session_generation')
