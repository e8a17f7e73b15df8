"""The ``onestop`` command. Settings come from ONESTOP_* variables and the instance TOML."""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from pathlib import Path
from typing import Any

import click
from sqlalchemy import select

from onestop.config import DEMO_SECRET, load_settings
from onestop.db import Database, utcnow
from onestop.queueing.errors import DomainError
from onestop.units.models import Unit


def _db(config: dict[str, Any] | None = None) -> Database:
    """A database handle without a Flask app (CLI commands need no web layer)."""
    settings = load_settings(config)
    Path(settings["DATA_DIR"]).mkdir(parents=True, exist_ok=True)
    database = Database()
    from onestop.db import make_engine

    database.engine = make_engine(settings["DATABASE_URL"], settings["SQLITE_BUSY_TIMEOUT_MS"])
    database.session_factory.configure(bind=database.engine)
    return database


def _unit(session: Any, code: str | None) -> Unit:
    query = select(Unit).where(Unit.code == code) if code else select(Unit).order_by(Unit.id)
    unit = session.scalars(query.limit(1)).first()
    if unit is None:
        raise click.ClickException(
            f"Không tìm thấy đơn vị {code or ''} (unit not found). "
            "Tạo đơn vị bằng: onestop unit add --code CODE --name NAME")
    return unit


def _fail(error: DomainError) -> click.ClickException:
    detail = " ".join(f"{k}={v}" for k, v in error.details.items())
    return click.ClickException(f"{error.code} {detail}".strip())


@click.group()
def main() -> None:
    """onestop: kiosk and queue-ticketing for public administrative service centres."""


@main.group("db")
def db_group() -> None:
    """Database schema commands."""


@db_group.command("upgrade")
def db_upgrade() -> None:
    """Create or upgrade the database schema to the latest revision."""
    from onestop.migrate import upgrade

    settings = load_settings()
    Path(settings["DATA_DIR"]).mkdir(parents=True, exist_ok=True)
    upgrade(settings["DATABASE_URL"])
    click.echo(f"database up to date: {_redact(settings['DATABASE_URL'])}")


def _redact(url: str) -> str:
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        creds, host = rest.rsplit("@", 1)
        return f"{scheme}://{creds.split(':')[0]}:***@{host}" if ":" in creds else url
    return url


@main.group("unit")
def unit_group() -> None:
    """Units (đơn vị)."""


@unit_group.command("add")
@click.option("--code", required=True, help="Mã định danh, e.g. 000.00.06.H56")
@click.option("--name", required=True)
@click.option("--address", default="")
@click.option("--timezone", default="Asia/Ho_Chi_Minh")
def unit_add(code: str, name: str, address: str, timezone: str) -> None:
    """Create a unit."""
    from zoneinfo import ZoneInfo

    try:
        ZoneInfo(timezone)
    except Exception as exc:
        raise click.ClickException(f"unknown timezone {timezone}") from exc
    with _db().transaction() as session:
        if session.scalar(select(Unit).where(Unit.code == code)) is not None:
            raise click.ClickException(f"unit {code} already exists")
        session.add(Unit(code=code, name=name, address=address, timezone=timezone, settings={}))
    click.echo(f"unit {code} created")


@main.group("user")
def user_group() -> None:
    """User accounts."""


@user_group.command("add")
@click.argument("username")
@click.option("--role", type=click.Choice(["admin", "manager", "clerk", "integration"]),
              required=True)
@click.option("--full-name", default="")
@click.option("--unit", "unit_code", default=None, help="unit code (default: the first unit)")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True,
              help="at least 8 characters (prompted when omitted)")
def user_add(username: str, role: str, full_name: str, unit_code: str | None,
             password: str) -> None:
    """Create a user."""
    from onestop.accounts.engine import add_user

    with _db().transaction() as session:
        unit = _unit(session, unit_code) if (unit_code or role != "admin") else None
        try:
            add_user(session, unit, username, password, role, full_name)
        except DomainError as error:
            raise _fail(error) from error
    click.echo(f"user {username} ({role}) created")


@main.group("device")
def device_group() -> None:
    """Paired devices: kiosks, displays, counter displays, tablets, print agents."""


@device_group.command("add")
@click.option("--kind", type=click.Choice(["kiosk", "display", "counter-display", "tablet",
                                           "agent"]), required=True)
@click.option("--name", required=True)
@click.option("--counter", "counter_number", type=int, default=None,
              help="the counter's number as shown to citizens")
