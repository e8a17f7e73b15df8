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
from onestop.db import Database, standalone_database, utcnow
from onestop.queueing.errors import DomainError
from onestop.units.models import Unit


def _db(config: dict[str, Any] | None = None) -> Database:
    """A database handle without a Flask app (CLI commands need no web layer)."""
    return standalone_database(load_settings(config))


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


@unit_group.group("remote")
def remote_group() -> None:
    """Communes on their own servers shown on this server's overview (issue 22)."""


@remote_group.command("add")
@click.option("--url", required=True, help="the commune server's address, e.g. https://xa-b.example")
@click.option("--token", required=True, help="an API token of an integration account there")
@click.option("--name", default="", help="the name on its tile when it does not answer")
def remote_add(url: str, token: str, name: str) -> None:
    """Watch a remote commune server (kept in DATA_DIR/remotes.json, mode 0600)."""
    from onestop.units import remotes

    try:
        remotes.add(load_settings()["DATA_DIR"], url, token, name)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"remote {url.rstrip('/')} added")


@remote_group.command("list")
def remote_list() -> None:
    """The remote commune servers watched (without their tokens)."""
    from onestop.units import remotes

    for row in remotes.load(load_settings()["DATA_DIR"]):
        click.echo(f"{row['url']}\t{row['name']}")


main.add_command(unit_group, "units")  # `onestop units remote add` (issue 22's spelling)


@main.group("user")
def user_group() -> None:
    """User accounts."""


@user_group.command("add")
@click.argument("username")
@click.option("--role", type=click.Choice(["admin", "manager", "clerk", "integration", "reception",
                                           "supervisor"]), required=True)
@click.option("--full-name", default="")
@click.option("--unit", "unit_code", default=None, help="unit code (default: the first unit)")
@click.option("--units", "unit_codes", default="",
              help="a supervisor's units: codes separated by commas (default: --unit's)")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True,
              help="at least 10 characters, not only digits, not the user name (prompted when omitted)")
def user_add(username: str, role: str, full_name: str, unit_code: str | None,
             password: str, unit_codes: str = "") -> None:
    """Create a user."""
    from onestop.accounts.engine import add_user
    from onestop.accounts.passwords import check_password_rules

    problems = check_password_rules(password)
    if password.strip().lower() == username.strip().lower():
        problems.append("Mật khẩu không được trùng tên đăng nhập (the password is the user name).")
    if problems:
        code = "password_too_short" if len(password) < 10 else "weak_password"
        raise click.ClickException(f"{code}: " + " ".join(problems))
    with _db().transaction() as session:
        unit = _unit(session, unit_code) if (unit_code or role != "admin") else None
        try:
            user = add_user(session, unit, username, password, role, full_name)
        except DomainError as error:
            raise _fail(error) from error
        if unit_codes and role != "supervisor":
            raise click.ClickException("--units is for supervisors (--role supervisor)")
        if role == "supervisor":
            from onestop.accounts.models import UserUnit

            codes = [c.strip() for c in unit_codes.split(",") if c.strip()]
            watched = [_unit(session, code) for code in codes] or ([unit] if unit else [])
            for unit_id in sorted({u.id for u in watched}):
                session.add(UserUnit(user_id=user.id, unit_id=unit_id))
    click.echo(f"user {username} ({role}) created")


def _windows(text: str) -> list[list[str]]:
    """``07:30-11:30,13:30-17:00`` -> [["07:30", "11:30"], ["13:30", "17:00"]].

    Like the admin form, overlapping windows are refused; and they must be given in the
    day's order (the opening rules read the first window as the morning's opening)."""
    import re

    spans: list[list[str]] = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        match = re.fullmatch(r"([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]):([0-5]\d)", part)
        if not match or part[:5] >= part[6:]:
            raise click.BadParameter(f"'{part}': use HH:MM-HH:MM with the start before the end",
                                     param_hint="--windows")
        if spans and part[:5] < spans[-1][1]:
            order = "overlaps" if part[6:] > spans[-1][0] else "comes before"
            raise click.BadParameter(
                f"'{part}' {order} '{spans[-1][0]}-{spans[-1][1]}': give the windows in the "
                "day's order, none overlapping", param_hint="--windows")
        spans.append([part[:5], part[6:]])
    return spans


