"""PostgreSQL speed: indexes and summary tables (issue 24)

Placeholder in the chain, filled by the work it names (nothing changes until then).

Revision ID: 0016
Revises: 0015
"""

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
