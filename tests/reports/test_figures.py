"""Report figures against a scripted office day whose true values are known."""

from __future__ import annotations

import datetime as dt
import math
import statistics
from collections import Counter as Tally
from collections import defaultdict
from typing import Any

import pytest
from sqlalchemy import select

from onestop.accounts.models import User
from onestop.dossiers.models import Dossier, DossierEvent, Procedure
from onestop.extensions import db
from onestop.queueing import engine
from onestop.queueing.engine import Actor
from onestop.queueing.models import Counter, Service, Ticket
from onestop.ratings.models import Rating
from onestop.units.models import Unit
from tests.conftest import bearer, token_for
from tests.reports.script import TZ, Plan, local, write

# a Monday three weeks or more before today, so that "now" is after everything scripted
TODAY = dt.datetime.now(TZ).date()
MONDAY = TODAY - dt.timedelta(days=TODAY.weekday() + 21)
FIELDS = ("TPHT", "DD", "LDTBXH")
COUNTER_OF = {"TPHT": (1, 2), "DD": (3,), "LDTBXH": (4,)}


def scripted_day(day: dt.date = MONDAY, n: int = 1000) -> list[Plan]:
    plans = []
    for i in range(n):
        code = FIELDS[i % 3]
        counters = COUNTER_OF[code]
        outcome = "skip" if i % 50 == 7 else "transfer" if i % 40 == 3 else "finish"
        plan = Plan(service=code, counter=counters[i % len(counters)],
                    issued=local(day, 7, 30) + dt.timedelta(seconds=18 * i),
                    wait=(i * 37) % 1800 + 60, service_seconds=120 + (i * 53) % 600,
                    with_start=(i % 4 != 0 and outcome != "skip"), outcome=outcome)
        if outcome == "transfer":
            plan.transfer_to, plan.second_wait = "NV", 300 + i
            plan.second_counter, plan.second_service = 2, 240
        plans.append(plan)
    return plans


def expected(plans: list[Plan], target_s: float = 900) -> dict[str, Any]:
    """The answer key, straight from the plans."""
    waits: list[tuple[str, int, float]] = []
    services: list[tuple[str, int, float]] = []
    for p in plans:
        waits.append((p.service, p.counter, p.wait))
        if p.outcome == "finish":
            services.append((p.service, p.counter, p.service_seconds))
        elif p.outcome == "transfer":
            waits.append((p.transfer_to or "", p.second_counter, p.second_wait))
            services.append((p.transfer_to or "", p.second_counter, p.second_service))

    def stats(values: list[float]) -> dict[str, float]:
        ordered = sorted(values)
        return {"avg": round(statistics.fmean(values) / 60, 2),
                "p90": round(ordered[math.ceil(0.9 * len(ordered)) - 1] / 60, 2)}

    all_waits = [w for _, _, w in waits]
    return {
        "issued": len(plans),
        "served": sum(1 for p in plans if p.outcome != "skip"),
        "missed": sum(1 for p in plans if p.outcome == "skip"),
        "transferred": sum(1 for p in plans if p.outcome == "transfer"),
        "wait": stats(all_waits), "service": stats([s for _, _, s in services]),
        "service_level": round(sum(1 for w in all_waits if w <= target_s) / len(all_waits), 4),
        "waits": waits, "services": services, "stats": stats,
    }


@pytest.fixture
def manager(client: Any) -> dict[str, str]:
    return bearer(token_for(client, "manager"))


def load(app: Any, plans: list[Plan]) -> None:
    with app.app_context():
        unit = db.session.scalars(select(Unit)).one()
        write(db.session(), unit.id, plans)
        db.session.commit()


def summary(client: Any, headers: dict[str, str], start: dt.date, end: dt.date, **extra: Any) -> Any:
    query = "&".join(f"{k}={v}" for k, v in extra.items())
    res = client.get(f"/api/v1/reports/summary?from={start}&to={end}&{query}", headers=headers)
    assert res.status_code == 200, res.get_json()
    return res.get_json()