def _weekdays(text: str) -> list[int]:
    try:
        days = sorted({int(d) for d in text.split(",") if d.strip()})
    except ValueError as exc:
        raise click.BadParameter("weekdays are numbers 1 (Monday) to 7 (Sunday)") from exc
    if not days or not all(1 <= d <= 7 for d in days):
        raise click.BadParameter("weekdays are numbers 1 (Monday) to 7 (Sunday)")
    return days


@main.group("service")
def service_group() -> None:
    """Fields (lĩnh vực) of a unit."""


@service_group.command("add")
@click.option("--code", required=True, help="short code, e.g. TPHT")
@click.option("--name", required=True, help="Vietnamese name, e.g. 'Tư pháp – Hộ tịch'")
@click.option("--name-en", default="")
@click.option("--prefix", default="", help="label prefix, e.g. A -> A001")
@click.option("--block", default=None, help="number block instead, e.g. 1001-1999")
@click.option("--days", default="1,2,3,4,5", show_default=True, help="ISO weekdays served")
@click.option("--windows", default="07:30-11:30,13:30-17:00", show_default=True)
@click.option("--cutoff", type=click.IntRange(0, 240), default=0, help="minutes before closing")
@click.option("--cap", type=click.IntRange(1), default=None, help="tickets per day")
@click.option("--zone", default="")
@click.option("--unit", "unit_code", default=None)
def service_add(code: str, name: str, name_en: str, prefix: str, block: str | None, days: str,
                windows: str, cutoff: int, cap: int | None, zone: str, unit_code: str | None) -> None:
    """Create a field with its numbering, days, hours and cap."""
    from onestop.queueing.models import Service

    start = end = None
    if block:
        try:
            start, end = (int(x) for x in block.split("-"))
        except ValueError as exc:
            raise click.BadParameter("use START-END, e.g. 1001-1999", param_hint="--block") from exc
        if not 0 < start <= end:
            raise click.BadParameter("START must be positive and not above END", param_hint="--block")
    with _db().transaction() as session:
        unit = _unit(session, unit_code)
        if session.scalar(select(Service).where(Service.unit_id == unit.id, Service.code == code)):
            raise click.ClickException(f"field {code} already exists in unit {unit.code}")
        session.add(Service(unit_id=unit.id, code=code, name=name, name_en=name_en, prefix=prefix,
                            block_start=start, block_end=end, weekdays=_weekdays(days),
                            windows=_windows(windows), cutoff_minutes=cutoff, daily_cap=cap,
                            zone=zone, active=True))
    click.echo(f"field {code} created")


@main.group("counter")
def counter_group() -> None:
    """Counters (quầy) of a unit."""


@counter_group.command("add")
@click.option("--number", type=click.IntRange(1, 999), required=True,
              help="the number citizens see")
@click.option("--name", default=None, help="default 'Quầy N'")
@click.option("--services", required=True, help="field codes served, in order: TPHT,NV")
@click.option("--mode", type=click.Choice(["fifo", "order", "weighted"]), default="fifo",
              show_default=True, help="how the fields are mixed when calling")
@click.option("--zone", default="")
@click.option("--unit", "unit_code", default=None)
def counter_add(number: int, name: str | None, services: str, mode: str, zone: str,
                unit_code: str | None) -> None:
    """Create a counter serving the given fields."""
    from onestop.queueing.models import Counter, CounterService, Service

    codes = [c.strip() for c in services.split(",") if c.strip()]
    with _db().transaction() as session:
        unit = _unit(session, unit_code)
        if session.scalar(select(Counter).where(Counter.unit_id == unit.id, Counter.number == number)):
            raise click.ClickException(f"counter {number} already exists in unit {unit.code}")
        found = {s.code: s for s in session.scalars(
            select(Service).where(Service.unit_id == unit.id, Service.code.in_(codes)))}
        missing = [c for c in codes if c not in found]
        if missing or not codes:
            raise click.ClickException(f"unknown field code(s): {', '.join(missing) or '(none given)'}")
        counter = Counter(unit_id=unit.id, number=number, name=name or f"Quầy {number}", zone=zone,
                          state="closed", service_mode=mode)
        counter.links = [CounterService(service_id=found[c].id, position=i) for i, c in enumerate(codes)]
        session.add(counter)
    click.echo(f"counter {number} created")


