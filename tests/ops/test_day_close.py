"""`onestop day-close --all-units [--yesterday]`, as the systemd timer runs it."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select
from sqlalchemy.orm import Session

from onestop.cli import main
from onestop.db import make_engine, utcnow
from onestop.migrate import upgrade
from onestop.queueing.engine import SYSTEM, issue_ticket
from onestop.queueing.models import Counter, Service, Ticket
from onestop.units.models import Unit
from tests.ops.conftest import load_demo


@pytest.fixture
def url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    for key in [k for k in os.environ if k.startswith("ONESTOP_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("ONESTOP_DATA_DIR", str(tmp_path))
    database = f"sqlite:///{tmp_path / 'onestop.sqlite3'}"
    upgrade(database)
    load_demo(database)
    engine = make_engine(database)
    with Session(engine) as session:  # a second unit with one field, the demo's first field's twin
        demo_service = session.scalars(select(Service).order_by(Service.id)).first()
        assert demo_service is not None
        unit = Unit(code="000.00.06.H99", name="UBND xã Thử", address="", timezone="Asia/Ho_Chi_Minh",
                    settings={})
        session.add(unit)
        session.flush()
        session.add(Service(unit_id=unit.id, code="TPHT", name="Tư pháp", name_en="Justice", prefix="A",
                            weekdays=demo_service.weekdays, windows=demo_service.windows))
        session.commit()
    engine.dispose()
    return database


def issue_in_each_unit(url: str, when: dt.datetime) -> None:
    engine = make_engine(url)
    with Session(engine) as session:
        for unit in session.scalars(select(Unit)):
            service = session.scalars(select(Service).where(Service.unit_id == unit.id)).first()
            issue_ticket(session, unit, service, actor=SYSTEM, now=when, always_open=True)
        session.commit()
    engine.dispose()


def states(url: str) -> dict[tuple[str, dt.date], list[str]]:
    engine = make_engine(url)
    out: dict[tuple[str, dt.date], list[str]] = {}
    with Session(engine) as session:
        rows = session.execute(select(Unit.code, Ticket.business_date, Ticket.state)
                               .join(Unit, Unit.id == Ticket.unit_id))
        for code, day, state in rows:
            out.setdefault((code, day), []).append(state)
    engine.dispose()
    return out


def test_all_units_yesterday_leaves_today_alone(url: str) -> None:
    now = utcnow()
    issue_in_each_unit(url, now - dt.timedelta(days=1))
    issue_in_each_unit(url, now)
    result = CliRunner().invoke(main, ["day-close", "--all-units", "--yesterday"])
    assert result.exit_code == 0, result.output
    assert result.output.count("1 ticket(s) expired in ") == 2
    by_day = states(url)
    assert len(by_day) == 4
    for (_, day), found in by_day.items():
        today = max(d for _, d in by_day)
        assert found == (["waiting"] if day == today else ["expired"])

    again = CliRunner().invoke(main, ["day-close", "--all-units"])  # today too, by hand
    assert again.exit_code == 0 and again.output.count("1 ticket(s) expired in ") == 2
    assert all(found == ["expired"] for found in states(url).values())


def test_unit_and_all_units_exclude_each_other(url: str) -> None:
    result = CliRunner().invoke(main, ["day-close", "--all-units", "--unit", "000.00.06.H99"])
    assert result.exit_code == 2 and "exclude" in result.output


OPEN_STATES = ("waiting", "called", "serving", "parked", "missed")


def test_a_late_run_expires_every_open_ticket_of_every_earlier_day(url: str) -> None:
    """The box was off for two nights: the first run expires the open tickets of all earlier
    days in every open state (called and served at a counter too), and today's stay."""
    now = utcnow()
    engine = make_engine(url)
    with Session(engine) as session:
        counter_id = session.scalars(select(Counter.id).order_by(Counter.id)).first()
        for unit in session.scalars(select(Unit)):
            service = session.scalars(select(Service).where(Service.unit_id == unit.id)).first()
            for days in (3, 2, 1, 0):
                for state in OPEN_STATES:
                    ticket = issue_ticket(session, unit, service, actor=SYSTEM,
                                          now=now - dt.timedelta(days=days), always_open=True)
                    ticket.state = state
                    ticket.counter_id = None if state == "waiting" else counter_id
        session.commit()
    engine.dispose()
    result = CliRunner().invoke(main, ["day-close", "--all-units", "--yesterday"])
    assert result.exit_code == 0, result.output
    assert result.output.count(f"{3 * len(OPEN_STATES)} ticket(s) expired in ") == 2
    by_day = states(url)
    today = max(day for _, day in by_day)
    for (code, day), found in by_day.items():
        expected = sorted(OPEN_STATES) if day == today else ["expired"] * len(OPEN_STATES)
        assert sorted(found) == expected, (code, day, found)


def test_closing_a_given_date_also_closes_the_days_before_it(url: str) -> None:
    now = utcnow()
    for days in (4, 3, 2):
        issue_in_each_unit(url, now - dt.timedelta(days=days))
    issue_in_each_unit(url, now)
    engine = make_engine(url)
    with Session(engine) as session:
        unit = session.scalars(select(Unit).order_by(Unit.id)).first()
        assert unit is not None
        day = unit.business_date(now) - dt.timedelta(days=3)
    engine.dispose()
    result = CliRunner().invoke(main, ["day-close", "--all-units", "--date", day.isoformat()])
    assert result.exit_code == 0 and result.output.count("2 ticket(s) expired in ") == 2
    for (_code, when), found in states(url).items():
        assert found == (["expired"] if when <= day else ["waiting"]), (when, found)
