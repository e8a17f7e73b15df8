"""bookings, remote tickets and the ticket sources booking, remote, reception (issue 20)

Placeholder in the chain, filled by the work it names (nothing changes until then).

Revision ID: 0012
Revises: 0011
"""

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
