"""hall display media and playlists (issue 23)

Placeholder in the chain, filled by the work it names (nothing changes until then).

Revision ID: 0014
Revises: 0013
"""

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
