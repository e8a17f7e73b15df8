"""POST /tickets (who may issue, the contract fields, 409s), GET /tickets/{id}, requeue."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from onestop import demo
from onestop.app import create_app
from onestop.extensions import db
from onestop.queueing.models import Ticket
from tests.api.helpers import (
    act,
    add_device,
    add_integration_user,
    assert_error,
    in_db,
    issue,
    ok,
    set_service,
    snapshot,
    ticket_count,
    ticket_row,
)
from tests.conftest import app_config, bearer, create_schema, token_for

CONTRACT = {"id", "number", "label", "service_id", "state", "waiting_ahead",
            "estimated_wait_minutes", "issued_at"}


def post_ticket(client: Any, headers: dict[str, str] | None = None, **body: Any) -> Any:
    return client.post("/api/v1/tickets", json={"service_id": 1, **body}, headers=headers or {})


# --- who may issue -------------------------------------------------------------------


def test_anonymous_cannot_issue(app, client):
    assert_error(post_ticket(client), 401, "unauthorized")
    assert ticket_count(app) == 0


def test_display_device_cannot_issue(app, client):
    token = add_device(app, "display", "TV1")
    assert_error(post_ticket(client, bearer(token)), 403, "forbidden")
    assert ticket_count(app) == 0


@pytest.mark.parametrize("kind", ["tablet", "counter-display"])
def test_counter_bound_devices_cannot_issue(app, client, kind):
    token = add_device(app, kind, "T1", counter_number=1)
    assert_error(post_ticket(client, bearer(token)), 403, "forbidden")
    assert ticket_count(app) == 0


def test_revoked_kiosk_cannot_issue(app, client):
    from onestop.accounts.models import Device

    token = add_device(app, "kiosk", "K1")
    with in_db(app) as session:
        device = session.query(Device).one()
        device.revoked_at = device.created_at
    assert_error(post_ticket(client, bearer(token)), 401, "unauthorized")


def test_kiosk_device_issues(app, client):
    token = add_device(app, "kiosk", "K1")
    res = post_ticket(client, bearer(token))
    body = ok(res, 201)
    assert body["source"] == "kiosk"
    assert body["label"] == "A001"
    with in_db(app) as session:
        ticket = session.get(Ticket, body["id"])
        assert ticket.device_id is not None


def test_staff_issue(client):
    for number, username in enumerate(("clerk1", "manager", "admin"), start=1):
        body = issue(client, token_for(client, username))
        assert (body["source"], body["number"]) == ("counter", number)


def test_integration_user_issues_as_api(app, client):
    body = issue(client, add_integration_user(app, client))
    assert body["source"] == "api"


# --- the contract ------------------------------------------------------------------------


def test_response_fields(client):
    token = token_for(client, "clerk1")
    body = issue(client, token, 1)
    assert set(body) >= CONTRACT
    assert body["number"] == 1 and body["label"] == "A001"
    assert body["service_id"] == 1 and body["state"] == "waiting"
    assert body["waiting_ahead"] == 0 and isinstance(body["estimated_wait_minutes"], int)
    assert body["issued_at"].endswith("Z")
    assert body["priority"] == "none" and body["counter"] is None


def test_numbers_and_waiting_ahead_per_service(client):
    token = token_for(client, "clerk1")
    first = [issue(client, token, 1) for _ in range(3)]
    assert [t["number"] for t in first] == [1, 2, 3]
    assert [t["label"] for t in first] == ["A001", "A002", "A003"]
    assert [t["waiting_ahead"] for t in first] == [0, 1, 2]
    other = issue(client, token, 2)
    assert (other["label"], other["waiting_ahead"]) == ("B001", 0)
    assert first[2]["estimated_wait_minutes"] >= first[1]["estimated_wait_minutes"] > 0


def test_waiting_ahead_drops_as_tickets_are_called(client):
    token = token_for(client, "clerk1")
    tickets = [issue(client, token, 1) for _ in range(3)]
    ok(act(client, token, 1, "open"))
    ok(act(client, token, 1, "call-next"))
    last = ok(client.get(f"/api/v1/tickets/{tickets[2]['id']}"))
    assert last["waiting_ahead"] == 1


def test_priority_ticket(client):
    body = issue(client, token_for(client, "clerk1"), 1, priority="elderly")
    assert body["priority"] == "elderly"


def test_priority_not_enabled_for_unit(app, client):
    from tests.api.helpers import unit_of

    with in_db(app) as session:
        unit_of(session).settings = {"priority_classes": ["elderly"]}
    token = token_for(client, "clerk1")
    before = snapshot(app)
    assert_error(post_ticket(client, bearer(token), priority="pregnant"), 422,
                 "invalid_priority")
    assert snapshot(app) == before
    assert issue(client, token, 1)["number"] == 1  # the refused one used no number


def test_unknown_service(app, client):
    token = token_for(client, "clerk1")
    for service_id in (11, 999, 2**31 - 1):
        res = post_ticket(client, bearer(token), service_id=service_id)
        assert_error(res, 404, "service_not_found")
    assert ticket_count(app) == 0


def test_get_ticket_anonymously(client):
    token = token_for(client, "clerk1")
    issued = issue(client, token)
    fresh = client.application.test_client()
    body = ok(fresh.get(f"/api/v1/tickets/{issued['id']}"))
    assert set(body) >= CONTRACT
    assert body["label"] == "A001" and body["state"] == "waiting" and body["counter"] is None


def test_get_ticket_shows_counter_when_called(client):
    token = token_for(client, "clerk1")
    issued = issue(client, token)
    ok(act(client, token, 1, "open"))
    ok(act(client, token, 1, "call-next"))
    body = ok(client.get(f"/api/v1/tickets/{issued['id']}"))
    assert body["state"] == "called"
    assert body["counter"] == {"id": 1, "number": 1, "name": "Quầy 1"}
    assert body["called_at"].endswith("Z")


def test_unknown_ticket(client, subtests):
    for ticket_id in (1, 12345, 2**31 - 1, 2**31, 2**63, 99999999999999999999):
        with subtests.test(ticket_id=ticket_id):
            assert_error(client.get(f"/api/v1/tickets/{ticket_id}"), 404, "ticket_not_found")


def test_non_integer_ticket_id(client):
    assert_error(client.get("/api/v1/tickets/abc"), 404)
    assert_error(client.get("/api/v1/tickets/-1"), 404)


# --- 409s ------------------------------------------------------------------------------


def test_inactive_service_is_closed(app, client):
    set_service(app, 3, active=False)
    token = token_for(client, "clerk1")
    error = assert_error(post_ticket(client, bearer(token), service_id=3), 409, "service_closed")
    assert error.get("reason") == "inactive"
    assert ticket_count(app) == 0


def test_daily_cap(app, client):
    set_service(app, 1, daily_cap=1)
    token = token_for(client, "clerk1")
    issue(client, token, 1)
    before = snapshot(app)
    assert_error(post_ticket(client, bearer(token)), 409, "daily_cap_reached")
    assert_error(post_ticket(client, bearer(token)), 409, "daily_cap_reached")
    assert snapshot(app) == before
    # another field is not affected; raising the cap continues without a gap
    assert issue(client, token, 2)["number"] == 1
    set_service(app, 1, daily_cap=2)
    assert issue(client, token, 1)["number"] == 2


@pytest.fixture
def scheduled_app(tmp_path: Path) -> Any:
    """An app that follows the fields' schedules (ALWAYS_OPEN off)."""
    application = create_app(app_config(tmp_path, ALWAYS_OPEN=False))
    create_schema(application.config["DATABASE_URL"])
    with application.app_context():
        demo.load(db.session())
        db.session.commit()
    yield application
    db.session.remove()
    assert db.engine is not None
    db.engine.dispose()