@main.group("device")
def device_group() -> None:
    """Paired devices: kiosks, displays, counter displays, tablets, print agents."""


@device_group.command("add")
@click.option("--kind", type=click.Choice(["kiosk", "display", "counter-display", "tablet",
                                           "agent", "printer"]), required=True)
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


@main.group("procedures")
def procedures_group() -> None:
    """The procedure catalogue (thủ tục hành chính): import and export, CSV or JSON.

    Format: docs/procedures-format.md (columns code,name,service_code,processing_days,fee,
    documents; documents separated by '|' in CSV, a list in JSON).
    """


@procedures_group.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--unit", "unit_code", default=None, help="unit code (default: the first unit)")
@click.option("--replace", is_flag=True,
              help="deactivate the unit's procedures that are not in the file")
def procedures_import(path: Path, unit_code: str | None, replace: bool) -> None:
    """Import FILE.csv or FILE.json: all or nothing, upsert by code."""
    from onestop import procedures_io

    with _db().transaction() as session:
        unit = _unit(session, unit_code)
        try:
            summary = procedures_io.import_file(session, unit, path, replace=replace)
        except procedures_io.ProcedureImportError as error:
            raise click.ClickException(str(error)) from error
    click.echo(f"{path.name}: {summary}")


@procedures_group.command("export")
@click.argument("path", type=click.Path(dir_okay=False, writable=True, path_type=Path))
@click.option("--unit", "unit_code", default=None, help="unit code (default: the first unit)")
def procedures_export(path: Path, unit_code: str | None) -> None:
    """Write the unit's active procedures to FILE.csv or FILE.json."""
    from onestop import procedures_io

    with _db().transaction() as session:
        unit = _unit(session, unit_code)
        try:
            count = procedures_io.export_file(session, unit, path)
        except procedures_io.ProcedureImportError as error:
            raise click.ClickException(str(error)) from error
    click.echo(f"{path}: {count} thủ tục (procedures)")


@main.command("day-close")
@click.option("--unit", "unit_code", default=None)
@click.option("--all-units", is_flag=True, help="every unit, each in its own transaction")
@click.option("--date", "day", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="business date to close (default: today in the unit's timezone)")
@click.option("--yesterday", is_flag=True,
              help="close yesterday (in each unit's timezone) and before: safe to run after midnight "
              "or late (the systemd timer does)")
def day_close(unit_code: str | None, all_units: bool, day: dt.datetime | None, yesterday: bool) -> None:
    """Expire every ticket still open on that business date and before."""
    from onestop.queueing.engine import close_day

    if all_units and unit_code:
        raise click.UsageError("--unit and --all-units exclude each other")
    if day and yesterday:
        raise click.UsageError("--date and --yesterday exclude each other")
    database = _db()
    with database.transaction() as session:
        codes = list(session.scalars(select(Unit.code).order_by(Unit.id))) if all_units else [
            _unit(session, unit_code).code]
    for code in codes:
        with database.transaction() as session:
            unit = _unit(session, code)
            now = utcnow()
            business_date = (unit.business_date(now) - dt.timedelta(days=1) if yesterday
                             else day.date() if day else None)
            count = close_day(session, unit, now=now, business_date=business_date)
        click.echo(f"{count} ticket(s) expired" + (f" in {code}" if all_units else ""))
        with database.transaction() as session:  # the nightly privacy purge (onestop/privacy.py)
            from onestop import privacy

            erased = privacy.purge(session, utcnow(), unit=_unit(session, code)).count
        if erased:
            click.echo(f"{erased} dossier(s): personal data erased (retention)"
                       + (f" in {code}" if all_units else ""))
        _summarise(database, code, all_units)


def _summarise(database: Database, code: str, named: bool, always: bool = False, **options: Any) -> None:
    """Summarise the unit's settled days for the reports (onestop/reports/rollup.py)."""
    from onestop.reports import rollup

    with database.transaction() as session:
        unit = _unit(session, code)
        unit_id, today = unit.id, unit.business_date(utcnow())
    assert database.engine is not None
    done = rollup.settle(database.engine, unit_id, today, **options)
    if done.days or always:
        click.echo(f"{done.days} ngày đã tổng hợp cho báo cáo (days summarised for the reports, "
                   f"{done.cells} cells)" + (f" in {code}" if named else ""))


