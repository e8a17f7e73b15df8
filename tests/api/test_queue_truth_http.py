"""Queue truth over HTTP (issue 17, items 1, 4, 5, 6 and 16): what the API, the phone page
and the kiosk home tell citizens and clerks. Counter 1 serves field 1 (TPHT) only, counter 2
TPHT and NV."""

from __future__ import annotations

import datetime as dt

from onestop.queueing.models import Ticket
from onestop.tokens import ticket_token
from tests.api.helpers import act, assert_error, issue, ok, set_service, update_row
from tests.conftest import bearer, token_for

SOON = "Sắp đến lượt"
NO_COUNTER = "Chưa có quầy nào đang phục vụ lĩnh vực này"


def phone_page(app, _client, ticket_id: int) -> str:
    """The page on a citizen's phone (a client of its own: no staff cookies)."""
    k = ticket_token(app.config["SECRET_KEY"], ticket_id)
    res = app.test_client().get(f"/t/{ticket_id}?k={k}")
    assert res.status_code == 200
    return res.get_data(as_text=True)


def services(client) -> dict[int, dict]:
    return {s["id"]: s for s in ok(client.get("/api/v1/services"))["services"]}


def test_elderly_citizen_is_told_the_place_they_will_be_called_in(app, client):
    clerk = token_for(client, "clerk1")
    normal = [issue(client, clerk) for _ in range(5)]
    elderly = issue(client, clerk, priority="elderly")
    assert (elderly["waiting_ahead"], elderly["estimated_wait_minutes"]) == (0, 0)
    # the normal tickets in front now have the elderly citizen ahead of them
    first = ok(client.get(f"/api/v1/tickets/{normal[0]['id']}", headers=bearer(clerk)))
    fifth = ok(client.get(f"/api/v1/tickets/{normal[4]['id']}", headers=bearer(clerk)))
    assert (first["waiting_ahead"], fifth["waiting_ahead"]) == (1, 5)
    assert fifth["estimated_wait_minutes"] == 25
    assert 'id="tp-ahead">1<' in phone_page(app, client, normal[0]["id"])
    assert 'id="tp-ahead">0<' in phone_page(app, client, elderly["id"])
    act(client, clerk, 1, "open")
    called = ok(act(client, clerk, 1, "call-next"))
    assert called["id"] == elderly["id"]


def test_interleave_over_http(app, client):
    from onestop.units.models import Unit

    update_row(app, Unit, 1, settings={"priority_mode": "interleave", "interleave_normal": 2})
    clerk = token_for(client, "clerk1")
    normal = [issue(client, clerk) for _ in range(4)]
    priority = [issue(client, clerk, priority="disabled") for _ in range(2)]
    # calls: N N P N N P
    assert [p["waiting_ahead"] for p in priority] == [2, 5]
    told = [ok(client.get(f"/api/v1/tickets/{t['id']}", headers=bearer(clerk)))["waiting_ahead"]
            for t in normal]
    assert told == [0, 1, 3, 4]
    act(client, clerk, 1, "open")
    order = [ok(act(client, clerk, 1, "call-next"))["id"] for _ in range(6)]
    expected = [normal[0], normal[1], priority[0], normal[2], normal[3], priority[1]]
    assert order == [t["id"] for t in expected]


def test_no_open_counter_is_never_soon(app, client):
    clerk = token_for(client, "clerk1")
    ticket = issue(client, clerk)
    assert (ticket["waiting_ahead"], ticket["counters_open"]) == (0, 0)
    html = phone_page(app, client, ticket["id"])
    assert NO_COUNTER in html and SOON not in html.split('id="tp-wait">')[1].split("<")[0]
    act(client, token_for(client, "clerk2"), 2, "open")
    html = phone_page(app, client, ticket["id"])
    assert 'id="tp-wait">' + SOON in html
    assert ok(client.get(f"/api/v1/tickets/{ticket['id']}", headers=bearer(clerk)))[
        "counters_open"] == 1
    act(client, token_for(client, "clerk2"), 2, "pause", {"reason": "Họp"})
    html = phone_page(app, client, ticket["id"])
    assert 'id="tp-wait">' + NO_COUNTER in html


