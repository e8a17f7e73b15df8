"""reception desk, clerk moves, manager actions and supervisors (issue 22)

- ``tickets.note``: a note for the clerk who calls the ticket (written at the reception
  desk, or by the clerk who transferred it); ``tickets.return_counter_id``: "trả về quầy
  tôi", the counter a transferred ticket goes back to when the target finishes it.
- ``services.alert_wait_minutes``: the field's own "waiting too long" threshold (null: the
  unit's ``alert_wait_minutes``).
- ``user_units``: the units a supervisor watches.
- ``users.role`` also takes ``reception`` and ``supervisor``; ``devices.kind`` also takes
  ``printer`` (a desk printer). The CHECKs are widened as 0012 widens ``tickets.source``:
  in place on PostgreSQL; on SQLite in the stored schema (``writable_schema``), since a
  rebuild of ``users`` or ``devices`` would trip the foreign keys that point at them.
  Downgrading first turns the accounts and devices of the new kinds into ones the narrower
  CHECK accepts (inactive clerks, kiosks without a printer).

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

_ROLES = ('admin', 'manager', 'clerk', 'integration')
_KINDS = ('kiosk', 'display', 'counter-display', 'tablet', 'agent')
_NEW_ROLES = (*_ROLES, 'reception', 'supervisor')
_NEW_KINDS = (*_KINDS, 'printer')


def _in(values: tuple[str, ...]) -> str:
    return "(" + ", ".join(f"'{v}'" for v in values) + ")"


def _check(table: str, column: str, old: tuple[str, ...], new: tuple[str, ...]) -> None:
    bind = op.get_bind()
    if bind.dialect.name != 'sqlite':
        op.drop_constraint(op.f(f'ck_{table}_{column}'), table, type_='check')
        op.create_check_constraint(op.f(f'ck_{table}_{column}'), table, f"{column} IN {_in(new)}")
        return
    before, after = f"{column} IN {_in(old)}", f"{column} IN {_in(new)}"
    sql = bind.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)).scalar_one()
    if before not in sql:
        raise RuntimeError(f"{table}: no CHECK ({before}) to replace")
    version = bind.exec_driver_sql("PRAGMA schema_version").scalar_one()
    bind.exec_driver_sql("PRAGMA writable_schema = ON")
    bind.exec_driver_sql("UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = ?",
                         (sql.replace(before, after), table))
    bind.exec_driver_sql(f"PRAGMA schema_version = {int(version) + 1}")
    bind.exec_driver_sql("PRAGMA writable_schema = OFF")


def upgrade() -> None:
    op.add_column('tickets', sa.Column('note', sa.String(length=200), nullable=True))
    if op.get_bind().dialect.name == 'sqlite':  # no ALTER of constraints: the key comes with it
        op.execute("ALTER TABLE tickets ADD COLUMN return_counter_id INTEGER"
                   " CONSTRAINT fk_tickets_return_counter_id_counters REFERENCES counters (id)")
    else:
        op.add_column('tickets', sa.Column('return_counter_id', sa.Integer(), nullable=True))
        op.create_foreign_key('fk_tickets_return_counter_id_counters', 'tickets', 'counters',
                              ['return_counter_id'], ['id'])
    op.add_column('services', sa.Column('alert_wait_minutes', sa.Integer(), nullable=True))
    op.create_table(
        'user_units',
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('unit_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_user_units_unit_id_units')),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_user_units_user_id_users')),
        sa.PrimaryKeyConstraint('user_id', 'unit_id', name=op.f('pk_user_units')),
    )
    _check('users', 'role', _ROLES, _NEW_ROLES)
    _check('devices', 'kind', _KINDS, _NEW_KINDS)


def downgrade() -> None:
    op.execute("UPDATE users SET role = 'clerk', active = false WHERE role IN ('reception', 'supervisor')")
    op.execute("UPDATE devices SET kind = 'kiosk', printer_uri = NULL WHERE kind = 'printer'")
    _check('devices', 'kind', _NEW_KINDS, _KINDS)
    _check('users', 'role', _NEW_ROLES, _ROLES)
    op.drop_table('user_units')
    if op.get_bind().dialect.name == 'sqlite':
        op.execute("ALTER TABLE services DROP COLUMN alert_wait_minutes")
        op.execute("ALTER TABLE tickets DROP COLUMN return_counter_id")
        op.execute("ALTER TABLE tickets DROP COLUMN note")
    else:
        op.drop_column('services', 'alert_wait_minutes')
        op.drop_constraint('fk_tickets_return_counter_id_counters', 'tickets', type_='foreignkey')
        op.drop_column('tickets', 'return_counter_id')
        op.drop_column('tickets', 'note')