@click.option("--printer", "printer_uri", default=None, help="printer URI, e.g. tcp://10.0.0.5:9100")
@click.option("--unit", "unit_code", default=None)
@click.option("--json", "as_json", is_flag=True, help='print {"id", "token", "pairing_code"}')
def device_add(kind: str, name: str, counter_number: int | None, printer_uri: str | None,
               unit_code: str | None, as_json: bool) -> None:
    """Register a device and print its token and one-time pairing code."""
    from onestop.accounts.engine import add_device

    with _db().transaction() as session:
        unit = _unit(session, unit_code)
        try:
            device, token, code = add_device(session, unit, kind, name, now=utcnow(),
                                             counter_number=counter_number,
                                             printer_uri=printer_uri)
        except DomainError as error:
            raise _fail(error) from error
        device_id = device.id
    if as_json:
        click.echo(json.dumps({"id": device_id, "token": token, "pairing_code": code}))
    else:
        click.echo(f"device {device_id} ({kind}) {name}\n  token: {token}\n"
                   f"  pairing code (24 h, once): {code}")


@main.command("day-close")
@click.option("--unit", "unit_code", default=None)
@click.option("--date", "day", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="business date to close (default: today in the unit's timezone)")
def day_close(unit_code: str | None, day: dt.datetime | None) -> None:
    """Expire every ticket still open on that business date and before."""
    from onestop.queueing.engine import close_day

    with _db().transaction() as session:
        unit = _unit(session, unit_code)
        count = close_day(session, unit, now=utcnow(), business_date=day.date() if day else None)
    click.echo(f"{count} ticket(s) expired")


@main.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, type=int, show_default=True)
def serve(host: str, port: int) -> None:
    """Run the production server (gunicorn, gevent worker, one worker)."""
    from onestop.server import serve as run

    settings = load_settings()
    if settings["SECRET_KEY"] == DEMO_SECRET:
        raise click.ClickException(
            "ONESTOP_SECRET_KEY is not set (the demo secret is refused outside `onestop demo`). "
            "Set it in the environment file, e.g.: "
            "ONESTOP_SECRET_KEY=$(python3 -c 'import secrets; print(secrets.token_hex(32))')")
    run(host, port)


@main.command("demo")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, type=int, show_default=True)
@click.option("--data-dir", default=None, help="where the SQLite file lives (default .data)")
@click.option("--always-open", is_flag=True,
              help="lift every field's weekday schedule and hours, to try the demo at any hour")
def demo(host: str, port: int, data_dir: str | None, always_open: bool) -> None:
    """Create or upgrade the demo centre on SQLite, print its URLs, and serve it."""
    from onestop import demo as demo_data
    from onestop.migrate import upgrade
    from onestop.server import serve as run

    overrides: dict[str, Any] = {"ALWAYS_OPEN": always_open or None}
    if data_dir:
        overrides["DATA_DIR"] = data_dir
        os.environ["ONESTOP_DATA_DIR"] = data_dir
    overrides = {k: v for k, v in overrides.items() if v is not None}
    settings = load_settings(overrides)
    Path(settings["DATA_DIR"]).mkdir(parents=True, exist_ok=True)
    upgrade(settings["DATABASE_URL"])
    with _db(overrides).transaction() as session:
        unit = demo_data.load(session)
        unit_name = unit.name
    base = f"http://{host}:{port}"
    _print_demo(base, unit_name, always_open)
    public = os.environ.get("ONESTOP_PUBLIC_BASE_URL") or base
    run(host, port, {**overrides, "PUBLIC_BASE_URL": public})


def _print_demo(base: str, unit_name: str, always_open: bool) -> None:
    from onestop.demo import DEMO_PASSWORD, accounts

    lines = [
        f"onestop demo — {unit_name}",
        f"  Trang chủ / home            {base}/",
        f"  Ki-ốt lấy số / kiosk        {base}/kiosk/",
        f"  Màn hình gọi số / display   {base}/display/",
        f"  Quầy cán bộ / counter       {base}/counter/",
        f"  Tài liệu API / API docs     {base}/api/v1/docs",
        f"  OpenAPI                     {base}/api/v1/openapi.json",
        f"  Tình trạng / health         {base}/healthz",
        f"Demo accounts (password '{DEMO_PASSWORD}'):",
    ]
    for row in accounts():
        extra = f" — quầy {row['counter']}" if "counter" in row else ""
        lines.append(f"  {row['username']:<8} {row['role']}{extra}")
    if always_open:
        lines.append("--always-open: every field accepts tickets at any hour.")
    click.echo("\n".join(lines))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
