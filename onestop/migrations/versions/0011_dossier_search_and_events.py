"""dossier desk: the searchable text of a dossier, and three more webhook events

- ``dossiers.search_text``: the code, the applicant's (and "on behalf of") name without
  diacritics, the ID number and the phone, lower case (``dossier_search_text``), which the
  dossier desk's search looks in. Filled here for the dossiers there are; the model fills
  it on every insert and update from now on (an erased applicant is no longer findable).
- ``webhook_deliveries.event`` also takes ``dossier.ready``, ``dossier.supplement_requested``
  and ``dossier.returned``. The CHECK is replaced: in place on PostgreSQL; on SQLite the
  table is rebuilt (nothing refers to it).

Revision ID: 0011
Revises: 0010
"""

import unicodedata

import sqlalchemy as sa
from alembic import op

import onestop.db

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

_OLD = ('ticket.issued', 'ticket.called', 'dossier.received', 'dossier.changed', 'rating.created')
_NEW = (*_OLD, 'dossier.ready', 'dossier.supplement_requested', 'dossier.returned')
_BATCH = 1000


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


def dossier_search_text(code: str, name: str, id_number: str, phone: str, on_behalf_of: str) -> str:
    """As ``onestop.dossiers.models.dossier_search_text`` was at this revision."""
    parts = (code.lower(), _fold(name), id_number, phone, _fold(on_behalf_of))
    return " ".join(p for p in parts if p)[:600]


def _in(values: tuple[str, ...]) -> str:
    return "(" + ", ".join(f"'{v}'" for v in values) + ")"


def _deliveries(events: tuple[str, ...]) -> sa.Table:
    """webhook_deliveries as 0002 made it, with the event CHECK over ``events``."""
    return sa.Table(
        'webhook_deliveries', sa.MetaData(),
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('webhook_id', sa.Integer(), nullable=False),
        sa.Column('event', sa.String(length=40), nullable=False),
        sa.Column('payload', sa.JSON(), nullable=False),
        sa.Column('state', sa.String(length=12), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('next_attempt_at', onestop.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('last_attempt_at', onestop.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('last_status_code', sa.Integer(), nullable=True),
        sa.Column('last_error', sa.String(length=500), nullable=False),
        sa.Column('created_at', onestop.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('delivered_at', onestop.db.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint(f"event IN {_in(events)}", name=op.f('ck_webhook_deliveries_event')),
        sa.CheckConstraint("state IN ('pending', 'delivered', 'failed', 'dead')",
                           name=op.f('ck_webhook_deliveries_state')),
        sa.ForeignKeyConstraint(['webhook_id'], ['webhooks.id'],
                                name=op.f('fk_webhook_deliveries_webhook_id_webhooks')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_deliveries')),
        sa.Index('ix_webhook_deliveries_due', 'state', 'next_attempt_at'),
        sa.Index('ix_webhook_deliveries_webhook', 'webhook_id', 'id'),
    )


def _events(events: tuple[str, ...]) -> None:
    if op.get_bind().dialect.name == 'sqlite':
        with op.batch_alter_table('webhook_deliveries', copy_from=_deliveries(events),
                                  recreate='always'):
            pass
    else:
        op.drop_constraint(op.f('ck_webhook_deliveries_event'), 'webhook_deliveries', type_='check')
        op.create_check_constraint(op.f('ck_webhook_deliveries_event'), 'webhook_deliveries',
                                   f"event IN {_in(events)}")


def _fill_search_text() -> None:
    bind = op.get_bind()
    dossiers = sa.table('dossiers', sa.column('id', sa.Integer), sa.column('code', sa.String),
                        sa.column('applicant_name', sa.String),
                        sa.column('applicant_id_number', sa.String),
                        sa.column('applicant_phone', sa.String), sa.column('on_behalf_of', sa.String),
                        sa.column('search_text', sa.String))
    last = 0
    while True:
        rows = bind.execute(sa.select(dossiers.c.id, dossiers.c.code, dossiers.c.applicant_name,
                                      dossiers.c.applicant_id_number, dossiers.c.applicant_phone,
                                      dossiers.c.on_behalf_of)
                            .where(dossiers.c.id > last).order_by(dossiers.c.id).limit(_BATCH)).all()
        if not rows:
            return
        bind.execute(dossiers.update().where(dossiers.c.id == sa.bindparam('row_id'))
                     .values(search_text=sa.bindparam('text')),
                     [{"row_id": r.id, "text": dossier_search_text(r.code or "", r.applicant_name or "",
                                                                   r.applicant_id_number or "",
                                                                   r.applicant_phone or "",
                                                                   r.on_behalf_of or "")}
                      for r in rows])
        last = rows[-1].id


def upgrade() -> None:
    op.add_column('dossiers', sa.Column('search_text', sa.String(length=600), nullable=False,
                                        server_default=''))
    _fill_search_text()
    _events(_NEW)


def downgrade() -> None:
    # deliveries of the three events cannot stay under the old CHECK: they go first
    op.execute(f"DELETE FROM webhook_deliveries WHERE event NOT IN {_in(_OLD)}")
    _events(_OLD)
    if op.get_bind().dialect.name == 'sqlite':
        op.execute("ALTER TABLE dossiers DROP COLUMN search_text")
    else:
        op.drop_column('dossiers', 'search_text')
