"""Webhook deliveries against a real HTTP receiver: signed, only when subscribed, retried with
backoff, dead after the last attempt, never sent for a rolled-back change, never twice."""

from __future__ import annotations

import datetime as dt
import json
import ssl
import threading
from typing import Any

from onestop.db import utcnow
from onestop.dossiers.engine import change_state
from onestop.extensions import db
from onestop.queueing.engine import Actor
from onestop.webhooks.config import WebhookConfig
from onestop.webhooks.delivery import run_pass
from onestop.webhooks.engine import QUEUED, queue_event
from tests.api.helpers import act, in_db, issue, ok
from tests.conftest import bearer, token_for
from tests.dossiers.conftest import APPLICANT, APPLICANT_JSON, THREE_DAYS, receive
from tests.webhooks.conftest import add_webhook, deliver, deliveries, serve, verify

BACKOFF = (10, 30, 120, 600, 3600)


def post_dossier(client: Any, token: str) -> dict[str, Any]:
    body = {"procedure_code": THREE_DAYS, "applicant": dict(APPLICANT_JSON),
            "documents": [{"name": "Giấy đề nghị", "count": 1}]}
    return ok(client.post("/api/v1/dossiers", json=body, headers=bearer(token)), 201)


def test_dossier_received_is_delivered_once_and_signed(app, client, admin, receiver):
    hook = add_webhook(client, admin, receiver.url, ["dossier.received", "dossier.changed"])
    dossier = post_dossier(client, token_for(client, "clerk1"))
    [row] = deliveries(app)
    assert row["state"] == "pending" and row["event"] == "dossier.received"

    result = deliver(app)
    assert (result.delivered, result.failed) == (1, 0)
    assert deliver(app).ids == []  # nothing left to send
    [req] = receiver.requests
    assert req.path == "/hooks/onestop?src=test"
    assert req.headers["Content-Type"] == "application/json; charset=utf-8"
    assert req.headers["X-Onestop-Event"] == "dossier.received"
    assert req.headers["X-Onestop-Delivery"] == str(row["id"])
    assert req.headers["X-Onestop-Signature"].startswith("sha256=")
    assert verify(hook["secret"], req.headers, req.body)
    assert not verify("whsec_wrong", req.headers, req.body)
    assert not verify(hook["secret"], req.headers, req.body + b" ")
    late = int(req.headers["X-Onestop-Timestamp"]) + 301
    assert not verify(hook["secret"], req.headers, req.body, now=late)
    message = req.json
    assert set(message) == {"id", "event", "at", "unit", "data"}
    assert (message["id"], message["event"], message["unit"]) == (row["id"], "dossier.received", "H56.12.3")
    assert message["data"] == {"code": dossier["code"], "state": "received", "procedure_code": THREE_DAYS,
                               "appointment_at": dossier["appointment_at"], "at": dossier["received_at"]}
    text = req.body.decode()
    for personal in (APPLICANT.name, APPLICANT.id_number, APPLICANT.phone, APPLICANT.email,
                     APPLICANT.address):
        assert personal not in text
    [logged] = deliveries(app)
    assert (logged["state"], logged["attempts"], logged["last_status_code"]) == ("delivered", 1, 200)
    assert logged["next_attempt_at"] is None


def test_dossier_changed_carries_the_transition(app, client, admin, receiver):
    add_webhook(client, admin, receiver.url, ["dossier.changed"])
    clerk = token_for(client, "clerk1")
    code = post_dossier(client, clerk)["code"]
    ok(client.post(f"/api/v1/dossiers/{code}/status", json={"state": "processing"}, headers=bearer(clerk)))
    assert [d["event"] for d in deliveries(app)] == ["dossier.changed"]  # received: not subscribed
    deliver(app)
    data = receiver.requests[0].json["data"]
    assert (data["code"], data["state"], data["from_state"], data["action"]) == (
        code, "processing", "received", "state")


