"""/api/v1/webhooks: admin only; the secret shown once; URL rules; the delivery log; retry."""

from __future__ import annotations

import pytest

from tests.api.helpers import assert_error, ok
from tests.conftest import bearer, token_for
from tests.webhooks.conftest import add_webhook, deliver, deliveries
from tests.webhooks.test_delivery import post_dossier


@pytest.mark.parametrize("user", [None, "clerk1", "manager"])
def test_only_admins(app, client, user):
    headers = bearer(token_for(client, user)) if user else {}
    status, code = (401, "unauthorized") if user is None else (403, "forbidden")
    assert_error(client.get("/api/v1/webhooks", headers=headers), status, code)
    res = client.post("/api/v1/webhooks", json={"url": "http://10.0.0.5/h", "events": ["ticket.called"]},
                      headers=headers)
    assert_error(res, status, code)
    assert_error(client.delete("/api/v1/webhooks/1", headers=headers), status, code)
    assert_error(client.get("/api/v1/webhooks/1/deliveries", headers=headers), status, code)
    assert_error(client.post("/api/v1/webhooks/1/deliveries/1/retry", headers=headers), status, code)


def test_secret_is_shown_once(app, client, admin):
    created = add_webhook(client, admin, "http://10.20.30.40:8080/motcua/hook",
                          ["dossier.changed", "ticket.called", "dossier.received"])
    secret = created["secret"]
    assert secret.startswith("whsec_") and len(secret) > 40
    assert created["events"] == ["ticket.called", "dossier.received", "dossier.changed"]
    assert created["active"] is True and created["secret_hint"] == "…" + secret[-4:]
    listed = ok(client.get("/api/v1/webhooks", headers=bearer(admin)))
    assert "rating.created" in listed["events"]
    [hook] = listed["webhooks"]
    assert "secret" not in hook and secret not in str(listed)
    assert hook["url"] == "http://10.20.30.40:8080/motcua/hook"
    other = add_webhook(client, admin, "https://motcua.example.gov.vn/hook", ["rating.created"])
    assert other["secret"] != secret


@pytest.mark.parametrize(("url", "reason"), [
    ("ftp://10.0.0.5/hook", "scheme"),
    ("file:///etc/passwd", "scheme"),
    ("javascript:alert(1)//x", "scheme"),
    ("http://169.254.169.254/latest/meta-data", "link_local"),
    ("http://[fe80::1]/hook", "link_local"),
    ("http://0.0.0.0:8000/hook", "unspecified"),
    ("http://user:pass@10.0.0.5/hook", "credentials"),
    ("http://10.0.0.5:99999/hook", "port"),
    ("http://10.0.0.5/a b", "characters"),
    ("http://hồsơ.vn/hook", "characters"),
    ("http://10.0.0.5/" + "a" * 500, "length"),
])
def test_bad_urls_are_refused(app, client, admin, url, reason):
    res = client.post("/api/v1/webhooks", json={"url": url, "events": ["ticket.called"]},
                      headers=bearer(admin))
    if reason == "length":
        assert_error(res, 422, "validation_error")
        return
    error = assert_error(res, 422, "invalid_webhook_url")
    assert error["reason"] == reason
    assert ok(client.get("/api/v1/webhooks", headers=bearer(admin)))["webhooks"] == []


def test_loopback_needs_the_setting(app, client, admin):
    app.config["WEBHOOK_ALLOW_LOOPBACK"] = False
    for url in ("http://127.0.0.1:9000/h", "http://localhost/h", "http://[::1]/h", "http://[::ffff:127.0.0.1]/h"):
        res = client.post("/api/v1/webhooks", json={"url": url, "events": ["ticket.called"]},
                          headers=bearer(admin))
        assert assert_error(res, 422, "invalid_webhook_url")["reason"] == "loopback", url
    add_webhook(client, admin, "http://192.168.1.20/h", ["ticket.called"])  # the LAN is expected
    app.config["WEBHOOK_ALLOW_LOOPBACK"] = True
    add_webhook(client, admin, "http://127.0.0.1:9000/h", ["ticket.called"])


def test_bad_events_are_refused(app, client, admin):
    res = client.post("/api/v1/webhooks", json={"url": "http://10.0.0.5/h", "events": ["ticket.eaten"]},
                      headers=bearer(admin))
    assert assert_error(res, 422, "invalid_webhook_events")["unknown"] == ["ticket.eaten"]
    res = client.post("/api/v1/webhooks", json={"url": "http://10.0.0.5/h", "events": []},
                      headers=bearer(admin))
    assert_error(res, 422)
    res = client.post("/api/v1/webhooks", json={"url": "http://10.0.0.5/h", "events": ["ticket.called"],
                                                "secret": "mine"}, headers=bearer(admin))
    assert_error(res, 422, "validation_error")  # no such field: secrets are generated


