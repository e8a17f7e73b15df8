"""Who a rating is credited to: the clerk who served the citizen at the desk (who called
them there), not whoever pressed "finish" (a manager may finish for a counter). The clerk
breakdown of the reports credits the served ticket to the same clerk."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from onestop.queueing.models import Ticket
from tests.api.helpers import act, in_db, issue, ok, user_id
from tests.conftest import bearer, token_for
from tests.ratings.conftest import SERVICE_OF, rate, ratings


def called_by_clerk_finished_by_manager(client: Any) -> dict[str, Any]:
    clerk = token_for(client, "clerk3")
    act(client, clerk, 3, "open")
    ticket = issue(client, clerk, SERVICE_OF[3])
    assert ok(act(client, clerk, 3, "call-next"))["id"] == ticket["id"]
    manager = token_for(client, "manager")  # finishes on the counter's behalf
    ok(act(client, manager, 3, "finish", {"outcome": "served"}))
    return ticket


def test_the_rating_goes_to_the_clerk_who_served_not_the_manager_who_finished(app, client, tablet3):
    ticket = called_by_clerk_finished_by_manager(client)
    ok(rate(client, tablet3, ticket["id"], "very_satisfied"), 201)
    [row] = ratings(app)
    assert row.clerk_id == user_id(app, "clerk3")
    assert row.clerk_id != user_id(app, "manager")


def test_the_clerk_report_credits_the_same_clerk_with_the_ticket_and_its_rating(app, client, tablet3):
    ticket = called_by_clerk_finished_by_manager(client)
    ok(rate(client, tablet3, ticket["id"], "satisfied"), 201)
    with in_db(app) as session:
        day = session.scalar(select(Ticket.business_date).where(Ticket.id == ticket["id"]))
    assert day is not None
    manager = token_for(client, "manager")
    query = f"from={day.isoformat()}&to={day.isoformat()}"
    res = client.get(f"/api/v1/reports/breakdown?by=clerk&{query}", headers=bearer(manager))
    rows = {row["id"]: row for row in ok(res)["rows"]}
    clerk3 = user_id(app, "clerk3")
    assert rows[clerk3]["served"] == 1
    assert user_id(app, "manager") not in rows or rows[user_id(app, "manager")]["served"] == 0
    res = client.get(f"/api/v1/reports/summary?clerk_id={clerk3}&{query}", headers=bearer(manager))
    summary = ok(res)
    assert summary["served"] == 1 and summary["ratings"]["by_level"] == {"satisfied": 1}