@main.group("reports")
def reports_group() -> None:
    """The reports' summary of past days (báo cáo)."""


@reports_group.command("rollup")
@click.option("--unit", "unit_code", default=None)
@click.option("--all-units", is_flag=True, help="every unit")
@click.option("--from", "start", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="first day (default: the unit's first day with tickets, ratings, dossiers or bookings)")
@click.option("--to", "end", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="last day (default: yesterday; today is never summarised)")
@click.option("--rebuild", is_flag=True, help="summarise again the days already summarised")
def reports_rollup(unit_code: str | None, all_units: bool, start: dt.datetime | None,
                   end: dt.datetime | None, rebuild: bool) -> None:
    """Summarise the past days whose tickets are all settled, so that a month's or a year's
    report reads a few rows per day instead of every event (the nightly day-close does this
    for the days it finds; run it once after an upgrade, or with --rebuild after history
    was written into past days)."""
    if all_units and unit_code:
        raise click.UsageError("--unit and --all-units exclude each other")
    if start and end and start > end:
        raise click.BadParameter("--from is after --to", param_hint="--from")
    database = _db()
    with database.transaction() as session:
        codes = list(session.scalars(select(Unit.code).order_by(Unit.id))) if all_units else [
            _unit(session, unit_code).code]
    for code in codes:
        _summarise(database, code, True, always=True, rebuild=rebuild, start=start.date() if start else None,
                   end=end.date() if end else None)


@main.group("privacy")
def privacy_group() -> None:
    """Applicants' personal data: retention purge and export on request (NĐ 13/2023)."""


@privacy_group.command("purge")
@click.option("--unit", "unit_code", default=None, help="only this unit (default: every unit)")
@click.option("--dry-run", is_flag=True, help="list what would be erased, change nothing")
def privacy_purge(unit_code: str | None, dry_run: bool) -> None:
    """Erase applicants' personal fields from dossiers closed longer than the unit's
    personal_data_retention_days (default 365); the statistics stay."""
    from onestop import privacy

    with _db().transaction() as session:
        unit = _unit(session, unit_code) if unit_code else None
        result = privacy.purge(session, utcnow(), unit=unit, dry_run=dry_run)
    for code, dossiers in result.codes.items():
        for dossier_code in dossiers:
            click.echo(f"{code}\t{dossier_code}")
    verb = "would be erased (dry run)" if dry_run else "erased"
    click.echo(f"{result.count} dossier(s): personal data {verb}")


@privacy_group.command("export")
@click.option("--id-number", required=True, help="the applicant's CMND/CCCD number")
@click.option("--out", "out", type=click.Path(dir_okay=False, writable=True, path_type=Path),
              default=None, help="write the JSON to this file (default: standard output)")
def privacy_export(id_number: str, out: Path | None) -> None:
    """Every dossier held about one person, as JSON (the data subject's copy)."""
    from onestop import privacy
    from onestop.audit import engine as audit

    id_number = id_number.strip()
    if not (id_number.isascii() and id_number.isdigit() and 9 <= len(id_number) <= 12):
        raise click.BadParameter("9 or 12 digits (CMND / CCCD)", param_hint="--id-number")
    with _db().transaction() as session:
        data = privacy.export_person(session, id_number, utcnow())
        audit.record(session, action="export", entity="person",
                     entity_id=privacy.mask_id_number(id_number), actor_name="onestop privacy export",
                     after={"dossiers": [d["code"] for d in data["dossiers"]]})
    text = json.dumps(data, ensure_ascii=False, indent=2)
    if out is None:
        click.echo(text)
    else:
        out.write_text(text + "\n", encoding="utf-8")
        os.chmod(out, 0o600)  # personal data: readable by its owner only
        click.echo(f"{out}: {len(data['dossiers'])} dossier(s)", err=True)


@main.group("webhooks")
def webhooks_group() -> None:
    """Outgoing webhooks: signed POSTs of events to another system (e.g. the provincial one)."""


@webhooks_group.command("add")
@click.option("--url", required=True, help="http:// or https:// address of the receiver")
@click.option("--events", required=True,
              help="comma-separated: ticket.issued,ticket.called,dossier.received,dossier.changed,"
              "rating.created,dossier.ready,dossier.supplement_requested,dossier.returned")