def test_a_paused_counter_is_not_counted_in_any_estimate(app, client):
    clerk1, clerk2 = token_for(client, "clerk1"), token_for(client, "clerk2")
    act(client, clerk1, 1, "open")
    act(client, clerk2, 2, "open")
    tickets = [issue(client, clerk1) for _ in range(4)]
    # no history: 5 minutes a citizen (the unit's default); two counters serve TPHT
    assert tickets[3]["estimated_wait_minutes"] == 8  # 3 x 5 / 2, rounded up
    assert services(client)[1]["estimated_wait_minutes"] == 10  # 4 x 5 / 2 for the next one
    ok(act(client, clerk2, 2, "pause", {"reason": "Nghỉ giải lao"}))
    again = ok(client.get(f"/api/v1/tickets/{tickets[3]['id']}", headers=bearer(clerk1)))
    assert again["estimated_wait_minutes"] == 15
    assert services(client)[1]["estimated_wait_minutes"] == 20
    fresh = issue(client, clerk1)
    assert (fresh["waiting_ahead"], fresh["estimated_wait_minutes"]) == (4, 20)
    assert again["counters_open"] == services(client)[1]["counters_open"] == 1


def test_call_next_on_an_empty_queue_finishes_the_ticket_at_the_counter(app, client):
    clerk = token_for(client, "clerk1")
    ticket = issue(client, clerk)
    act(client, clerk, 1, "open")
    assert ok(act(client, clerk, 1, "call-next"))["id"] == ticket["id"]
    error = assert_error(act(client, clerk, 1, "call-next"), 404, "queue_empty")
    assert error["finished"] == {"id": ticket["id"], "label": ticket["label"]}
    after = ok(client.get(f"/api/v1/tickets/{ticket['id']}", headers=bearer(clerk)))
    assert after["state"] == "done"  # committed despite the 404
    counters = ok(client.get("/api/v1/counters", headers=bearer(clerk)))["counters"]
    assert next(c for c in counters if c["id"] == 1)["serving"] is None
    # nothing at the counter: a plain queue_empty
    error = assert_error(act(client, clerk, 1, "call-next"), 404, "queue_empty")
    assert "finished" not in error


def test_a_missed_ticket_of_an_earlier_day_is_refused_with_a_clear_409(app, client):
    clerk = token_for(client, "clerk1")
    ticket = issue(client, clerk)
    act(client, clerk, 1, "open")
    act(client, clerk, 1, "call-next")
    ok(act(client, clerk, 1, "skip"))
    yesterday = dt.date.fromisoformat(ticket["business_date"]) - dt.timedelta(days=1)
    update_row(app, Ticket, ticket["id"], business_date=yesterday)
    res = client.post(f"/api/v1/tickets/{ticket['id']}/requeue", headers=bearer(clerk))
    error = assert_error(res, 409, "ticket_from_earlier_day")
    assert "ngày làm việc trước" in error["message"]
    assert_error(act(client, clerk, 1, "call", {"ticket_id": ticket["id"]}), 409,
                 "ticket_from_earlier_day")
    assert ok(client.get(f"/api/v1/tickets/{ticket['id']}", headers=bearer(clerk)))[
        "state"] == "missed"


def test_a_field_out_of_numbers_is_closed_before_anyone_starts(app, client):
    set_service(app, 1, daily_cap=2)
    clerk = token_for(client, "clerk1")
    issue(client, clerk)
    assert services(client)[1]["open_now"] is True
    issue(client, clerk)
    field = services(client)[1]
    assert (field["open_now"], field["closed_reason"]) == (False, "daily_cap_reached")
    assert services(client)[2]["open_now"] is True  # other fields are not touched
    html = client.get("/kiosk/").get_data(as_text=True)
    tile = html.split('data-service-id="1"')[1].split("</button>")[0]
    assert "is-closed" in html.split('data-service-id="1"')[0].rsplit("<button", 1)[1]
    assert "Đã hết số hôm nay" in tile and "Tiếp nhận lại" not in tile
    field_page = client.get("/kiosk/field/1").get_data(as_text=True)
    assert "Đã hết số hôm nay" in field_page
    assert_error(client.post("/api/v1/tickets", json={"service_id": 1}, headers=bearer(clerk)),
                 409, "daily_cap_reached")
