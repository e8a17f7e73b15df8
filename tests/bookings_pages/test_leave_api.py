"""POST /api/v1/tickets/{id}/cancel ("Tôi không chờ nữa"): who may, from which states, and
what the people behind see."""

from __future__ import annotations

import re

from onestop.tokens import ticket_token
from tests.api.helpers import act
from tests.conftest import bearer, token_for


def issue(client, token: str) -> dict:
    res = client.post("/api/v1/tickets", json={"service_id": 1}, headers=bearer(token))
    assert res.status_code == 201
    return dict(res.get_json())


def test_the_page_key_gives_up_the_place_and_the_next_moves_up(app, client):
    staff = token_for(client, "clerk1")
    first, second = issue(client, staff), issue(client, staff)
    phone = app.test_client()
    assert phone.get(f"/api/v1/tickets/{second['id']}").get_json()["waiting_ahead"] == 1
    k = ticket_token(app.config["SECRET_KEY"], first["id"])
    res = phone.post(f"/api/v1/tickets/{first['id']}/cancel", json={"k": k})
    assert res.status_code == 200, res.get_json()
    assert res.get_json()["state"] == "cancelled"
    assert phone.get(f"/api/v1/tickets/{second['id']}").get_json()["waiting_ahead"] == 0
    # the page says so, and offers the button no more
    html = phone.get(f"/t/{first['id']}?k={k}").get_data(as_text=True)
    assert "Đã hủy" in html and "Tôi không chờ nữa" not in html
    # the clerk's next call skips it
    act(client, staff, 1, "open")
    called = act(client, staff, 1, "call-next").get_json()
    assert called["label"] == second["label"]
    # twice: refused, with the state
    # (the page set a session cookie: its CSRF token goes along, as leave.js sends it)
    csrf = re.search(r'name="csrf-token" content="([^"]+)"', html).group(1)
    again = phone.post(f"/api/v1/tickets/{first['id']}/cancel", json={"k": k},
                       headers={"X-CSRFToken": csrf})
    assert again.status_code == 409
    assert again.get_json()["error"]["code"] == "ticket_not_waiting"
    # once called, the clerk decides
    k2 = ticket_token(app.config["SECRET_KEY"], second["id"])
    called_res = phone.post(f"/api/v1/tickets/{second['id']}/cancel", json={"k": k2},
                            headers={"X-CSRFToken": csrf})
    assert called_res.status_code == 409 and "quầy" in called_res.get_json()["error"]["message"]


def test_a_wrong_key_is_the_same_404_as_an_unknown_ticket(app, client):
    staff = token_for(client, "clerk1")
    ticket = issue(client, staff)
    phone = app.test_client()
    secret = app.config["SECRET_KEY"]
    forged = phone.post(f"/api/v1/tickets/{ticket['id']}/cancel", json={"k": "A" * 12})
    none = phone.post(f"/api/v1/tickets/{ticket['id']}/cancel", json={})
    unknown = phone.post("/api/v1/tickets/999/cancel", json={"k": ticket_token(secret, 999)})
    for res in (forged, none, unknown):
        assert res.status_code == 404 and res.get_json()["error"]["code"] == "ticket_not_found"
    assert phone.get(f"/api/v1/tickets/{ticket['id']}").get_json()["state"] == "waiting"


def test_staff_without_a_key_and_missed_or_parked_tickets(app, client):
    staff = token_for(client, "clerk1")
    by_desk, missed, parked = issue(client, staff), issue(client, staff), issue(client, staff)
    res = client.post(f"/api/v1/tickets/{by_desk['id']}/cancel", json={}, headers=bearer(staff))
    assert res.status_code == 200 and res.get_json()["state"] == "cancelled"
    act(client, staff, 1, "open")
    act(client, staff, 1, "call-next")
    act(client, staff, 1, "skip")
    act(client, staff, 1, "call-next")
    act(client, staff, 1, "park", {"note": "Đi photo giấy tờ"})
    secret = app.config["SECRET_KEY"]
    phone = app.test_client()
    for ticket in (missed, parked):
        res = phone.post(f"/api/v1/tickets/{ticket['id']}/cancel",
                         json={"k": ticket_token(secret, ticket["id"])})
        assert res.status_code == 200 and res.get_json()["state"] == "cancelled", res.get_json()
