"""ticket procedure: the procedure (thủ tục) the citizen chose at the kiosk, kept on the ticket

The clerk's card shows it, the dossier intake starts from it, and the slip may list its
documents. A national procedure code (``procedures.code`` of the ticket's unit), not a
foreign key: a ticket outlives a catalogue re-import. Null when no procedure was chosen.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('tickets') as batch:
        batch.add_column(sa.Column('procedure_code', sa.String(length=40), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('tickets') as batch:
        batch.drop_column('procedure_code')
