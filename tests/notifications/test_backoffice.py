"""The back office: today's messages and failures with masked addresses, the channels' state,
the templates edited and previewed (and used by the next message), dead ones sent again."""

from __future__ import annotations

import re
from typing import Any

from tests.notifications.conftest import clerk, first_counter, send_due
from tests.notifications.test_ticket_messages import issue, subscribe


def login(client: Any, username: str) -> None:
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token is not None
    res = client.post("/login", data={"username": username, "password": "demo", "csrf_token": token.group(1)})
    assert res.status_code in (302, 303)


def csrf(html: str) -> str:
    found = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    assert found is not None
    return found.group(1)


def test_deliveries_failures_and_templates(notify_app, client, gateway):
    counter_id, _n, service_id = first_counter(notify_app)
    headers = clerk(client, counter_id)
    (ticket,) = issue(client, headers, service_id, 1)
    gateway.modes["/sms"] = "500"
    assert subscribe(client, ticket["id"]).status_code == 201
    send_due(notify_app)
    admin = notify_app.test_client()
    login(admin, "admin")
    page = admin.get("/admin/notifications").get_data(as_text=True)
    assert "Tin nhắn cho công dân" in page and "+84 91*****78" in page and "0912345678" not in page
    assert "http_500" in page and 'data-channel="sms" class="is-on"' in page
    assert "912345678" not in page  # the gateway echoed the number: not shown, not logged
    assert 'data-channel="zns" class="is-off"' in page

    # an admin rewrites the near message, previews it, saves it: the next message uses it
    editor = admin.get("/admin/notifications/templates").get_data(as_text=True)
    text = "{unit}: số {label} sắp đến lượt, còn {ahead} người. {link}"
    preview = admin.post("/admin/notifications/templates", data={
        "csrf_token": csrf(editor), "ticket.near.vi": text, "action": "preview"}).get_data(as_text=True)
    assert "A1025 sắp đến lượt, còn 3 người" in preview and "A1025 sap den luot, con 3 nguoi" in preview
    bad = admin.post("/admin/notifications/templates", data={
        "csrf_token": csrf(editor), "ticket.near.vi": "{unit", "action": "save"})
    assert bad.status_code == 200 and "aria-invalid" in bad.get_data(as_text=True)
    saved = admin.post("/admin/notifications/templates", data={
        "csrf_token": csrf(editor), "ticket.near.vi": text, "action": "save"})
    assert saved.status_code in (302, 303)
    (second,) = issue(client, headers, service_id, 1)  # one ahead of it: near at once
    gateway.modes["/sms"] = "ok"
    assert subscribe(client, second["id"], phone="0987654321").status_code == 201
    send_due(notify_app)
    assert "sap den luot, con 1 nguoi" in gateway.received("/sms")[-1]["text"]

    # a clerk sees none of it
    other = notify_app.test_client()
    login(other, "clerk2")
    assert other.get("/admin/notifications").status_code == 403
    assert other.get("/admin/notifications/templates").status_code == 403
