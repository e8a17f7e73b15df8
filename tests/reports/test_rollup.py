"""The summary of settled days (onestop/reports/rollup.py): the same figures as from the
events, read from the summary once it is written, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import delete, func, select

from onestop.accounts.models import User
from onestop.bookings.models import Booking
from onestop.cli import main
from onestop.dossiers.models import Procedure
from onestop.extensions import db
from onestop.queueing import engine
from onestop.queueing.engine import Actor
from onestop.queueing.models import Counter, Service, Ticket, TicketEvent
from onestop.ratings.models import Rating
from onestop.reports import rollup
from onestop.reports.models import ReportDay
from onestop.units.models import Unit
from tests.conftest import bearer, token_for
from tests.reports.script import TZ, local, write
from tests.reports.test_figures import _dossier, scripted_day

TODAY = dt.datetime.now(TZ).date()
MONDAY = TODAY - dt.timedelta(days=TODAY.weekday() + 14)
DAYS = [MONDAY + dt.timedelta(days=i) for i in range(3)]  # Monday to Wednesday
WEEK = (MONDAY, MONDAY + dt.timedelta(days=6))


@pytest.fixture
def app(app_both: Any) -> Any:
    """On SQLite, then on PostgreSQL."""
    return app_both


def _history(app: Any) -> dict[str, int]:
    """Three days of tickets (served, missed then expired, transferred), ratings and dossiers."""
    with app.app_context():
        session = db.session()
        unit = session.scalars(select(Unit)).one()
        for day in DAYS:
            write(session, unit.id, scripted_day(day, n=90))
        session.flush()
        tickets = session.scalars(select(Ticket).where(Ticket.state == "done").order_by(Ticket.id)).all()
        levels = ("very_satisfied", "satisfied", "dissatisfied", "not_rated")
        for i, ticket in enumerate(tickets[::5]):
            level = levels[i % 4]
            session.add(Rating(unit_id=unit.id, ticket_id=ticket.id, scale="3", level=level,
                               score={"very_satisfied": 3, "satisfied": 2, "dissatisfied": 1}.get(level, 0),
                               source="tablet", service_id=ticket.service_id, counter_id=ticket.counter_id,
                               rated_at=ticket.finished_at or ticket.issued_at))
        proc = session.scalars(select(Procedure).where(Procedure.code == "1.001193")).one()
        due = local(DAYS[1], 17)
        _dossier(session, unit, proc, 1, local(DAYS[0], 9), due,
                 [("state", "processing", local(DAYS[0], 10)), ("state", "ready", local(DAYS[1], 10))])
        _dossier(session, unit, proc, 2, local(DAYS[0], 9, 10), due,
                 [("state", "ready", local(DAYS[2], 9)), ("state", "returned", local(DAYS[2], 15))])
        _dossier(session, unit, proc, 3, local(DAYS[1], 9, 20), due,
                 [("apology", "processing", local(DAYS[1], 16))])
        for n, (day, state) in enumerate(((DAYS[0], "cancelled"), (DAYS[0], "booked"),
                                          (DAYS[1], "booked"), (DAYS[2], "booked"))):
            begin = local(day, 9, 30)
            session.add(Booking(unit_id=unit.id, service_id=proc.service_id, code=f"RB{n}XYZ",
                                start=begin, end=begin + dt.timedelta(minutes=15),
                                phone=f"+8491234567{n}", state=state, channel="web",
                                created_at=begin - dt.timedelta(days=2)))
        # the nightly close expired what was left (the tickets marked absent) and made the
        # bookings never checked in no-shows
        engine.close_day(session, unit, now=local(DAYS[2], 23), business_date=DAYS[2])
        session.commit()
        clerk = session.scalars(select(User.id).where(User.username == "clerk1")).one()
        counter = session.scalars(select(Counter.id).where(Counter.unit_id == unit.id,
                                                           Counter.number == 1)).one()
        return {"unit": unit.id, "service": proc.service_id or 0, "counter": counter, "clerk": clerk}


def _reports(client: Any, headers: dict[str, str], ids: dict[str, int]) -> dict[str, Any]:
    out = {}
    for name, query in (("all", ""), ("field", f"&service_id={ids['service']}"),
                        ("counter", f"&counter_id={ids['counter']}"), ("clerk", f"&clerk_id={ids['clerk']}")):
        res = client.get(f"/api/v1/reports/data?from={WEEK[0]}&to={WEEK[1]}{query}", headers=headers)
        assert res.status_code == 200, res.get_json()
        out[name] = res.get_json()
    res = client.get(f"/api/v1/reports/staffing?from={WEEK[0]}&to={WEEK[1]}", headers=headers)
    assert res.status_code == 200, res.get_json()
    out["staffing"] = res.get_json()
    return out


def test_the_summary_gives_the_same_figures_and_is_what_is_read(app: Any) -> None:
    ids = _history(app)
    client = app.test_client()
    manager = bearer(token_for(client, "manager"))
    from_events = _reports(client, manager, ids)
    assert from_events["all"]["summary"]["issued"] == 270  # the history is there
    assert from_events["all"]["ratings"]["rated"] > 0 and from_events["all"]["dossiers"]["received"] == 3
    assert (from_events["all"]["bookings"]["made"], from_events["all"]["bookings"]["no_show"]) == (4, 3)

    done = rollup.settle(db.engine, ids["unit"], TODAY)
    # from the first history day to yesterday; every day, with or without tickets
    assert done.days == (TODAY - MONDAY).days and done.cells > 0
    assert _reports(client, manager, ids) == from_events

    # the summarised days are read from the summary: with their events gone, nothing changes
    with app.app_context():
        db.session.execute(delete(TicketEvent))
        db.session.execute(delete(Rating))
        db.session.commit()
    assert _reports(client, manager, ids) == from_events
    # settling again finds nothing to do
    assert rollup.settle(db.engine, ids["unit"], TODAY).days == 0


def test_today_and_days_with_open_tickets_are_read_from_the_events(app: Any) -> None:
    ids = _history(app)
    client = app.test_client()
    manager = bearer(token_for(client, "manager"))
    with app.app_context():
        session = db.session()
        unit = session.get(Unit, ids["unit"])
        service = session.scalars(select(Service).where(Service.unit_id == unit.id)).first()
        # a ticket of today, and one left waiting on Wednesday (the day was never closed)
        engine.issue_ticket(session, unit, service, actor=Actor(), now=dt.datetime.now(dt.UTC),
                            always_open=True)
        stale = session.scalars(select(Ticket).where(Ticket.business_date == DAYS[2])).first()
        stale.state = "waiting"
        # and a booking of Tuesday the close has not made a no-show
        session.execute(Booking.__table__.update().where(Booking.code == "RB2XYZ").values(state="booked"))
        session.commit()
    done = rollup.settle(db.engine, ids["unit"], TODAY)
    assert done.days == (TODAY - MONDAY).days - 2  # all but Tuesday and Wednesday
    with app.app_context():
        days = set(db.session.scalars(select(ReportDay.day)))
        assert not {DAYS[1], DAYS[2], TODAY} & days and DAYS[0] in days
    res = client.get(f"/api/v1/reports/summary?from={MONDAY}&to={TODAY}", headers=manager)
    assert res.get_json()["issued"] == 271  # today's ticket is counted from the events


def test_a_day_summarised_by_an_older_version_is_read_from_the_events(app: Any) -> None:
    ids = _history(app)
    client = app.test_client()
    manager = bearer(token_for(client, "manager"))
    rollup.settle(db.engine, ids["unit"], TODAY)
    with app.app_context():
        # a summary that disagrees with the events (days without a cell), as an older
        # version's could
        empty, blob = rollup.encode(rollup.day_blocks({(MONDAY, None, None, None): rollup.Cell()})[0])
        db.session.execute(ReportDay.__table__.update().values(version=rollup.VERSION - 1, facts=empty,
                                                                block=blob))
        db.session.commit()
    res = client.get(f"/api/v1/reports/summary?from={WEEK[0]}&to={WEEK[1]}", headers=manager)
    assert res.get_json()["issued"] == 270
    again = rollup.settle(db.engine, ids["unit"], TODAY)
    assert again.days == (TODAY - MONDAY).days  # rewritten at the current version
    with app.app_context():
        assert db.session.scalar(select(func.min(ReportDay.version))) == rollup.VERSION


def test_day_close_and_the_rollup_command_summarise(app: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    _history(app)
    monkeypatch.setenv("ONESTOP_DATA_DIR", app.config["DATA_DIR"])
    monkeypatch.setenv("ONESTOP_DATABASE_URL", app.config["DATABASE_URL"])
    runner = CliRunner()
    closed = runner.invoke(main, ["day-close", "--yesterday"])
    assert closed.exit_code == 0, closed.output
    assert "ngày đã tổng hợp cho báo cáo" in closed.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ReportDay)) == (TODAY - MONDAY).days
    again = runner.invoke(main, ["reports", "rollup"])
    assert again.exit_code == 0 and again.output.startswith("0 ngày"), again.output
    rebuilt = runner.invoke(main, ["reports", "rollup", "--rebuild", "--from", str(DAYS[0]),
                                   "--to", str(DAYS[1])])
    assert rebuilt.exit_code == 0 and rebuilt.output.startswith("2 ngày"), rebuilt.output
    wrong = runner.invoke(main, ["reports", "rollup", "--from", str(DAYS[1]), "--to", str(DAYS[0])])
    assert wrong.exit_code != 0 and "--from" in wrong.output
