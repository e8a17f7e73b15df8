"""A scripted Monday for the locale tests: field names that a code-point sort puts in the
wrong order (Đ after Y), an average wait of exactly 2.25 minutes in "Đất đai" (2,3 when
rounded half up; 2,2 by Python's round or format), and ratings of every level."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from onestop.queueing.models import Service, Ticket
from onestop.ratings.models import Rating
from tests.reports.script import TZ, Plan, local, write

TODAY = dt.datetime.now(TZ).date()
MONDAY = TODAY - dt.timedelta(days=TODAY.weekday() + 21)
# NV renamed "Dân tộc": D, then Đăng ký kinh doanh / Đất đai (Đ), then Giáo dục, Y tế
EXPECTED_ORDER = ["Dân tộc", "Đăng ký kinh doanh", "Đất đai", "Giáo dục", "Y tế"]
LEVELS = {"very_satisfied": 3, "satisfied": 2, "dissatisfied": 1, "not_rated": 0}


def seed(session: Session, unit_id: int) -> None:
    nv = session.scalars(select(Service).where(Service.unit_id == unit_id, Service.code == "NV")).one()
    nv.name = "Dân tộc"
    plans = [Plan("DD", 3, local(MONDAY, 8, 0), 120, 300), Plan("DD", 3, local(MONDAY, 8, 1), 150, 300),
             Plan("NV", 2, local(MONDAY, 8, 2), 60, 300), Plan("DKKD", 5, local(MONDAY, 8, 3), 60, 300),
             Plan("GD", 6, local(MONDAY, 8, 4), 60, 300), Plan("YT", 4, local(MONDAY, 8, 5), 60, 300),
             Plan("YT", 4, local(MONDAY, 9, 5), 60, 300), Plan("GD", 6, local(MONDAY, 9, 4), 60, 300)]
    write(session, unit_id, plans)
    tickets = session.scalars(select(Ticket).where(Ticket.unit_id == unit_id, Ticket.business_date == MONDAY)
                              .order_by(Ticket.id)).all()
    # stored worst first on purpose: the order shown must come from the scale, not the rows
    for ticket, (level, score) in zip(tickets, reversed(list(LEVELS.items())), strict=False):
        session.add(Rating(unit_id=unit_id, ticket_id=ticket.id, counter_id=ticket.counter_id,
                           service_id=ticket.service_id, scale="3", level=level, score=score,
                           reasons=["Thời gian chờ lâu"] if level == "dissatisfied" else [], comment="",
                           source="timeout" if level == "not_rated" else "tablet",
                           rated_at=local(MONDAY, 10, 0)))
    session.flush()