def test_a_scripted_day_of_1000_tickets(app: Any, client: Any, manager: dict[str, str]) -> None:
    plans = scripted_day()
    load(app, plans)
    key = expected(plans)
    out = summary(client, manager, MONDAY, MONDAY)
    assert (out["issued"], out["served"], out["missed"], out["transferred"]) == (
        key["issued"], key["served"], key["missed"], key["transferred"])
    assert (out["issued"], out["missed"], out["transferred"]) == (1000, 20, 25)
    assert out["waits_counted"] == 1000 + 25
    assert out["avg_wait_minutes"] == pytest.approx(key["wait"]["avg"], abs=0.01)
    assert out["p90_wait_minutes"] == pytest.approx(key["wait"]["p90"], abs=0.01)
    assert out["avg_service_minutes"] == pytest.approx(key["service"]["avg"], abs=0.01)
    assert out["p90_service_minutes"] == pytest.approx(key["service"]["p90"], abs=0.01)
    assert out["service_level"] == pytest.approx(key["service_level"], abs=1e-4)
    assert 0.3 < out["service_level"] < 0.7  # the script spreads waits over 1-31 minutes
    # nothing on the day before or after
    empty = summary(client, manager, MONDAY + dt.timedelta(days=1), MONDAY + dt.timedelta(days=6))
    assert (empty["issued"], empty["served"], empty["avg_wait_minutes"]) == (0, 0, None)


def test_breakdowns_by_field_counter_and_clerk(app: Any, client: Any, manager: dict[str, str]) -> None:
    plans = scripted_day(n=300)
    load(app, plans)
    key = expected(plans)
    stats = key["stats"]
    res = client.get(f"/api/v1/reports/data?from={MONDAY}&to={MONDAY}", headers=manager)
    assert res.status_code == 200
    report = res.get_json()
    by_service = {row["name"]: row for row in report["breakdown"]["service"]}
    with app.app_context():
        names = {s.code: s.name for s in db.session.scalars(select(Service))}
        clerk2 = db.session.scalars(select(User).where(User.username == "clerk2")).one()
    for code in ("TPHT", "DD", "NV"):
        row = by_service[names[code]]
        waits = [w for f, _, w in key["waits"] if f == code]
        assert row["avg_wait_minutes"] == pytest.approx(stats(waits)["avg"], abs=0.01), code
        assert row["p90_wait_minutes"] == pytest.approx(stats(waits)["p90"], abs=0.01), code
    # transferred tickets count in the field they left; NV only received them
    assert by_service[names["NV"]]["issued"] == 0
    assert by_service[names["NV"]]["served"] == sum(1 for p in plans if p.outcome == "transfer")
    assert by_service[names["TPHT"]]["transferred"] == sum(
        1 for p in plans if p.outcome == "transfer" and p.service == "TPHT")
    by_counter = {row["name"]: row for row in report["breakdown"]["counter"]}
    served_at = Tally(p.counter if p.outcome == "finish" else p.second_counter
                      for p in plans if p.outcome != "skip")
    for number, n in served_at.items():
        assert by_counter[f"Quầy {number}"]["served"] == n
        assert by_counter[f"Quầy {number}"]["issued"] is None  # tickets are issued to fields
    missed_at = Tally(p.counter for p in plans if p.outcome == "skip")
    assert {k: by_counter[f"Quầy {k}"]["missed"] for k in missed_at} == dict(missed_at)
    by_clerk = {row["id"]: row for row in report["breakdown"]["clerk"]}
    services_2 = [s for _, c, s in key["services"] if c == 2]
    assert by_clerk[clerk2.id]["avg_service_minutes"] == pytest.approx(stats(services_2)["avg"], abs=0.01)
    # a filter narrows the summary the same way
    with app.app_context():
        c3 = db.session.scalars(select(Counter).where(Counter.number == 3)).one().id
    narrowed = summary(client, manager, MONDAY, MONDAY, counter_id=c3)
    assert narrowed["served"] == served_at[3] and narrowed["issued"] is None


def test_heat_map_is_weekday_by_local_hour(app: Any, client: Any, manager: dict[str, str]) -> None:
    plans = scripted_day(n=400)
    load(app, plans)
    hours = Tally(p.issued.astimezone(TZ).hour for p in plans)
    res = client.get(f"/api/v1/reports/heatmap?from={MONDAY}&to={MONDAY}", headers=manager)
    matrix = res.get_json()["weekday_hour"]
    assert len(matrix) == 7 and all(len(row) == 24 for row in matrix)
    assert {h: n for h, n in enumerate(matrix[0]) if n} == dict(hours)
    assert sum(map(sum, matrix[1:])) == 0
    assert hours[7] == 100  # 07:30-08:00 at one ticket per 18 s


