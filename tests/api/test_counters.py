"""Counters: list, open / close, who may act, and every clerk action with its refusals."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.helpers import (
    act,
    add_integration_user,
    assert_error,
    counter_row,
    issue,
    ok,
    snapshot,
    ticket_row,
    user_id,
)
from tests.conftest import token_for
from tests.desk.helpers import set_unit

ALL_ACTIONS: list[tuple[str, dict[str, Any] | None]] = [
    ("close", None), ("resume", None), ("call-next", None), ("recall", None), ("start", None),
    ("skip", None), ("pause", {"reason": "break"}), ("finish", {"outcome": "served"}),
    ("transfer", {"service_id": 9}), ("park", {"note": ""}), ("call", {"ticket_id": 1})]


@pytest.fixture
def clerk1(client: Any) -> str:
    return token_for(client, "clerk1")


@pytest.fixture
def at_counter(client: Any, clerk1: str) -> str:
    """clerk1 signed in at counter 1; returns the token."""
    ok(act(client, clerk1, 1, "open"))
    return clerk1


def test_list_counters(client):
    body = ok(client.get("/api/v1/counters"))
    counters = body["counters"]
    assert [c["number"] for c in counters] == list(range(1, 9))
    for c in counters:
        assert {"id", "number", "name", "state", "clerk", "serving"} <= set(c)
        assert c["state"] == "closed" and c["clerk"] is None and c["serving"] is None
    assert counters[0]["service_ids"] == [1]
    assert counters[1]["service_ids"] == [1, 9]


def test_list_shows_clerk_and_serving(client, at_counter):
    issue(client, at_counter)
    ok(act(client, at_counter, 1, "call-next"))
    first = ok(client.get("/api/v1/counters"))["counters"][0]
    assert first["state"] == "open"
    assert first["clerk"]["id"] == user_id(client.application, "clerk1")
    assert first["serving"]["label"] == "A001" and first["serving"]["state"] == "called"


def test_open_by_clerk(app, client, clerk1):
    body = ok(act(client, clerk1, 1, "open"))
    assert body["state"] == "open" and body["clerk"]["id"] == user_id(app, "clerk1")
    assert counter_row(app, 1) == ("open", user_id(app, "clerk1"), None)
    # opening again is harmless
    assert ok(act(client, clerk1, 1, "open"))["state"] == "open"


def test_open_needs_staff(app, client):
    assert_error(act(client.application.test_client(), "", 1, "open"), 401)
    integration = add_integration_user(app, client)
    assert_error(act(client, integration, 1, "open"), 403, "forbidden")
    assert counter_row(app, 1) == ("closed", None, None)


def test_counter_taken(app, client, at_counter):
    clerk2 = token_for(client, "clerk2")
    before = snapshot(app)
    assert_error(act(client, clerk2, 1, "open"), 409, "counter_taken")
    assert snapshot(app) == before
    # a paused counter is still held
    ok(act(client, at_counter, 1, "pause", {"reason": "break"}))
    assert_error(act(client, clerk2, 1, "open"), 409, "counter_taken")
    # after close, another clerk may sign in
    ok(act(client, at_counter, 1, "close"))
    assert ok(act(client, clerk2, 1, "open"))["clerk"]["id"] == user_id(app, "clerk2")


def test_other_clerk_cannot_act(app, client, at_counter, subtests):
    issue(client, at_counter)
    clerk2 = token_for(client, "clerk2")
    before = snapshot(app)
    for action, body in ALL_ACTIONS:
        with subtests.test(action=action):
            assert_error(act(client, clerk2, 1, action, body), 403, "not_counter_clerk")
            assert snapshot(app) == before


def test_clerk_not_signed_in_anywhere_cannot_act(app, client, clerk1):
    issue(client, clerk1)
    assert_error(act(client, clerk1, 1, "call-next"), 403, "not_counter_clerk")


def test_integration_user_cannot_act(app, client, at_counter, subtests):
    issue(client, at_counter)
    integration = add_integration_user(app, client)
    before = snapshot(app)
    for action, body in ALL_ACTIONS:
        with subtests.test(action=action):
            assert_error(act(client, integration, 1, action, body), 403, "forbidden")
            assert snapshot(app) == before


def test_anonymous_cannot_act(app, client, at_counter, subtests):
    issue(client, at_counter)
    anonymous = client.application.test_client()
    before = snapshot(app)
    for action, body in ALL_ACTIONS:
        with subtests.test(action=action):
            res = anonymous.post(f"/api/v1/counters/1/{action}", json=body or {})
            assert_error(res, 401, "unauthorized")
            assert snapshot(app) == before


@pytest.mark.parametrize("who", ["manager", "admin"])
def test_manager_may_act_for_counter(app, client, at_counter, who):
    issue(client, at_counter)
    boss = token_for(client, who)
    body = ok(act(client, boss, 1, "call-next"))
    assert body["label"] == "A001" and body["counter"]["id"] == 1
    ok(act(client, boss, 1, "finish", {"outcome": "served"}))
    # clerk1 still holds the counter
    assert counter_row(app, 1)[1] == user_id(app, "clerk1")


def test_call_next_empty_queue(app, client, at_counter):
    before = snapshot(app)
    assert_error(act(client, at_counter, 1, "call-next"), 404, "queue_empty")
    assert snapshot(app) == before


def test_call_next_only_own_services(client, at_counter):
    issue(client, at_counter, 9)  # counter 1 serves service 1 only
    assert_error(act(client, at_counter, 1, "call-next"), 404, "queue_empty")


def test_call_next_on_closed_counter(app, client):
    manager = token_for(client, "manager")
    issue(client, manager)
    before = snapshot(app)
    assert_error(act(client, manager, 1, "call-next"), 409, "counter_not_open")
    assert snapshot(app) == before


def test_call_next_finishes_current(app, client, at_counter):
    first, second = issue(client, at_counter), issue(client, at_counter)
    assert ok(act(client, at_counter, 1, "call-next"))["id"] == first["id"]
    assert ok(act(client, at_counter, 1, "call-next"))["id"] == second["id"]
    assert ticket_row(app, first["id"])["state"] == "done"
    assert ticket_row(app, first["id"])["outcome"] == "served"


def test_priority_first(client, at_counter):
    issue(client, at_counter)
    elderly = issue(client, at_counter, priority="elderly")
    assert ok(act(client, at_counter, 1, "call-next"))["id"] == elderly["id"]


def test_recall(app, client, at_counter):
    assert_error(act(client, at_counter, 1, "recall"), 409, "no_current_ticket")
    ticket = issue(client, at_counter)
    ok(act(client, at_counter, 1, "call-next"))
    for count in (1, 2, 3):
        body = ok(act(client, at_counter, 1, "recall"))
        assert body["state"] == "called" and body["recall_count"] == count
    # past the unit's recall limit (3) the citizen is marked missed
    assert ok(act(client, at_counter, 1, "recall"))["state"] == "missed"
    assert ticket_row(app, ticket["id"])["state"] == "missed"
    assert_error(act(client, at_counter, 1, "recall"), 409, "no_current_ticket")


def test_start_serving(client, at_counter):
    assert_error(act(client, at_counter, 1, "start"), 409, "no_current_ticket")
    issue(client, at_counter)
    ok(act(client, at_counter, 1, "call-next"))
    assert ok(act(client, at_counter, 1, "start"))["state"] == "serving"
    assert_error(act(client, at_counter, 1, "start"), 409, "invalid_state")
    assert ok(act(client, at_counter, 1, "finish", {"outcome": "served"}))["state"] == "done"


def test_skip(app, client, at_counter):
    assert_error(act(client, at_counter, 1, "skip"), 409, "no_current_ticket")
    ticket = issue(client, at_counter)
    ok(act(client, at_counter, 1, "call-next"))
    body = ok(act(client, at_counter, 1, "skip"))
    assert body["state"] == "missed" and body["id"] == ticket["id"]
    assert_error(act(client, at_counter, 1, "skip"), 409, "no_current_ticket")


def test_finish(app, client, at_counter):
    assert_error(act(client, at_counter, 1, "finish", {"outcome": "served"}), 409,
                 "no_current_ticket")
    for outcome in ("served", "dossier_received", "info_only"):
        ticket = issue(client, at_counter)
        ok(act(client, at_counter, 1, "call-next"))
        body = ok(act(client, at_counter, 1, "finish", {"outcome": outcome}))
        assert body["state"] == "done" and body["counter"] is None
        assert ticket_row(app, ticket["id"])["outcome"] == outcome
        assert ok(client.get("/api/v1/counters"))["counters"][0]["serving"] is None


def test_finish_default_outcome(app, client, at_counter):
    ticket = issue(client, at_counter)
    ok(act(client, at_counter, 1, "call-next"))
    ok(act(client, at_counter, 1, "finish", {}))
    assert ticket_row(app, ticket["id"])["outcome"] == "served"


def test_finish_bad_outcome(app, client, at_counter, subtests):
    issue(client, at_counter)
    ok(act(client, at_counter, 1, "call-next"))
    before = snapshot(app)
    for outcome in ["", "Served", "x y", "a" * 41, 5, None, "<script>", ["served"]]:
        with subtests.test(outcome=outcome):
            assert_error(act(client, at_counter, 1, "finish", {"outcome": outcome}), 422,
                         "validation_error")
            assert snapshot(app) == before


def test_transfer_to_service(app, client, at_counter):
    ticket = issue(client, at_counter)
    ok(act(client, at_counter, 1, "call-next"))
    body = ok(act(client, at_counter, 1, "transfer", {"service_id": 9}))
    assert body["state"] == "waiting" and body["service_id"] == 9 and body["label"] == "A001"
    assert ticket_row(app, ticket["id"])["counter_id"] is None
    assert_error(act(client, at_counter, 1, "call-next"), 404, "queue_empty")
    clerk2 = token_for(client, "clerk2")
    ok(act(client, clerk2, 2, "open"))
    assert ok(act(client, clerk2, 2, "call-next"))["id"] == ticket["id"]


def test_transfer_to_counter(app, client, at_counter):
    first, second = issue(client, at_counter), issue(client, at_counter)
    ok(act(client, at_counter, 1, "call-next"))
    body = ok(act(client, at_counter, 1, "transfer", {"counter_id": 2}))
    assert body["state"] == "waiting" and body["id"] == first["id"]
    assert ticket_row(app, first["id"])["target_counter_id"] == 2
    # counter 1 no longer sees it; counter 2 calls it first
    assert ok(act(client, at_counter, 1, "call-next"))["id"] == second["id"]
    clerk2 = token_for(client, "clerk2")
    ok(act(client, clerk2, 2, "open"))
    assert ok(act(client, clerk2, 2, "call-next"))["id"] == first["id"]


TRANSFER_REFUSALS = [
    ({}, 422, "transfer_target_required"),
    ({"service_id": 9, "counter_id": 2}, 422, "transfer_target_required"),
    ({"service_id": None, "counter_id": None}, 422, "transfer_target_required"),
    ({"service_id": 999}, 404, "service_not_found"),
    ({"counter_id": 999}, 404, "counter_not_found"),
    ({"counter_id": 1}, 404, "counter_not_found"),  # to itself
    ({"service_id": 0}, 422, "validation_error"),
    ({"service_id": "nine"}, 422, "validation_error"),
    ({"counter_id": 99999999999999999999}, 422, "validation_error"),
    ({"zone": "B"}, 422, "validation_error"),
]


def test_transfer_refusals(app, client, at_counter, subtests):
    issue(client, at_counter)
    ok(act(client, at_counter, 1, "call-next"))
    before = snapshot(app)
    for body, status, code in TRANSFER_REFUSALS:
        with subtests.test(body=body):
            assert_error(act(client, at_counter, 1, "transfer", body), status, code)
            assert snapshot(app) == before


def test_transfer_to_inactive_service(app, client, at_counter):
    from tests.api.helpers import set_service

    set_service(app, 9, active=False)
    issue(client, at_counter)
    ok(act(client, at_counter, 1, "call-next"))
    before = snapshot(app)
    assert_error(act(client, at_counter, 1, "transfer", {"service_id": 9}), 404,
                 "service_not_found")
    assert snapshot(app) == before


def test_transfer_without_current(client, at_counter):
    assert_error(act(client, at_counter, 1, "transfer", {"service_id": 9}), 409,
                 "no_current_ticket")


def test_park_and_call_back(app, client, at_counter):
    assert_error(act(client, at_counter, 1, "park", {}), 409, "no_current_ticket")
    ticket = issue(client, at_counter)
    ok(act(client, at_counter, 1, "call-next"))
    body = ok(act(client, at_counter, 1, "park", {"note": "đi photo giấy tờ"}))
    assert body["state"] == "parked" and body["counter"]["id"] == 1
    assert ticket_row(app, ticket["id"])["counter_id"] == 1
    # a parked ticket is not in the queue
    assert_error(act(client, at_counter, 1, "call-next"), 404, "queue_empty")
    # another counter may not take it
    clerk2 = token_for(client, "clerk2")
    ok(act(client, clerk2, 2, "open"))
    assert_error(act(client, clerk2, 2, "call", {"ticket_id": ticket["id"]}), 409,
                 "parked_elsewhere")
    body = ok(act(client, at_counter, 1, "call", {"ticket_id": ticket["id"]}))
    assert body["state"] == "called" and body["counter"]["id"] == 1


def test_park_note_too_long(app, client, at_counter):
    issue(client, at_counter)
    ok(act(client, at_counter, 1, "call-next"))
    before = snapshot(app)
    assert_error(act(client, at_counter, 1, "park", {"note": "x" * 201}), 422)
    assert snapshot(app) == before


def test_pause_and_resume(app, client, at_counter):
    body = ok(act(client, at_counter, 1, "pause", {"reason": "Họp giao ban"}))
    assert body["state"] == "paused" and body["pause_reason"] == "Họp giao ban"
    assert counter_row(app, 1)[0] == "paused"
    issue(client, at_counter)
    assert_error(act(client, at_counter, 1, "call-next"), 409, "counter_not_open")
    assert_error(act(client, at_counter, 1, "pause", {"reason": "again"}), 409,
                 "counter_not_open")
    body = ok(act(client, at_counter, 1, "resume"))
    assert body["state"] == "open" and body["pause_reason"] is None
    assert_error(act(client, at_counter, 1, "resume"), 409, "counter_not_paused")
    assert ok(act(client, at_counter, 1, "call-next"))["label"] == "A001"


def test_pause_bad_reason(app, client, at_counter, subtests):
    before = snapshot(app)
    for body in [{}, {"reason": ""}, {"reason": "   "}, {"reason": 5}, {"reason": None},
                 {"reason": "x" * 201}, {"reason": "ok", "extra": 1}]:
        with subtests.test(body=body):
            assert_error(act(client, at_counter, 1, "pause", body), 422, "validation_error")
            assert snapshot(app) == before


def test_close(app, client, at_counter):
    ticket = issue(client, at_counter)
    ok(act(client, at_counter, 1, "call-next"))
    body = ok(act(client, at_counter, 1, "close"))
    assert body["state"] == "closed" and body["clerk"] is None and body["serving"] is None
    row = ticket_row(app, ticket["id"])
    assert (row["state"], row["outcome"]) == ("missed", None)  # called, never started
    # after closing, the clerk is no longer at the counter
    assert_error(act(client, at_counter, 1, "call-next"), 403, "not_counter_clerk")


def test_call_ticket_directly(app, client, at_counter):
    # a waiting ticket is called out of order only where the unit allows it (tests/desk/)
    set_unit(app, out_of_order_calls=True)
    first, second = issue(client, at_counter), issue(client, at_counter)
    body = ok(act(client, at_counter, 1, "call", {"ticket_id": second["id"]}))
    assert body["id"] == second["id"] and body["state"] == "called"
    # calling another finishes the current one
    ok(act(client, at_counter, 1, "call", {"ticket_id": first["id"]}))
    assert ticket_row(app, second["id"])["state"] == "done"
    # a done ticket cannot be called again
    before = snapshot(app)
    assert_error(act(client, at_counter, 1, "call", {"ticket_id": second["id"]}), 409,
                 "invalid_state")
    assert snapshot(app) == before


def test_call_missed_ticket(app, client, at_counter):
    ticket = issue(client, at_counter)
    ok(act(client, at_counter, 1, "call-next"))
    ok(act(client, at_counter, 1, "skip"))
    body = ok(act(client, at_counter, 1, "call", {"ticket_id": ticket["id"]}))
    assert body["state"] == "called" and body["recall_count"] == 0


CALL_REFUSALS = [
    ({"ticket_id": 999}, 404, "ticket_not_found"),
    ({"ticket_id": 2**31 - 1}, 404, "ticket_not_found"),
    ({"ticket_id": 99999999999999999999}, 422, "validation_error"),
    ({"ticket_id": 0}, 422, "validation_error"),
    ({"ticket_id": "one"}, 422, "validation_error"),
    ({"ticket_id": 1.5}, 422, "validation_error"),
    ({}, 422, "validation_error"),
]


def test_call_ticket_refusals(app, client, at_counter, subtests):
    issue(client, at_counter)
    before = snapshot(app)
    for body, status, code in CALL_REFUSALS:
        with subtests.test(body=body):
            assert_error(act(client, at_counter, 1, "call", body), status, code)
            assert snapshot(app) == before


def test_call_when_paused(app, client, at_counter):
    ticket = issue(client, at_counter)
    ok(act(client, at_counter, 1, "pause", {"reason": "break"}))
    assert_error(act(client, at_counter, 1, "call", {"ticket_id": ticket["id"]}), 409,
                 "counter_not_open")


def test_clerk_bearer_header_case(client, clerk1):
    res = client.post("/api/v1/counters/1/open", headers={"Authorization": f"bearer {clerk1}"})
    assert ok(res)["state"] == "open"


def test_counter_of_other_unit_is_not_found(app, client):
    from onestop.queueing.models import Counter
    from onestop.units.models import Unit
    from tests.api.helpers import in_db

    with in_db(app) as session:
        other = Unit(code="X.1", name="Other", timezone="Asia/Ho_Chi_Minh", settings={})
        session.add(other)
        session.flush()
        session.add(Counter(unit_id=other.id, number=1, name="Q1", zone="", state="closed"))
    manager = token_for(client, "manager")
    for action in ("open", "call-next", "close"):
        assert_error(act(client, manager, 9, action), 404, "counter_not_found")
