"""messages to the citizen's phone: subscriptions and the delivery outbox (issue 21)

Placeholder in the chain, filled by the work it names (nothing changes until then).

Revision ID: 0015
Revises: 0014
"""

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