@click.option("--secret", default=None, help="signing secret, 16-128 characters (default: generated)")
@click.option("--unit", "unit_code", default=None, help="unit code (default: the first unit)")
@click.option("--json", "as_json", is_flag=True, help='print {"id", "url", "events", "secret"}')
def webhooks_add(url: str, events: str, secret: str | None, unit_code: str | None, as_json: bool) -> None:
    """Subscribe URL to events; prints the signing secret (shown only this once)."""
    from onestop.webhooks import engine as webhooks
    from onestop.webhooks.config import WebhookConfig

    allow_loopback = WebhookConfig.of(load_settings()).allow_loopback
    with _db().transaction() as session:
        unit = _unit(session, unit_code)
        try:
            hook = webhooks.create_webhook(session, unit, url, events.split(","), now=utcnow(),
                                           allow_loopback=allow_loopback, secret=secret)
        except DomainError as error:
            raise _fail(error) from error
        out: dict[str, Any] = {"id": hook.id, "url": hook.url, "events": hook.events,
                               "secret": hook.secret}
    if as_json:
        click.echo(json.dumps(out))
    else:
        click.echo(f"webhook {out['id']} {out['url']}\n  events: {','.join(out['events'])}\n"
                   f"  secret (shown once): {out['secret']}")


@webhooks_group.command("list")
@click.option("--unit", "unit_code", default=None, help="only this unit")
def webhooks_list(unit_code: str | None) -> None:
    """Webhooks with their state and delivery counts (never their secrets)."""
    from onestop.webhooks import engine as webhooks
    from onestop.webhooks.models import Webhook

    with _db().transaction() as session:
        query = select(Webhook, Unit.code).join(Unit, Unit.id == Webhook.unit_id).order_by(Webhook.id)
        if unit_code:
            query = query.where(Webhook.unit_id == _unit(session, unit_code).id)
        rows = session.execute(query).all()
        counts = webhooks.delivery_counts(session, [hook.id for hook, _ in rows])
        for hook, code in rows:
            tally = " ".join(f"{k}={v}" for k, v in sorted(counts[hook.id].items())) or "-"
            click.echo(f"{hook.id}\t{code}\t{'active' if hook.active else 'inactive'}\t{hook.url}\t"
                       f"{','.join(hook.events)}\t{tally}")


@webhooks_group.command("deliver")
def webhooks_deliver() -> None:
    """Send the deliveries that are due, once (for cron; the server also sends them itself)."""
    from onestop.webhooks.config import WebhookConfig
    from onestop.webhooks.delivery import run_pass

    database = _db()
    try:
        result = run_pass(database.session_factory, WebhookConfig.of(load_settings()))
    finally:
        assert database.engine is not None
        database.engine.dispose()
    click.echo(f"delivered {result.delivered}, failed {result.failed}, dead {result.dead}, "
               f"skipped {result.skipped}")


@main.group("integrations")
def integrations_group() -> None:
    """The link to the province's dossier system (PROVINCE_URL; docs/provincial-link.md)."""


@integrations_group.command("push")
@click.option("--retry-dead", is_flag=True, help="first send the dead pushes again")
def integrations_push(retry_dead: bool) -> None:
    """Send the pushes that are due, once (for cron; the server also sends them itself)."""
    from onestop.integrations import outbox
    from onestop.integrations.config import ProvinceConfig
    from onestop.integrations.worker import adapter_for

    config = ProvinceConfig.of(load_settings())
    if not config.enabled:
        raise click.ClickException("PROVINCE_URL is not set: no province to push to")
    database = _db()
    try:
        if retry_dead:
            with database.transaction() as session:
                outbox.retry_dead(session, utcnow())
        result = outbox.run_pass(database.session_factory, config, adapter_for(config))
        with database.transaction() as session:
            counts = outbox.counts(session)
    finally:
        assert database.engine is not None
        database.engine.dispose()
    click.echo(f"sent {result.sent}, failed {result.failed}, dead {result.dead}; "
               f"waiting {counts['pending']}, dead in all {counts['dead']}")