def test_an_event_not_subscribed_sends_nothing(app, client, admin, receiver):
    add_webhook(client, admin, receiver.url, ["ticket.called"])
    post_dossier(client, token_for(client, "clerk1"))
    assert deliveries(app) == []
    assert deliver(app).ids == [] and receiver.requests == []


def test_ticket_called_via_call_next(app, client, admin, receiver):
    hook = add_webhook(client, admin, receiver.url, ["ticket.called"])
    clerk = token_for(client, "clerk1")
    ok(act(client, clerk, 1, "open"))
    ticket = issue(client, clerk, 1)  # ticket.issued: not subscribed
    ok(act(client, clerk, 1, "call-next"))
    assert [d["event"] for d in deliveries(app)] == ["ticket.called"]
    deliver(app)
    [req] = receiver.requests
    assert verify(hook["secret"], req.headers, req.body)
    data = req.json["data"]
    assert data["ticket"] == {"id": ticket["id"], "label": ticket["label"], "service": ticket["service"],
                              "service_id": ticket["service_id"], "booked": False}
    assert data["counter"] == {"number": 1} and data["recall"] is False and data["at"]


def test_failing_receiver_is_retried_with_backoff_then_dead(app, client, admin, receiver):
    add_webhook(client, admin, receiver.url, ["dossier.received"])
    post_dossier(client, token_for(client, "clerk1"))
    receiver.fail = 100
    t = utcnow()
    for attempt in range(1, 7):
        result = deliver(app, now=t)
        [row] = deliveries(app)
        assert row["attempts"] == attempt and row["last_status_code"] == 500
        assert row["last_error"] == "http_500: upstream down"
        if attempt < 6:
            assert result.failed == 1 and row["state"] == "failed"
            wait = BACKOFF[attempt - 1]
            assert row["next_attempt_at"] == t + dt.timedelta(seconds=wait)
            assert deliver(app, now=t + dt.timedelta(seconds=wait - 1)).ids == []  # not yet due
            t += dt.timedelta(seconds=wait)
        else:
            assert result.dead == 1 and row["state"] == "dead" and row["next_attempt_at"] is None
    assert deliver(app, now=t + dt.timedelta(days=1)).ids == []  # gave up
    assert len(receiver.requests) == 6
    assert len(set(receiver.ids())) == 1  # the same delivery id on every attempt
    assert len({r.headers["X-Onestop-Timestamp"] for r in receiver.requests}) == 6


def test_a_receiver_that_recovers_gets_the_delivery(app, client, admin, receiver):
    add_webhook(client, admin, receiver.url, ["dossier.received"])
    post_dossier(client, token_for(client, "clerk1"))
    receiver.fail = 2
    t = utcnow()
    states = []
    for wait in (0, 10, 30):
        t += dt.timedelta(seconds=wait)
        deliver(app, now=t)
        states.append(deliveries(app)[0]["state"])
    assert states == ["failed", "failed", "delivered"] and len(receiver.requests) == 3


def test_backoff_and_attempts_are_configurable(app, client, admin, receiver):
    add_webhook(client, admin, receiver.url, ["dossier.received"])
    post_dossier(client, token_for(client, "clerk1"))
    receiver.fail = 100
    t = utcnow()
    settings = {"WEBHOOK_BACKOFF_S": "1,2", "WEBHOOK_MAX_ATTEMPTS": "3"}
    deliver(app, now=t, **settings)
    assert deliveries(app)[0]["next_attempt_at"] == t + dt.timedelta(seconds=1)
    deliver(app, now=t + dt.timedelta(seconds=1), **settings)
    assert deliveries(app)[0]["next_attempt_at"] == t + dt.timedelta(seconds=3)
    deliver(app, now=t + dt.timedelta(seconds=3), **settings)
    assert deliveries(app)[0]["state"] == "dead" and len(receiver.requests) == 3


