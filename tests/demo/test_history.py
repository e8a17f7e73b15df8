"""The demo history (onestop/demo_history.py): weeks of past activity that reports can read
as if it were real, written once, leaving today empty and today's numbering at 1."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from onestop import demo
from onestop.db import DailyCounter, utcnow
from onestop.demo_history import seed_history
from onestop.dossiers import engine as dossier_engine
from onestop.dossiers.models import Dossier, DossierEvent, Procedure
from onestop.extensions import db
from onestop.queueing import engine
from onestop.queueing.models import Counter, CounterEvent, Service, Ticket, TicketEvent
from onestop.queueing.schedule import windows
from onestop.ratings.models import Rating
from onestop.units.calendar import load_calendar
from onestop.units.models import Unit
from tests.conftest import MONDAY_9, bearer, demo_app, token_for

TODAY = MONDAY_9.date()  # Monday 23 November 2026 (09:00 in Hà Nội is 02:00 UTC, same date)
CODE = re.compile(r"^H56\.12\.3-(\d{6})-(\d{4})$")


def _count(session: Any, model: Any) -> int:
    return int(session.scalar(select(func.count()).select_from(model)))


def _counts(session: Any) -> dict[str, int]:
    return {m.__name__: _count(session, m)
            for m in (Ticket, TicketEvent, CounterEvent, Rating, Dossier, DossierEvent)}


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, Any]]:
    """The demo centre with four weeks of history before Monday 23/11/2026."""
    with demo_app(tmp_path_factory.mktemp("history")) as application:
        with application.app_context():
            session = db.session()
            unit = session.scalar(select(Unit))
            summary = seed_history(session, unit, weeks=4, today=TODAY)
            session.commit()
        yield application, summary


@pytest.fixture
def hist(seeded: tuple[Any, Any]) -> Iterator[Any]:
    """A session on the seeded database; whatever a test writes is rolled back."""
    application, _ = seeded
    with application.app_context():
        yield db.session()
        db.session.rollback()


def test_seeding_four_weeks_is_quick(seeded, capsys):
    _, summary = seeded
    with capsys.disabled():
        print(f"\n[demo history] 4 weeks seeded in {summary.seconds:.2f} s: "
              f"{summary.days} days, {summary.tickets} tickets, {summary.ticket_events} ticket "
              f"events, {summary.counter_events} counter events, {summary.ratings} ratings, "
              f"{summary.dossiers} dossiers, {summary.dossier_events} dossier events")
    assert summary.seconds < 30
    assert summary.tickets > 1000 and summary.dossiers > 300 and summary.ratings > 500


def test_history_covers_the_working_days_before_today_only(hist):
    unit = hist.scalar(select(Unit))
    calendar = load_calendar(hist, unit)
    first = TODAY - dt.timedelta(weeks=4)
    expected = {first + dt.timedelta(days=i) for i in range(28)}
    expected = {d for d in expected if calendar.is_working_day(d)}
    dates = set(hist.scalars(select(Ticket.business_date).distinct()))
    assert dates == expected and len(dates) == 20
    assert all(d.weekday() < 5 for d in dates)
    assert hist.scalar(select(func.count()).where(Ticket.business_date >= TODAY)) == 0
    today_start = dt.datetime.combine(TODAY, dt.time(), tzinfo=unit.tz)
    for column in (TicketEvent.at, CounterEvent.at, DossierEvent.at, Rating.rated_at):
        latest = hist.scalar(select(func.max(column)))
        assert latest is not None and latest < today_start, column


def test_each_field_only_on_its_weekdays_and_the_busy_fields_are_busiest(hist):
    per_field: dict[str, list[dt.date]] = defaultdict(list)
    services = {s.id: s for s in hist.scalars(select(Service))}
    for service_id, day in hist.execute(select(Ticket.issued_service_id, Ticket.business_date)):
        per_field[services[service_id].code].append(day)
    for service in services.values():
        days = per_field[service.code]
        assert days, service.code
        assert {d.isoweekday() for d in days} <= set(service.weekdays), service.code
    # mean arrivals per day the field is open: Tư pháp – Hộ tịch and Đất đai lead
    mean = {code: len(days) / len(set(days)) for code, days in per_field.items()}
    top_two = sorted(mean, key=mean.__getitem__, reverse=True)[:2]
    assert set(top_two) == {"TPHT", "DD"}, mean


def test_ticket_events_tell_each_ticket_s_story_in_order(hist):
    unit = hist.scalar(select(Unit))
    services = {s.id: s for s in hist.scalars(select(Service))}
    serves = {c.id: set(c.service_ids) for c in hist.scalars(select(Counter))}
    events: dict[int, list[TicketEvent]] = defaultdict(list)
    for event in hist.scalars(select(TicketEvent).order_by(TicketEvent.at, TicketEvent.id)):
        events[event.ticket_id].append(event)
    tickets = list(hist.scalars(select(Ticket)))
    assert {t.state for t in tickets} == {"done", "expired"}
    for ticket in tickets:
        trail = events[ticket.id]
        assert trail[0].action == "issue" and trail[0].from_state is None
        assert trail[0].to_state == "waiting" and trail[0].at == ticket.issued_at
        for before, after in zip(trail, trail[1:], strict=False):
            assert after.from_state == before.to_state, (ticket.label, before.action, after.action)
        assert trail[-1].to_state == ticket.state
        actions = [e.action for e in trail]
        if ticket.state == "done":
            assert actions.index("issue") < actions.index("call") < actions.index("finish")
            assert actions[-1] == "finish" and trail[-1].at == ticket.finished_at
            last_call = [e for e in trail if e.action == "call"][-1]
            assert ticket.called_at == last_call.at and ticket.counter_id == last_call.counter_id
            assert ticket.serving_at is not None and ticket.outcome == trail[-1].details["outcome"]
        else:
            assert actions[-1] == "expire" and trail[-1].from_state in ("waiting", "missed")
        for event in trail:
            if event.action in ("call", "start", "finish", "skip", "recall"):
                assert event.service_id in serves[event.counter_id], "called by a counter of its field"
            if event.action == "expire":  # the nightly day close, just after midnight
                assert unit.local(event.at).time() < dt.time(1, 0)
                continue
            local = unit.local(event.at)
            spans = windows(services[event.service_id])
            assert local.date() == ticket.business_date
            assert any(a <= local.time() <= b for a, b in spans), (ticket.label, event.action, local)


def test_missed_requeued_and_transferred_tickets_look_real(hist):
    issued = _count(hist, Ticket)
    skips = hist.scalars(select(TicketEvent).where(TicketEvent.action == "skip")).all()
    assert 0.02 <= len(skips) / issued <= 0.07
    assert all(e.from_state == "called" and e.to_state == "missed" and e.details == {"reason": "absent"}
               for e in skips)
    requeues = hist.scalars(select(TicketEvent).where(TicketEvent.action == "requeue")).all()
    assert 0 < len(requeues) < len(skips)
    back = {e.ticket_id for e in requeues}
    assert set(hist.scalars(select(Ticket.state).where(Ticket.id.in_(back)))) <= {"done", "expired"}
    transfers = hist.scalars(select(TicketEvent).where(TicketEvent.action == "transfer")).all()
    assert transfers
    for event in transfers:
        ticket = hist.get(Ticket, event.ticket_id)
        assert event.details["from_service"] == ticket.issued_service_id != ticket.service_id
        assert event.to_state == "waiting" and event.details["to_service"] == ticket.service_id


def test_counters_open_pause_for_lunch_and_close_each_day(hist):
    unit = hist.scalar(select(Unit))
    days: dict[tuple[int, dt.date], list[CounterEvent]] = defaultdict(list)
    for event in hist.scalars(select(CounterEvent).order_by(CounterEvent.at, CounterEvent.id)):
        days[(event.counter_id, unit.local(event.at).date())].append(event)
    assert days
    for (_counter, _day), trail in days.items():
        assert trail[0].action == "open" and trail[-1].action == "close"
        for before, after in zip(trail, trail[1:], strict=False):
            assert after.from_state == before.to_state
        lunch = [e for e in trail if e.action == "pause" and e.details.get("reason") == "Nghỉ trưa"]
        assert len(lunch) == 1 and dt.time(11, 30) <= unit.local(lunch[0].at).time() < dt.time(12, 0)


def test_ratings_one_per_finished_ticket_mostly_good(hist):
    unit = hist.scalar(select(Unit))
    done = dict(hist.execute(select(Ticket.id, Ticket.counter_id).where(Ticket.state == "done")).all())
    ratings = hist.scalars(select(Rating)).all()
    assert len({r.ticket_id for r in ratings}) == len(ratings)
    assert all(r.ticket_id in done and r.counter_id == done[r.ticket_id] for r in ratings)
    assert 0.6 <= len(ratings) / len(done) <= 0.8
    levels = defaultdict(list)
    for rating in ratings:
        levels[rating.level].append(rating)
    answered = len(ratings) - len(levels["not_rated"])
    assert all(r.source == "timeout" and r.score == 0 for r in levels["not_rated"])
    assert levels["not_rated"] and 0.02 <= len(levels["dissatisfied"]) / answered <= 0.1
    assert len(levels["very_satisfied"]) > len(levels["satisfied"]) > len(levels["dissatisfied"])
    reasons = set(unit.setting("rating_reasons"))
    assert all(r.reasons and set(r.reasons) <= reasons and r.score == 1 for r in levels["dissatisfied"])
    assert {r.scale for r in ratings} == {"3"}


def test_dossiers_are_numbered_linked_and_mostly_on_time(hist):
    unit = hist.scalar(select(Unit))
    calendar = load_calendar(hist, unit)
    dossiers = hist.scalars(select(Dossier)).all()
    assert len({d.code for d in dossiers}) == len(dossiers)
    per_day: dict[dt.date, list[int]] = defaultdict(list)
    for d in dossiers:
        match = CODE.match(d.code)
        assert match and match.group(1) == f"{d.business_date:%y%m%d}" and int(match.group(2)) == d.number
        per_day[d.business_date].append(d.number)
        ticket = hist.get(Ticket, d.ticket_id)
        assert ticket.outcome == "dossier_received" and ticket.service_id == d.service_id
        assert ticket.serving_at <= d.received_at <= ticket.finished_at
        assert d.appointment_at == dossier_engine.appointment_for(calendar, unit, d.procedure, d.received_at)
        assert calendar.is_working_day(unit.local(d.appointment_at).date())
        assert len(d.applicant_name.split()) >= 3
        assert re.fullmatch(r"\d{12}", d.applicant_id_number)
        assert re.fullmatch(r"0\d{9}", d.applicant_phone)
    assert all(sorted(n) == list(range(1, len(n) + 1)) for n in per_day.values())
    with_marks = [d for d in dossiers if re.search(r"[^\x00-\x7f]", d.applicant_name)]
    assert len(with_marks) > 0.8 * len(dossiers)  # Vietnamese names, with their diacritics
    finished = [d for d in dossiers if d.ready_at is not None]
    late = [d for d in finished if d.ready_at > d.appointment_at]
    early = [d for d in finished if unit.local(d.ready_at).date() < unit.local(d.appointment_at).date()]
    assert 0.03 <= len(late) / len(finished) <= 0.15
    assert early and len(finished) > len(dossiers) / 2
    returned = [d for d in dossiers if d.state == "returned"]
    assert len(returned) > len(dossiers) / 2 and all(d.closed_at >= d.ready_at for d in returned)
    apologies = [d for d in dossiers if d.apology_count]
    assert apologies and all(d.new_appointment_at > d.appointment_at and d.apology_reason for d in apologies)


def test_dossier_events_follow_the_state_table(hist):
    events: dict[int, list[DossierEvent]] = defaultdict(list)
    for event in hist.scalars(select(DossierEvent).order_by(DossierEvent.at, DossierEvent.id)):
        events[event.dossier_id].append(event)
    for dossier in hist.scalars(select(Dossier)):
        trail = events[dossier.id]
        assert trail[0].action == "receive" and trail[0].details == {"ticket_id": dossier.ticket_id}
        for before, after in zip(trail, trail[1:], strict=False):
            if after.action == "state":
                assert after.to_state in dossier_engine.TRANSITIONS[before.to_state]
            assert after.from_state == before.to_state
        assert trail[-1].to_state == dossier.state and trail[-1].at == dossier.updated_at


def test_numbering_today_starts_at_one_after_the_history(hist):
    unit = hist.scalar(select(Unit))
    for service in hist.scalars(select(Service)):
        ticket = engine.issue_ticket(hist, unit, service, actor=engine.SYSTEM, now=MONDAY_9,
                                     always_open=True)
        assert ticket.number == 1 and ticket.label == f"{service.prefix}001"
    # the counters of the seeded days hold what was handed out: a ticket issued late on one
    # of those days would simply have come next
    issued = dict(hist.execute(select(Ticket.issued_service_id, func.count())
                               .where(Ticket.business_date == TODAY - dt.timedelta(days=3))
                               .group_by(Ticket.issued_service_id)).all())
    friday = MONDAY_9 - dt.timedelta(days=3)
    for service_id, count in issued.items():
        service = hist.get(Service, service_id)
        ticket = engine.issue_ticket(hist, unit, service, actor=engine.SYSTEM, now=friday,
                                     always_open=True)
        assert ticket.number == count + 1
    per_day = dict(hist.execute(select(DailyCounter.business_date, DailyCounter.last)
                                .where(DailyCounter.scope == f"dossier:{unit.id}")).all())
    assert per_day == dict(hist.execute(select(Dossier.business_date, func.max(Dossier.number))
                                        .group_by(Dossier.business_date)).all())
    proc = hist.scalar(select(Procedure).where(Procedure.code == "1.001193"))
    book = hist.scalar(select(func.max(Dossier.book_line)).where(Dossier.service_id == proc.service_id,
                                                                  Dossier.book_year == 2026))
    applicant = dossier_engine.Applicant(name="Nguyễn Văn Thử", id_number="001090000001",
                                         phone="0900000001")
    dossier = dossier_engine.receive_dossier(hist, unit, proc, applicant, actor=engine.SYSTEM,
                                             now=MONDAY_9)
    assert dossier.code == "H56.12.3-261123-0001" and dossier.book_line == book + 1


def test_holidays_and_weekends_have_no_activity(session):
    """Four weeks before Monday 7/9/2026: Quốc khánh (31/8-2/9) and the Saturday worked
    in exchange (22/8, which no demo field serves) stay empty."""
    unit = session.scalar(select(Unit))
    seed_history(session, unit, weeks=4, today=dt.date(2026, 9, 7))
    dates = set(session.scalars(select(Ticket.business_date).distinct()))
    assert dates and all(d.weekday() < 5 for d in dates)
    assert not dates & {dt.date(2026, 8, 31), dt.date(2026, 9, 1), dt.date(2026, 9, 2), dt.date(2026, 8, 22)}
    assert dt.date(2026, 8, 28) in dates and dt.date(2026, 9, 3) in dates and len(dates) == 17
    event_days = {e.at.astimezone(unit.tz).date() for e in session.scalars(select(DossierEvent))}
    assert not event_days & {dt.date(2026, 9, 1), dt.date(2026, 9, 2)}


def test_a_second_seed_adds_nothing_and_the_api_numbers_today_from_one(app, client):
    with app.app_context():
        session = db.session()
        unit = session.scalar(select(Unit))
        today = unit.business_date(utcnow())
        first = seed_history(session, unit, weeks=2, today=today)
        session.commit()
        before = _counts(session)
        again = seed_history(session, unit, weeks=2, today=today)
        session.commit()
        assert first.tickets > 0 and again.tickets == 0 and _counts(session) == before
        service = session.scalar(select(Service).where(Service.code == "DD"))
        service_id, prefix = service.id, service.prefix
    res = client.post("/api/v1/tickets", json={"service_id": service_id},
                      headers=bearer(token_for(client, "clerk3")))
    assert res.status_code == 201, res.get_json()
    assert res.get_json()["number"] == 1 and res.get_json()["label"] == f"{prefix}001"
    # the first morning: nothing yet today, and the dashboard shows the last working day
    board = client.get("/api/v1/dashboard", headers=bearer(token_for(client, "manager"))).get_json()
    previous = board["previous"]
    assert board["today"]["served"] == 0 and previous is not None
    assert dt.date.fromisoformat(previous["business_date"]) < today
    assert previous["issued"] >= previous["served"] > 20 and 0.5 < previous["satisfaction_rate"] <= 1


def _fingerprint(tmp_path: Path, seed: int) -> tuple[dict[str, Any], list[tuple[str, dt.datetime]]]:
    tmp_path.mkdir()
    with demo_app(tmp_path) as application, application.app_context():
        session = db.session()
        unit = session.scalar(select(Unit))
        summary = dataclasses.asdict(seed_history(session, unit, weeks=1, today=TODAY, seed=seed))
        summary.pop("seconds")
        rows = [(str(t.label), t.issued_at) for t in session.scalars(select(Ticket).order_by(Ticket.id))]
        session.rollback()
    return summary, rows


def test_same_seed_same_history(tmp_path):
    one = _fingerprint(tmp_path / "a", 7)
    two = _fingerprint(tmp_path / "b", 7)
    other = _fingerprint(tmp_path / "c", 8)
    assert one == two and one[0]["tickets"] > 0
    assert other[1] != one[1]


def test_demo_command_seeds_once_and_honours_history_weeks(tmp_path, monkeypatch):
    served: list[int] = []
    monkeypatch.setattr("onestop.server.serve", lambda host, port, overrides=None: served.append(port))
    monkeypatch.delenv("ONESTOP_DATABASE_URL", raising=False)
    monkeypatch.setenv("ONESTOP_DATA_DIR", str(tmp_path))  # the command sets it; restored after
    from onestop.cli import main

    def run(data_dir: Path, *extra: str) -> str:
        result = CliRunner().invoke(main, ["demo", "--data-dir", str(data_dir), "--port", "8765", *extra])
        assert result.exit_code == 0, result.output
        return result.output

    first = run(tmp_path / "a", "--history-weeks", "1")
    assert "demo history" in first and "/counter/" in first
    second = run(tmp_path / "a")
    assert "demo history" not in second and served == [8765, 8765]
    none = run(tmp_path / "b", "--history-weeks", "0")
    assert "demo history" not in none
    from onestop.db import make_engine

    for name, expect_tickets in (("a", True), ("b", False)):
        eng = make_engine(f"sqlite:///{tmp_path / name / 'onestop.sqlite3'}")
        with eng.connect() as conn:
            tickets = conn.scalar(select(func.count()).select_from(Ticket))
            counters = conn.scalar(select(func.count()).select_from(DailyCounter))
        eng.dispose()
        assert (tickets > 0) is expect_tickets and (counters > 0) is expect_tickets
    bad = CliRunner().invoke(main, ["demo", "--data-dir", str(tmp_path / "c"), "--history-weeks", "-1"])
    assert bad.exit_code != 0 and served == [8765, 8765, 8765]


@pytest.mark.postgres
def test_on_postgresql_the_id_sequences_move_past_the_history(pg_url):
    """Explicit ids on PostgreSQL: the next ticket and dossier the engines write get fresh ids."""
    from onestop.db import Database, make_engine
    from tests.conftest import create_schema

    create_schema(pg_url)
    database = Database()
    database.engine = make_engine(pg_url)
    database.session_factory.configure(bind=database.engine)
    try:
        with database.transaction() as session:
            unit = demo.load(session)
            summary = seed_history(session, unit, weeks=1, today=TODAY)
            assert summary.tickets > 0 and summary.dossiers > 0
        with database.transaction() as session:
            unit = session.scalar(select(Unit))
            service = session.scalar(select(Service).where(Service.code == "TPHT"))
            ticket = engine.issue_ticket(session, unit, service, actor=engine.SYSTEM, now=MONDAY_9)
            proc = session.scalar(select(Procedure).where(Procedure.code == "1.001193"))
            dossier = dossier_engine.receive_dossier(
                session, unit, proc, dossier_engine.Applicant("Lê Thị Thử", "001190000002", "0900000002"),
                ticket=ticket, actor=engine.SYSTEM, now=MONDAY_9)
            assert ticket.id == summary.tickets + 1 and ticket.number == 1
            assert dossier.id == summary.dossiers + 1 and dossier.code.endswith("-261123-0001")
    finally:
        database.engine.dispose()