@main.command("doctor")
def doctor() -> None:
    """Check this deployment: one line per check (OK/WARN/FAIL and what to do); exit 1 on a FAIL."""
    from onestop.ops import doctor as checks

    sys.exit(checks.main(load_settings(), click.echo))


@main.command("backup")
@click.option("--dir", "directory", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="where backups go (default ONESTOP_BACKUP_DIR, else DATA_DIR/backups)")
@click.option("--keep", type=click.IntRange(min=0), default=None,
              help="keep the newest N backups there, delete older ones; 0 keeps all "
              "(default ONESTOP_BACKUP_KEEP, 14)")
def backup(directory: Path | None, keep: int | None) -> None:
    """Back up the database while it runs (SQLite online backup, or pg_dump -Fc)."""
    from onestop.ops.backup import BackupError
    from onestop.ops.backup import backup as run_backup

    try:
        path = run_backup(load_settings(), directory, keep)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"backup written: {path} ({path.stat().st_size} bytes)")


@main.command("restore")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="really replace the database (stop the servers first)")
def restore(file: Path, yes: bool) -> None:
    """Replace the database with a backup made by `onestop backup` (checked first)."""
    from onestop.ops.backup import BackupError
    from onestop.ops.backup import restore as run_restore

    settings = load_settings()
    if not yes:
        raise click.ClickException(
            f"this replaces the database {_redact(settings['DATABASE_URL'])} with {file}; "
            "stop the servers (systemctl stop 'onestop@*'), then run again with --yes")
    try:
        done = run_restore(settings, file)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    if done.safety_copy:
        click.echo(f"the previous database was saved to {done.safety_copy}")
    click.echo(f"restored {file} (schema revision {done.revision})")
    if done.revision != done.head:
        click.echo(f"the code is at {done.head}: run `onestop db upgrade` before starting the servers")


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
@click.option("--history-weeks", type=click.IntRange(min=0, max=52), default=4, show_default=True,
              help="weeks of past activity seeded into a fresh demo database (0: none)")
def demo(host: str, port: int, data_dir: str | None, always_open: bool, history_weeks: int) -> None:
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
        unit_name, unit_code = unit.name, unit.code
        devices = demo_data.register_devices(session, unit, now=utcnow())
        history = demo_data.seed_history(session, unit, weeks=history_weeks, now=utcnow())
        bookings = demo_data.seed_bookings(session, unit, now=utcnow())
    if history.tickets:  # the past weeks are settled: summarised, as the nightly close would
        _summarise(_db(overrides), unit_code, False)
    base = f"http://{host}:{port}"
    public = os.environ.get("ONESTOP_PUBLIC_BASE_URL") or base
    _print_demo(base, unit_name, always_open, devices, public)
    if bookings:  # check in at the kiosk: "Tôi đã đặt lịch hẹn", the code and the phone's digits
        click.echo("Lịch hẹn hôm nay / today's bookings (Tư pháp – Hộ tịch), "
                   "mã / code + 4 số cuối / last 4:\n"
                   + "\n".join(f"  {b.time}  {b.code}  {b.last4}" for b in bookings))
        sys.stdout.flush()
    if history.tickets:
        click.echo(f"Lịch sử demo / demo history: {history.days} ngày làm việc / working days, "
                   f"{history.tickets} phiếu / tickets, {history.dossiers} hồ sơ / dossiers "
                   f"({history.seconds:.1f} s)")
        sys.stdout.flush()
    run(host, port, {**overrides, "PUBLIC_BASE_URL": public})


