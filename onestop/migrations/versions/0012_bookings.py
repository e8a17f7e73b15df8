"""bookings, remote tickets and the ticket sources booking, remote, reception (issue 20)

- ``bookings``: a citizen's reserved slot in a field (onestop/bookings/models.py).
- ``services.booking``: the field's booking settings (JSON), null = no bookings (all fields
  as they are).
- ``tickets.phone``: the citizen's mobile number when known (a number taken from a phone,
  a booking's check-in); ``tickets.origin``: for a number taken from a phone, a hash of the
  address it came from (the per-address daily limit).
- ``tickets.source`` also takes ``booking``, ``remote`` and ``reception``. The CHECK is
  replaced: in place on PostgreSQL. On SQLite a rebuild of ``tickets`` would trip the
  foreign keys that point at it (``PRAGMA foreign_keys`` cannot be turned off inside the
  migration's transaction), so the constraint's text is changed in the schema itself, the
  way SQLite's documentation gives for changes that leave the stored rows valid
  ("Making Other Kinds Of Table Schema Changes": ``writable_schema``, then a new
  ``schema_version``); widening a CHECK is one. Downgrading first turns the tickets of the
  three sources into ``api`` tickets (the narrower CHECK would refuse them).

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

import onestop.db

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

_OLD = ('kiosk', 'counter', 'appointment', 'api')
_NEW = (*_OLD, 'booking', 'remote', 'reception')


def _in(values: tuple[str, ...]) -> str:
    return "(" + ", ".join(f"'{v}'" for v in values) + ")"


def _sources(old: tuple[str, ...], new: tuple[str, ...]) -> None:
    bind = op.get_bind()
    if bind.dialect.name != 'sqlite':
        op.drop_constraint(op.f('ck_tickets_source'), 'tickets', type_='check')
        op.create_check_constraint(op.f('ck_tickets_source'), 'tickets', f"source IN {_in(new)}")
        return
    before, after = f"source IN {_in(old)}", f"source IN {_in(new)}"
    sql = bind.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'tickets'").scalar_one()
    if before not in sql:
        raise RuntimeError(f"tickets: no CHECK ({before}) to replace")
    version = bind.exec_driver_sql("PRAGMA schema_version").scalar_one()
    bind.exec_driver_sql("PRAGMA writable_schema = ON")
    bind.exec_driver_sql("UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = 'tickets'",
                         (sql.replace(before, after),))
    bind.exec_driver_sql(f"PRAGMA schema_version = {int(version) + 1}")
    bind.exec_driver_sql("PRAGMA writable_schema = OFF")


def upgrade() -> None:
    op.create_table(
        'bookings',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('unit_id', sa.Integer(), nullable=False),
        sa.Column('service_id', sa.Integer(), nullable=False),
        sa.Column('code', sa.String(length=12), nullable=False),
        sa.Column('start', onestop.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('end', onestop.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('phone', sa.String(length=16), nullable=False),
        sa.Column('name', sa.String(length=120), nullable=True),
        sa.Column('procedure_code', sa.String(length=40), nullable=True),
        sa.Column('state', sa.String(length=12), nullable=False),
        sa.Column('ticket_id', sa.Integer(), nullable=True),
        sa.Column('channel', sa.String(length=8), nullable=False),
        sa.Column('created_by_user_id', sa.Integer(), nullable=True),
        sa.Column('created_at', onestop.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('checked_in_at', onestop.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('cancelled_at', onestop.db.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint("state IN ('booked', 'checked_in', 'cancelled', 'no_show')",
                           name=op.f('ck_bookings_state')),
        sa.CheckConstraint("channel IN ('web', 'api', 'staff')", name=op.f('ck_bookings_channel')),
        sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_bookings_unit_id_units')),
        sa.ForeignKeyConstraint(['service_id'], ['services.id'],
                                name=op.f('fk_bookings_service_id_services')),
        sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'],
                                name=op.f('fk_bookings_ticket_id_tickets')),
        sa.ForeignKeyConstraint(['created_by_user_id'], ['users.id'],
                                name=op.f('fk_bookings_created_by_user_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_bookings')),
        sa.UniqueConstraint('code', name=op.f('uq_bookings_code')),
    )
    op.create_index(op.f('ix_bookings_unit_id'), 'bookings', ['unit_id'])
    op.create_index('ix_bookings_slot', 'bookings', ['service_id', 'start', 'state'])
    op.create_index('ix_bookings_phone', 'bookings', ['phone', 'service_id'])
    op.add_column('services', sa.Column('booking', sa.JSON(), nullable=True))
    op.add_column('tickets', sa.Column('phone', sa.String(length=16), nullable=True))
    op.add_column('tickets', sa.Column('origin', sa.String(length=16), nullable=True))
    _sources(_OLD, _NEW)


def downgrade() -> None:
    op.execute(f"UPDATE tickets SET source = 'api' WHERE source NOT IN {_in(_OLD)}")
    _sources(_NEW, _OLD)
    op.drop_table('bookings')
    if op.get_bind().dialect.name == 'sqlite':
        op.execute("ALTER TABLE tickets DROP COLUMN origin")
        op.execute("ALTER TABLE tickets DROP COLUMN phone")
        op.execute("ALTER TABLE services DROP COLUMN booking")
    else:
        op.drop_column('tickets', 'origin')
        op.drop_column('tickets', 'phone')
        op.drop_column('services', 'booking')
