"""`onestop user add --role reception|supervisor [--units A,B]` and `onestop device add
--kind printer`, run in-process on a real SQLite file (issue 22)."""

from __future__ import annotations

from sqlalchemy import select

from onestop.models import Device, User, UserUnit
from onestop.units.models import Unit
from tests.test_cli import env, run  # noqa: F401 (the fixture)

PASSWORD = "mật-khẩu-dài-1"


def test_reception_and_supervisor_accounts_and_a_desk_printer(env):  # noqa: F811
    _, database = env
    for code in ("H56.1", "H56.2", "H56.3"):
        assert run("unit", "add", "--code", code, "--name", f"Xã {code}").exit_code == 0
    assert run("user", "add", "letan", "--role", "reception", "--unit", "H56.2",
               "--password", PASSWORD).exit_code == 0
    made = run("user", "add", "tinh", "--role", "supervisor", "--units", "H56.1,H56.3",
               "--password", PASSWORD)
    assert made.exit_code == 0, made.output
    wrong = run("user", "add", "x1", "--role", "clerk", "--units", "H56.1", "--password", PASSWORD)
    assert wrong.exit_code != 0 and "--units" in wrong.output
    unknown = run("user", "add", "x2", "--role", "supervisor", "--units", "H56.9", "--password", PASSWORD)
    assert unknown.exit_code != 0
    printer = run("device", "add", "--kind", "printer", "--name", "Máy in bàn đón tiếp",
                  "--printer", "tcp://127.0.0.1:9100")
    assert printer.exit_code == 0, printer.output
    with database.transaction() as session:
        codes = dict(session.execute(select(Unit.id, Unit.code)).all())
        users = {u.username: u for u in session.scalars(select(User))}
        assert users["letan"].role == "reception" and codes[users["letan"].unit_id] == "H56.2"
        watched = session.scalars(select(UserUnit.unit_id).where(UserUnit.user_id == users["tinh"].id))
        assert sorted(codes[u] for u in watched) == ["H56.1", "H56.3"]
        assert "x1" not in users and "x2" not in users
        device = session.scalars(select(Device).where(Device.kind == "printer")).one()
        assert device.printer_uri == "tcp://127.0.0.1:9100"