def test_schedule_refusals(scheduled_app):
    """Schedules that refuse at any hour, so the test does not depend on the clock."""
    app, client = scheduled_app, scheduled_app.test_client()
    set_service(app, 1, weekdays=[])  # served on no day
    set_service(app, 2, weekdays=[1, 2, 3, 4, 5, 6, 7], windows=[["00:00", "00:00"]])
    set_service(app, 3, weekdays=[1, 2, 3, 4, 5, 6, 7], windows=[])  # all day, every day
    token = token_for(client, "clerk1")
    error = assert_error(post_ticket(client, bearer(token), service_id=1), 409, "service_closed")
    assert error["reason"] == "not_served_today"
    error = assert_error(post_ticket(client, bearer(token), service_id=2), 409, "outside_hours")
    assert error["reason"] == "after_closing"
    assert ticket_count(app) == 0
    assert issue(client, token, 3)["number"] == 1
    services = {s["id"]: s for s in ok(client.get("/api/v1/services"))["services"]}
    assert (services[1]["open_now"], services[2]["open_now"], services[3]["open_now"]) == (
        False, False, True)


# --- requeue ---------------------------------------------------------------------------


def test_requeue_missed_ticket(app, client):
    token = token_for(client, "clerk1")
    first = issue(client, token)
    issue(client, token)
    ok(act(client, token, 1, "open"))
    assert ok(act(client, token, 1, "call-next"))["id"] == first["id"]
    assert ok(act(client, token, 1, "skip"))["state"] == "missed"
    body = ok(client.post(f"/api/v1/tickets/{first['id']}/requeue", headers=bearer(token)))
    assert body["state"] == "waiting" and body["counter"] is None
    assert body["waiting_ahead"] == 1  # back of the queue, behind A002
    assert ticket_row(app, first["id"])["counter_id"] is None
    # the next call takes A002, then the requeued A001
    assert ok(act(client, token, 1, "call-next"))["label"] == "A002"
    assert ok(act(client, token, 1, "call-next"))["label"] == "A001"


def test_requeue_refusals(app, client):
    token = token_for(client, "clerk1")
    waiting = issue(client, token)
    before = snapshot(app)
    res = client.post(f"/api/v1/tickets/{waiting['id']}/requeue", headers=bearer(token))
    assert_error(res, 409, "invalid_state")
    assert_error(client.post(f"/api/v1/tickets/{waiting['id']}/requeue"), 401, "unauthorized")
    kiosk = add_device(app, "kiosk")
    res = client.post(f"/api/v1/tickets/{waiting['id']}/requeue", headers=bearer(kiosk))
    assert_error(res, 401, "unauthorized")
    integration = add_integration_user(app, client)
    res = client.post(f"/api/v1/tickets/{waiting['id']}/requeue", headers=bearer(integration))
    assert_error(res, 403, "forbidden")
    for bad in (999, 99999999999999999999):
        res = client.post(f"/api/v1/tickets/{bad}/requeue", headers=bearer(token))
        assert_error(res, 404, "ticket_not_found")
    assert snapshot(app) == before