def test_unreachable_receiver_and_the_rest_of_its_queue(app, client, admin, receiver):
    """A receiver that is down costs one attempt per pass; its other deliveries wait."""
    from tests.conftest import free_port

    add_webhook(client, admin, f"http://127.0.0.1:{free_port()}/down", ["dossier.received"])
    clerk = token_for(client, "clerk1")
    for _ in range(3):
        post_dossier(client, clerk)
    result = deliver(app)
    assert (result.failed, result.skipped) == (1, 2)
    rows = deliveries(app)
    assert rows[0]["last_error"] == "connection_refused" and rows[0]["last_status_code"] is None
    assert [r["state"] for r in rows] == ["failed", "pending", "pending"]


def test_rolled_back_change_queues_nothing(app, client, admin, receiver):
    add_webhook(client, admin, receiver.url, ["dossier.received", "dossier.changed"])
    now = utcnow()
    with app.app_context():
        session = db.session()
        dossier = receive(session, now)
        change_state(session, dossier, "processing", actor=Actor(user_id=3), now=now)
        session.flush()
        assert len(session.new) == 0  # flushed: two delivery rows are in the transaction
        assert session.info.get(QUEUED) is True
        session.rollback()
        assert QUEUED not in session.info
    assert deliveries(app) == []
    assert deliver(app).ids == [] and receiver.requests == []
    # a refused API action (invalid transition) queues nothing either
    clerk = token_for(client, "clerk1")
    code = post_dossier(client, clerk)["code"]
    res = client.post(f"/api/v1/dossiers/{code}/status", json={"state": "returned"}, headers=bearer(clerk))
    assert res.status_code == 409
    assert [d["event"] for d in deliveries(app)] == ["dossier.received"]


def test_committed_change_is_queued_in_the_same_transaction(app, client, admin, receiver):
    add_webhook(client, admin, receiver.url, ["dossier.received"])
    with in_db(app) as session:
        dossier = receive(session, utcnow())
        code = dossier.code
    [row] = deliveries(app)
    assert row["payload"]["code"] == code


def test_loopback_is_blocked_at_send_time_without_the_setting(app, client, admin, receiver):
    add_webhook(client, admin, receiver.url, ["dossier.received"])
    post_dossier(client, token_for(client, "clerk1"))
    result = deliver(app, WEBHOOK_ALLOW_LOOPBACK=False)
    assert result.failed == 1 and receiver.requests == []
    assert deliveries(app)[0]["last_error"] == "blocked_address: loopback 127.0.0.1"


def test_two_concurrent_passes_never_send_a_delivery_twice(app, client, admin, receiver):
    hooks = [add_webhook(client, admin, receiver.url, ["ticket.issued"]) for _ in range(3)]
    with in_db(app) as session:
        for i in range(15):
            queue_event(session, 1, "ticket.issued", {"n": i}, now=utcnow())
    receiver.delay = 0.01
    config = WebhookConfig.of(app.config)
    now = utcnow()
    barrier = threading.Barrier(3)
    results: list[Any] = []

    def run() -> None:
        barrier.wait()
        results.append(run_pass(db.session_factory, config, now))

    threads = [threading.Thread(target=run) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    sent = receiver.ids()
    assert len(sent) == 45 == len(set(sent))
    assert sum(r.delivered for r in results) == 45
    assert {d["state"] for d in deliveries(app)} == {"delivered"}
    assert {int(json.loads(r.body)["id"]) for r in receiver.requests} == set(sent)
    assert len(hooks) == 3


def test_https_with_an_internal_ca(app, client, admin, self_signed):
    cert, key = self_signed
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(cert, key)
    with serve(tls, host="localhost") as https:
        hook = add_webhook(client, admin, https.url, ["dossier.received"])
        post_dossier(client, token_for(client, "clerk1"))
        assert deliver(app).failed == 1  # the system store does not know our CA
        assert deliveries(app)[0]["last_error"].startswith("tls_error: ")
        result = deliver(app, now=utcnow() + dt.timedelta(seconds=10), WEBHOOK_CA_FILE=str(cert))
        assert result.delivered == 1
        [req] = https.requests
        assert req.headers["Host"].startswith("localhost:") and verify(hook["secret"], req.headers, req.body)
