"""A citizen who gave a phone: one "còn 3 người" when three are ahead in the call order, one
"mời đến quầy số N" when called, over the fake SMS gateway (and ZNS, with SMS as fallback)."""

from __future__ import annotations

from typing import Any

from onestop.notify.models import NotifyMessage
from onestop.tokens import ticket_token
from tests.api.helpers import in_db
from tests.conftest import SECRET
from tests.notifications.conftest import SMS_TOKEN, ZNS_TOKEN, clerk, first_counter, messages, send_due

PHONE = "0912 345 678"


def issue(client: Any, headers: dict[str, str], service_id: int, count: int) -> list[dict[str, Any]]:
    out = []
    for _ in range(count):
        res = client.post("/api/v1/tickets", json={"service_id": service_id}, headers=headers)
        assert res.status_code == 201, res.get_json()
        out.append(res.get_json())
    return out


def subscribe(client: Any, ticket_id: int, phone: str = PHONE, **extra: Any) -> Any:
    body = {"k": ticket_token(SECRET, ticket_id), "phone": phone, **extra}
    return client.post(f"/api/v1/tickets/{ticket_id}/notify", json=body)


def test_near_once_at_three_ahead_and_called_with_the_counter(notify_app, client, gateway):
    counter_id, number, service_id = first_counter(notify_app)
    headers = clerk(client, counter_id)
    *others, mine = issue(client, headers, service_id, 5)
    assert mine["waiting_ahead"] == 4
    res = subscribe(client, mine["id"])
    assert res.status_code == 201, res.get_json()
    assert res.get_json()["to"] == "+84 91*****78" and res.get_json()["created"] is True
    assert subscribe(client, mine["id"]).get_json()["created"] is False  # the same address again
    assert send_due(notify_app).ids == [] and messages(notify_app) == []  # 4 ahead: nothing yet

    texts = []
    for _ in range(5):
        assert client.post(f"/api/v1/counters/{counter_id}/call-next", headers=headers).status_code == 200
        send_due(notify_app)
        texts.append([b["text"] for b in gateway.received("/sms")])
    sms = gateway.received("/sms")
    assert [b["to"] for b in sms] == ["+84912345678", "+84912345678"]
    near, called = sms[0]["text"], sms[1]["text"]
    assert "con 3 nguoi" in near and mine["label"] in near  # unaccented: the setting's default
    assert f"quay so {number}" in called and mine["label"] in called
    assert len(texts[0]) == 1 and len(texts[3]) == 1 and len(texts[4]) == 2  # near after call 1, called at 5
    assert all(len(b["text"]) <= 160 and b["text"].isascii() for b in sms)
    assert f"/t/{mine['id']}?k=" in called  # the short link to the ticket's page
    assert gateway.headers("/sms")[0]["Authorization"] == f"Bearer {SMS_TOKEN}"
    assert [(m.event, m.state, m.channel) for m in messages(notify_app)] == [
        ("ticket.near", "sent", "sms"), ("ticket.called", "sent", "sms")]


def test_key_holders_only_and_clear_refusals(notify_app, client):
    counter_id, _number, service_id = first_counter(notify_app)
    headers = clerk(client, counter_id)
    (ticket,) = issue(client, headers, service_id, 1)
    url = f"/api/v1/tickets/{ticket['id']}/notify"
    assert client.post(url, json={"k": "x" * 12, "phone": PHONE}).status_code == 404
    assert client.post(url, json={"phone": PHONE}).status_code == 404
    assert client.post("/api/v1/tickets/999999/notify", json={"k": "a", "phone": PHONE}).status_code == 404
    bad = subscribe(client, ticket["id"], phone="024 3825 1234")  # a landline gets no SMS
    assert bad.status_code == 422 and bad.get_json()["error"]["code"] == "invalid_phone"
    assert subscribe(client, ticket["id"], phone="").get_json()["error"]["code"] == "address_required"
    # staff may subscribe for a citizen at the desk, without the key
    assert client.post(url, json={"phone": "0987654321"}, headers=headers).status_code == 201
    listed = client.get(f"/api/v1/notifications?ticket_id={ticket['id']}", headers=headers).get_json()
    assert listed["subscriptions"] == [{"to": "+84 98*****21", "kind": "phone"}]
    assert "0987654321" not in str(listed) and "987654321" not in str(listed)
    assert client.get(f"/api/v1/notifications?ticket_id={ticket['id']}").status_code == 401
    # once called, there is nothing left to tell
    client.post(f"/api/v1/counters/{counter_id}/call-next", headers=headers)
    closed = subscribe(client, ticket["id"], phone="0911111111")
    assert closed.status_code == 409 and closed.get_json()["error"]["code"] == "notify_closed"


def test_a_near_message_whose_moment_passed_is_dropped_not_sent_late(notify_app, client, gateway):
    counter_id, _number, service_id = first_counter(notify_app)
    headers = clerk(client, counter_id)
    _a, _b, mine = issue(client, headers, service_id, 3)
    assert subscribe(client, mine["id"]).status_code == 201  # 2 ahead: near at once
    assert [m.event for m in messages(notify_app)] == ["ticket.near"]
    gateway.modes["/sms"] = "500"
    send_due(notify_app)  # fails, retried later
    for _ in range(3):  # meanwhile the ticket is called and finished
        client.post(f"/api/v1/counters/{counter_id}/call-next", headers=headers)
    gateway.modes["/sms"] = "ok"
    import datetime as dt

    from onestop.db import utcnow
    send_due(notify_app, utcnow() + dt.timedelta(hours=1))
    by_event = {m.event: m for m in messages(notify_app)}
    assert by_event["ticket.near"].state == "dropped" and by_event["ticket.near"].last_error == "too_late"
    assert by_event["ticket.called"].state == "sent"
    assert ["quay so" in b["text"] for b in gateway.received("/sms")] == [False, True]  # the 500, then called


def test_zns_first_and_sms_when_zalo_refuses(tmp_path, gateway):
    from tests.conftest import demo_app
    from tests.notifications.conftest import settings

    extra = {"ZNS_URL": gateway.url + "/zns", "ZNS_TOKEN": ZNS_TOKEN,
             "ZNS_TEMPLATES": "ticket.near=3001,ticket.called=3002"}
    with demo_app(tmp_path, **settings(gateway, **extra)) as app:
        client = app.test_client()
        counter_id, number, service_id = first_counter(app)
        headers = clerk(client, counter_id)
        _a, mine = issue(client, headers, service_id, 2)
        assert subscribe(client, mine["id"]).status_code == 201
        send_due(app)
        (zns,) = gateway.received("/zns")
        assert zns["phone"] == "84912345678" and zns["template_id"] == "3001"
        assert zns["template_data"]["label"] == mine["label"] and zns["tracking_id"].startswith("onestop-")
        assert gateway.headers("/zns")[0]["access_token"] == ZNS_TOKEN
        assert gateway.received("/sms") == []
        gateway.modes["/zns"] = "refuse"  # no Zalo account on that number
        client.post(f"/api/v1/counters/{counter_id}/call-next", headers=headers)
        client.post(f"/api/v1/counters/{counter_id}/call-next", headers=headers)
        send_due(app)
        assert len(gateway.received("/zns")) == 2
        (sms,) = gateway.received("/sms")
        assert f"quay so {number}" in sms["text"]
        with in_db(app) as session:
            called = session.query(NotifyMessage).filter_by(event="ticket.called").one()
            assert (called.state, called.channel) == ("sent", "sms")