DEMO_PAGES = [
    ("Trang chủ / home", "/"),
    ("Ki-ốt lấy số / kiosk", "/kiosk/"),
    ("Tra cứu thủ tục / catalogue", "/kiosk/procedures"),
    ("Tra cứu hồ sơ / lookup", "/kiosk/lookup"),
    ("Nhận số theo lịch hẹn / booking check-in", "/kiosk/booking"),
    ("Đặt lịch hẹn / book a time", "/book/"),
    ("Lấy số trên điện thoại / number from a phone", "/q/"),
    ("Tra cứu trên điện thoại / phone lookup", "/lookup/"),
    ("Màn hình gọi số / display", "/display/"),
    ("Màn hình quầy / counter display", "/display/counter/1"),
    ("Máy đánh giá / tablet", "/counter/tablet"),
    ("Quầy cán bộ / counter", "/counter/"),
    ("Sổ theo dõi / tracking book", "/counter/book"),
    ("Xử lý hồ sơ / dossier desk", "/counter/dossiers"),
    ("Điều hành / dashboard", "/manager/"),
    ("Báo cáo / reports", "/manager/reports"),
    ("Bố trí quầy / staffing", "/manager/staffing"),
    ("Quản trị / back office", "/admin/"),
    ("Thiết bị / devices", "/admin/devices"),
    ("Máy in / printers", "/admin/printers"),
    ("Tài liệu API / API docs", "/api/v1/docs"),
    ("OpenAPI", "/api/v1/openapi.json"),
    ("Tình trạng / health", "/healthz"),
]
DEVICE_WORDS = {"kiosk": "Ki-ốt / kiosk", "display": "Màn hình gọi số / hall display",
                "counter-display": "Màn hình quầy 1 / counter display",
                "tablet": "Máy đánh giá quầy 1 / tablet"}


def _print_demo(base: str, unit_name: str, always_open: bool, devices: list[Any] | None = None,
                public: str = "") -> None:
    from onestop.demo import DEMO_PASSWORD, accounts, loopback_warning

    width = max(len(label) for label, _path in DEMO_PAGES) + 2
    lines = [f"onestop demo — {unit_name}"]
    lines += [f"  {label:<{width}}{base}{path}" for label, path in DEMO_PAGES]
    if devices:
        lines.append("Thiết bị demo, mã ghép nối dùng một lần trong 24 giờ (Quản trị → Thiết bị) / "
                     "demo devices, one-time pairing codes valid 24 h:")
        for device in devices:
            lines.append(f"  {DEVICE_WORDS.get(device.kind, device.kind):<{width}}{device.code}  "
                         f"{device.pair_url(base)}")
    lines.append(f"Demo accounts (password '{DEMO_PASSWORD}'):")
    for row in accounts():
        extra = f" — quầy {row['counter']}" if "counter" in row else ""
        lines.append(f"  {row['username']:<8} {row['role']}{extra}")
    if always_open:
        lines.append("--always-open: every field accepts tickets at any hour.")
    warning = loopback_warning(public or base)
    if warning:
        lines.append(warning)
    click.echo("\n".join(lines))
    sys.stdout.flush()


@main.group("voice")
def voice_group() -> None:
    """Voice announcements of the hall displays."""


def _voice_settings(unit_code: str | None) -> Any:
    """The unit's announcement settings; the defaults when there is no database yet."""
    from hardware.voice import VoiceSettings
    from onestop.units.models import UNIT_DEFAULTS

    url = str(load_settings()["DATABASE_URL"])
    if url.startswith("sqlite:///") and not Path(url[len("sqlite:///"):]).is_file() and not unit_code:
        return VoiceSettings.from_settings(UNIT_DEFAULTS)
    try:
        with _db().transaction() as session:
            return VoiceSettings.from_settings(_unit(session, unit_code).setting)
    except click.ClickException:
        if unit_code:
            raise
    except Exception:  # noqa: BLE001 - no schema yet: the sentence still has its defaults
        pass
    return VoiceSettings.from_settings(UNIT_DEFAULTS)


@voice_group.command("say")
@click.option("--number", required=True, help="the ticket number or label, e.g. 1025 or A012")
@click.option("--counter", "counter_number", type=click.IntRange(0), required=True,
              help="the counter's number as shown to citizens")
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="write the announcement (chime + sentence) to this WAV file")
@click.option("--voice", type=click.Choice(["auto", "clips", "espeak", "chime"]), default="auto",
              show_default=True, help="server voice to try first (falls back as the displays do)")
@click.option("--unit", "unit_code", default=None, help="unit code (default: the first unit)")
@click.option("--lang", "lang", type=click.Choice(["vi", "en"]), default="vi", show_default=True,
              help="the language of the sentence (a unit's announcement_languages)")
