"""reception desk, clerk moves, manager actions and supervisors (issue 22)

Placeholder in the chain, filled by the work it names (nothing changes until then).

Revision ID: 0013
Revises: 0012
"""

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