def test_business_dates_follow_the_units_timezone(app: Any, client: Any, manager: dict[str, str]) -> None:
    late = Plan("TPHT", 1, local(MONDAY, 23, 50), 60, 60)
    early = Plan("TPHT", 1, local(MONDAY + dt.timedelta(days=1), 0, 10), 60, 60)
    # 23:50 and 00:10 in Hà Nội are the same UTC date: only the local date may decide
    assert late.issued.date() == early.issued.date()
    load(app, [late, early])
    monday = summary(client, manager, MONDAY, MONDAY)
    tuesday = summary(client, manager, MONDAY + dt.timedelta(days=1), MONDAY + dt.timedelta(days=1))
    assert (monday["issued"], tuesday["issued"]) == (1, 1)
    res = client.get(f"/api/v1/reports/heatmap?from={MONDAY}&to={MONDAY + dt.timedelta(days=1)}",
                     headers=manager)
    matrix = res.get_json()["weekday_hour"]
    assert (matrix[0][23], matrix[1][0]) == (1, 1)


def test_missed_requeued_and_served_through_the_engine(app: Any, client: Any,
                                                       manager: dict[str, str]) -> None:
    t0 = local(MONDAY, 9, 0)
    at = [t0 + dt.timedelta(minutes=m) for m in (0, 4, 6, 20, 29, 36)]
    with app.app_context():
        session = db.session()
        unit = session.scalars(select(Unit)).one()
        svc = session.scalars(select(Service).where(Service.code == "TPHT")).one()
        counter = session.scalars(select(Counter).where(Counter.number == 1)).one()
        clerk = session.scalars(select(User).where(User.username == "clerk1")).one()
        actor = Actor(user_id=clerk.id)
        ticket = engine.issue_ticket(session, unit, svc, actor=actor, now=at[0], always_open=True)
        engine.open_counter(session, counter, clerk.id, now=at[0])
        engine.call_next(session, unit, counter, actor=actor, now=at[1])
        engine.skip(session, counter, actor=actor, now=at[2])
        engine.requeue(session, session.get(Ticket, ticket.id), actor=actor, now=at[3])
        engine.call_next(session, unit, counter, actor=actor, now=at[4])
        engine.finish(session, counter, actor=actor, now=at[5])
        session.commit()
    out = summary(client, manager, MONDAY, MONDAY)
    assert (out["issued"], out["served"], out["missed"]) == (1, 1, 1)
    assert out["waits_counted"] == 2  # issue -> call (4 min), requeue -> call (9 min)
    assert out["avg_wait_minutes"] == pytest.approx(6.5)
    assert out["p90_wait_minutes"] == pytest.approx(9.0)
    assert out["avg_service_minutes"] == pytest.approx(7.0)  # the call at 29 to the finish at 36


def test_ratings_by_level_and_satisfaction(app: Any, client: Any, manager: dict[str, str]) -> None:
    plans = scripted_day(n=16)
    load(app, plans)
    levels = ["very_satisfied"] * 5 + ["satisfied"] * 3 + ["dissatisfied"] * 2 + ["not_rated"] * 4
    with app.app_context():
        session = db.session()
        unit = session.scalars(select(Unit)).one()
        tickets = session.scalars(select(Ticket).order_by(Ticket.id)).all()
        for i, level in enumerate(levels):
            session.add(Rating(unit_id=unit.id, ticket_id=tickets[i].id, scale="3", level=level,
                               score={"very_satisfied": 3, "satisfied": 2, "dissatisfied": 1}.get(level, 0),
                               source="timeout" if level == "not_rated" else "tablet",
                               service_id=tickets[i].service_id, rated_at=local(MONDAY, 10, i)))
        # 00:10 on Tuesday in Hà Nội (still Monday in UTC) belongs to Tuesday
        session.add(Rating(unit_id=unit.id, ticket_id=tickets[15].id, scale="3", level="dissatisfied",
                           score=1, source="tablet", rated_at=local(MONDAY + dt.timedelta(days=1), 0, 10)))
        session.commit()
    ratings = summary(client, manager, MONDAY, MONDAY)["ratings"]
    assert ratings["by_level"] == {"very_satisfied": 5, "satisfied": 3, "dissatisfied": 2, "not_rated": 4}
    assert (ratings["rated"], ratings["satisfied"]) == (10, 8)
    assert ratings["satisfaction_rate"] == pytest.approx(0.8)
    tuesday = summary(client, manager, MONDAY + dt.timedelta(days=1), MONDAY + dt.timedelta(days=1))
    assert tuesday["ratings"]["by_level"] == {"dissatisfied": 1}
    assert tuesday["ratings"]["satisfaction_rate"] == 0.0