def voice_say(number: str, counter_number: int, out: Path | None, voice: str,
              unit_code: str | None, lang: str) -> None:
    """Print the sentence a call is announced with, and write its audio with --out."""
    from hardware.voice import Announcer, audio, chain, folders
    from hardware.voice import languages as langs

    settings = langs.settings_for(_voice_settings(unit_code), lang)
    text = langs.sentence(lang, number.strip(), counter_number, settings)
    click.echo(text)
    if out is None:
        return
    clips, cache = folders(load_settings())
    clips = langs.clips_for(clips, lang)
    used, data = Announcer(settings, clips, cache).announcement(text, chain(voice))
    out.write_bytes(data)
    seconds = audio.wav_duration(data)
    note = " (chime only: no clip pack, no espeak-ng)" if used == "chime" and voice != "chime" else ""
    click.echo(f"{out}: {used}, {seconds:.1f} s{note}", err=True)


@main.command("agent")
@click.option("--server", envvar="ONESTOP_AGENT_SERVER", required=True,
              help="the onestop server, e.g. http://10.0.0.2:8000 (env ONESTOP_AGENT_SERVER)")
@click.option("--token", envvar="ONESTOP_AGENT_TOKEN", required=True,
              help="token of a device of kind agent (env ONESTOP_AGENT_TOKEN; keeps it out of `ps`)")
@click.option("--printer", "printer_uri", envvar="ONESTOP_AGENT_PRINTER", required=True,
              help="the local printer: usb://VID:PID, tcp://host:9100, serial:///dev/ttyUSB0, file:///dev/usb/lp0")
@click.option("--state-file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              envvar="ONESTOP_AGENT_STATE_FILE", help="job log (default $STATE_DIRECTORY/jobs.json or "
              "~/.local/state/onestop-agent/jobs.json)")
@click.option("--status-interval", type=click.FloatRange(1, 3600), default=30.0, show_default=True,
              envvar="ONESTOP_AGENT_STATUS_INTERVAL", help="seconds between printer status reports")
def agent(server: str, token: str, printer_uri: str, state_file: Path | None, status_interval: float) -> None:
    """Print agent: hold a local printer and print the jobs the server sends (Socket.IO /agent)."""
    import logging

    from hardware.agent import AgentConfig, default_state_file
    from hardware.agent import run as run_agent
    from hardware.printing import PrinterUriError

    logging.basicConfig(level=os.environ.get("ONESTOP_LOG_LEVEL", "INFO").upper(), force=True,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    config = AgentConfig(server=server, token=token, printer=printer_uri,
                         state_file=state_file or default_state_file(), status_interval=status_interval)
    try:
        run_agent(config)
    except (PrinterUriError, ValueError) as exc:
        raise click.ClickException(f"Máy in không hợp lệ (bad printer URI): {exc}") from exc


@main.command("print-test")
@click.option("--printer", "printer_uri", required=True, help="printer URI, e.g. tcp://10.0.0.5:9100")
@click.option("--paper", type=click.Choice(["80", "58"]), default="80", show_default=True,
              help="paper width, mm")
def print_test(printer_uri: str, paper: str) -> None:
    """Print a test slip (Vietnamese text, QR) and say how it went; exit 1 when it failed.

    Talks to the printer only: no database, no server (usable on a kiosk PC)."""
    from hardware.printing import (
        PAPER_58MM,
        PAPER_80MM,
        PrinterUriError,
        open_printer,
        raster_job,
        render_lines,
    )
    from onestop.printing.service import test_blocks

    width = PAPER_58MM if paper == "58" else PAPER_80MM
    settings = load_settings()
    blocks = test_blocks([printer_uri], qr_url=str(settings["PUBLIC_BASE_URL"]),
                         when=dt.datetime.now().astimezone(), width=width)
    try:
        driver = open_printer(printer_uri)
    except PrinterUriError as exc:
        raise click.ClickException(f"Máy in không hợp lệ (bad printer URI): {exc}") from exc
    result = driver.send(raster_job(render_lines(blocks, width)))
    printer = f", printer {result.printer.state.value}: {result.printer.detail}" if result.printer else ""
    error = f" — {result.error}" if result.error else ""
    detail = f" ({result.detail})" if result.detail else ""
    click.echo(f"{result.state.value} in {result.duration_s:.2f} s{printer}{error}{detail}")
    if not result.ok:
        sys.exit(1)


def _add_groups() -> None:
    from onestop.notify.cli import group as notify_group

    main.add_command(notify_group)


_add_groups()

if __name__ == "__main__":
    main()