def test_delivery_log_and_retry(app, client, admin, receiver):
    hook = add_webhook(client, admin, receiver.url, ["dossier.received"])
    clerk = token_for(client, "clerk1")
    for _ in range(3):
        post_dossier(client, clerk)
    receiver.fail = 100
    deliver(app, WEBHOOK_MAX_ATTEMPTS=1)  # one failure, the others wait behind it
    url = f"/api/v1/webhooks/{hook['id']}/deliveries"
    log = ok(client.get(url, headers=bearer(admin)))["deliveries"]
    assert [d["state"] for d in log] == ["pending", "pending", "dead"]  # newest first
    dead = log[2]
    assert dead["event"] == "dossier.received" and dead["attempts"] == 1
    assert dead["last_status_code"] == 500 and dead["last_error"] == "http_500: upstream down"
    assert dead["error_code"] == "http" and dead["error_label"].startswith("Hệ thống nhận")
    assert dead["state_label"] == "Đã ngừng gửi" and dead["next_attempt_at"] is None
    assert dead["payload"]["state"] == "received" and dead["created_at"] and dead["last_attempt_at"]
    page = ok(client.get(url + "?limit=2", headers=bearer(admin)))
    assert len(page["deliveries"]) == 2 and page["next_before_id"] == log[1]["id"]
    rest = ok(client.get(url + f"?limit=2&before_id={page['next_before_id']}", headers=bearer(admin)))
    assert [d["id"] for d in rest["deliveries"]] == [dead["id"]] and rest["next_before_id"] is None
    only_dead = ok(client.get(url + "?state=dead", headers=bearer(admin)))["deliveries"]
    assert [d["id"] for d in only_dead] == [dead["id"]]
    assert_error(client.get(url + "?state=lost", headers=bearer(admin)), 422)

    receiver.fail = 0
    retried = ok(client.post(f"{url}/{dead['id']}/retry", headers=bearer(admin)), 202)
    assert retried["state"] == "failed" and retried["attempts"] == 1 and retried["next_attempt_at"]
    deliver(app, WEBHOOK_MAX_ATTEMPTS=1)
    states = {d["id"]: d["state"] for d in deliveries(app)}
    assert set(states.values()) == {"delivered"}
    got = ok(client.get(url, headers=bearer(admin)))["deliveries"][2]
    assert got["attempts"] == 2 and got["delivered_at"]
    assert got["last_error"] == "" and got["error_code"] is None
    hooks = ok(client.get("/api/v1/webhooks", headers=bearer(admin)))["webhooks"]
    assert hooks[0]["deliveries"] == {"delivered": 3}


def test_delete_deactivates_and_drops_waiting_deliveries(app, client, admin, receiver):
    hook = add_webhook(client, admin, receiver.url, ["dossier.received"])
    post_dossier(client, token_for(client, "clerk1"))
    gone = ok(client.delete(f"/api/v1/webhooks/{hook['id']}", headers=bearer(admin)))
    assert gone["active"] is False and gone["deactivated_at"] and gone["deliveries"] == {"dead": 1}
    assert ok(client.delete(f"/api/v1/webhooks/{hook['id']}", headers=bearer(admin)))["active"] is False
    [row] = deliveries(app)
    assert (row["state"], row["last_error"]) == ("dead", "webhook_inactive")
    assert deliver(app).ids == [] and receiver.requests == []
    post_dossier(client, token_for(client, "clerk1"))
    assert len(deliveries(app)) == 1  # an inactive webhook gets nothing new
    retry = client.post(f"/api/v1/webhooks/{hook['id']}/deliveries/{row['id']}/retry", headers=bearer(admin))
    assert_error(retry, 409, "webhook_inactive")
    log = ok(client.get(f"/api/v1/webhooks/{hook['id']}/deliveries", headers=bearer(admin)))["deliveries"]
    assert log[0]["error_label"] == "Webhook đã bị vô hiệu hoá; lần gửi bị huỷ."


def test_unknown_ids(app, client, admin, receiver):
    hook = add_webhook(client, admin, receiver.url, ["dossier.received"])
    other = add_webhook(client, admin, receiver.url, ["dossier.received"])
    post_dossier(client, token_for(client, "clerk1"))
    ids = {d["webhook_id"]: d["id"] for d in deliveries(app)}
    headers = bearer(admin)
    assert_error(client.delete("/api/v1/webhooks/999", headers=headers), 404, "webhook_not_found")
    assert_error(client.get("/api/v1/webhooks/99999999999/deliveries", headers=headers), 404)
    res = client.post(f"/api/v1/webhooks/{hook['id']}/deliveries/{ids[other['id']]}/retry", headers=headers)
    assert_error(res, 404, "delivery_not_found")



def test_subscribing_and_stopping_through_the_api_is_in_the_audit_log(app, client, admin):
    created = add_webhook(client, admin, "http://10.20.30.40:8080/motcua/hook", ["ticket.called"])
    ok(client.delete(f"/api/v1/webhooks/{created['id']}", headers=bearer(admin)))
    entries = ok(client.get("/api/v1/audit?entity=webhook", headers=bearer(admin)))["entries"]
    by_action = {e["action"]: e for e in entries}
    assert set(by_action) == {"create", "deactivate"}
    assert by_action["create"]["after"]["url"] == "http://10.20.30.40:8080/motcua/hook"
    assert by_action["deactivate"]["before"]["active"] is True
    assert by_action["deactivate"]["after"]["active"] is False
    assert all(e["entity_id"] == str(created["id"]) and e["actor_name"] for e in entries)
    assert created["secret"] not in str(entries)  # the signing secret never reaches the log