def _dossier(session: Any, unit: Unit, proc: Procedure, n: int, received: dt.datetime,
             appointment: dt.datetime, events: list[tuple[str, str, dt.datetime]]) -> None:
    day = received.astimezone(TZ).date()
    dossier = Dossier(code=f"{unit.code}-{day:%y%m%d}-{n:04d}", unit_id=unit.id, procedure=proc,
                      service_id=proc.service_id, business_date=day, number=n, book_year=day.year,
                      book_volume=f"T/{day.year}", book_line=n, applicant_name="Nguyễn Văn A",
                      applicant_id_number="001099012345", applicant_phone="0912345678",
                      state=events[-1][1] if events else "received", received_at=received,
                      appointment_at=appointment)
    session.add(dossier)
    session.flush()
    session.add(DossierEvent(dossier_id=dossier.id, at=received, action="receive", to_state="received"))
    for action, state, at in events:
        session.add(DossierEvent(dossier_id=dossier.id, at=at, action=action, to_state=state))


def test_dossiers_early_on_time_late_overdue_and_apologies(app: Any, client: Any,
                                                           manager: dict[str, str]) -> None:
    d = [MONDAY + dt.timedelta(days=i) for i in range(5)]
    with app.app_context():
        session = db.session()
        unit = session.scalars(select(Unit)).one()
        proc = session.scalars(select(Procedure).where(Procedure.code == "1.001193")).one()
        land = session.scalars(select(Procedure).where(Procedure.code == "1.004227")).one()
        due_wed = local(d[2], 17)
        _dossier(session, unit, proc, 1, local(d[0], 9), due_wed,
                 [("state", "processing", local(d[0], 10)), ("state", "ready", local(d[1], 10))])
        _dossier(session, unit, proc, 2, local(d[0], 9, 10), due_wed,
                 [("state", "ready", local(d[2], 16, 59))])
        _dossier(session, unit, proc, 3, local(d[0], 9, 20), due_wed,
                 [("state", "ready", local(d[2], 17, 30))])
        _dossier(session, unit, proc, 4, local(d[0], 9, 30), local(d[1], 17),
                 [("apology", "processing", local(d[1], 15)), ("state", "ready", local(d[3], 9))])
        _dossier(session, unit, proc, 5, local(d[0], 9, 40), local(d[1], 17),
                 [("state", "processing", local(d[0], 11))])
        _dossier(session, unit, land, 6, local(d[0], 9, 50), local(d[0] + dt.timedelta(days=7), 17), [])
        # received the week before, finished early inside the period
        _dossier(session, unit, proc, 7, local(d[0] - dt.timedelta(days=7), 9), due_wed,
                 [("state", "ready", local(d[0], 14))])
        session.commit()
        tpht = proc.service_id
    out = summary(client, manager, d[0], d[4])["dossiers"]
    assert out == {"received": 6, "finished": 5, "early": 2, "on_time": 1, "late": 2,
                   "apologies": 1, "overdue": 1, "on_time_rate": 0.6}
    field = summary(client, manager, d[0], d[4], service_id=tpht)["dossiers"]
    assert field["received"] == 5
    # at the end of Monday nothing was finished, and nothing was overdue yet
    monday = summary(client, manager, d[0], d[0])["dossiers"]
    assert (monday["received"], monday["finished"], monday["overdue"]) == (6, 1, 0)
    tuesday = summary(client, manager, d[1], d[1])["dossiers"]
    assert (tuesday["overdue"], tuesday["apologies"]) == (2, 1)  # no. 4 and 5 past 17:00 Tuesday
    assert defaultdict(int, tuesday)["received"] == 0
