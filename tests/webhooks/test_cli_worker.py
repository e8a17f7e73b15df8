"""`onestop webhooks add | list | deliver`, and the server's delivery loop woken by a commit."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

from click.testing import CliRunner
from sqlalchemy.orm import Session

from onestop import demo
from onestop.cli import main
from onestop.db import make_engine, utcnow
from onestop.extensions import db
from onestop.webhooks import subscriber, wakeup, worker
from onestop.webhooks.config import WebhookConfig
from tests.conftest import bearer, create_schema, token_for
from tests.dossiers.conftest import receive
from tests.webhooks.conftest import add_webhook, deliveries, verify
from tests.webhooks.test_delivery import post_dossier


def run(*args: str) -> Any:
    return CliRunner().invoke(main, list(args))


def test_cli_add_list_deliver(tmp_path, monkeypatch, receiver):
    monkeypatch.setenv("ONESTOP_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("ONESTOP_DATABASE_URL", raising=False)
    url = f"sqlite:///{tmp_path / 'onestop.sqlite3'}"
    create_schema(url)
    engine = make_engine(url)
    with Session(engine) as session:
        demo.load(session)
        session.commit()

    refused = run("webhooks", "add", "--url", receiver.url, "--events", "dossier.received")
    assert refused.exit_code != 0 and "invalid_webhook_url reason=loopback" in refused.output
    monkeypatch.setenv("ONESTOP_WEBHOOK_ALLOW_LOOPBACK", "1")
    bad = run("webhooks", "add", "--url", receiver.url, "--events", "dossier.received,ticket.eaten")
    assert bad.exit_code != 0 and "invalid_webhook_events" in bad.output
    added = run("webhooks", "add", "--url", receiver.url, "--events", "dossier.received, ticket.called",
                "--json")
    assert added.exit_code == 0, added.output
    hook = json.loads(added.output)
    assert hook["events"] == ["ticket.called", "dossier.received"] and hook["secret"].startswith("whsec_")
    own = run("webhooks", "add", "--url", receiver.url, "--events", "ticket.called",
              "--secret", "a-secret-of-our-own-1234")
    assert own.exit_code == 0 and "a-secret-of-our-own-1234" in own.output
    assert "invalid_webhook_secret" in run("webhooks", "add", "--url", receiver.url, "--events",
                                           "ticket.called", "--secret", "short").output

    subscriber.connect()  # the signal receivers (create_app connects them in a server)
    with Session(engine) as session:
        receive(session, utcnow())
        session.commit()
    sent = run("webhooks", "deliver")
    assert sent.exit_code == 0 and sent.output.strip() == "delivered 1, failed 0, dead 0, skipped 0"
    [req] = receiver.requests
    assert verify(hook["secret"], req.headers, req.body)
    listed = run("webhooks", "list")
    assert listed.exit_code == 0
    assert f"{hook['id']}\tH56.12.3\tactive\t{receiver.url}" in listed.output
    assert "delivered=1" in listed.output
    assert hook["secret"] not in listed.output and "a-secret-of-our-own" not in listed.output
    engine.dispose()


def test_the_loop_sends_right_after_the_commit(app, client, admin, receiver, monkeypatch):
    add_webhook(client, admin, receiver.url, ["dossier.received"])
    config = WebhookConfig.of({**app.config, "WEBHOOK_POLL_S": 60})
    wake, stop = threading.Event(), threading.Event()
    monkeypatch.setitem(worker._state, "event", wake)
    thread = threading.Thread(target=worker.loop, args=(db.session_factory, config, wake, stop), daemon=True)
    thread.start()
    try:
        time.sleep(0.2)  # the loop's first pass found nothing; it sleeps for a minute now
        post_dossier(client, token_for(client, "clerk1"))  # the commit wakes it
        deadline = time.monotonic() + 5
        while not receiver.requests and time.monotonic() < deadline:
            time.sleep(0.02)
        assert len(receiver.requests) == 1
        assert receiver.requests[0].headers["X-Onestop-Event"] == "dossier.received"
    finally:
        stop.set()
        wake.set()
        thread.join(timeout=5)
    assert not thread.is_alive()
    assert [d["state"] for d in deliveries(app)] == ["delivered"]


def test_worker_is_not_started_under_testing(app):
    assert worker.start(app) is False


def test_retry_through_the_api_wakes_the_loop(app, client, admin, receiver, monkeypatch):
    hook = add_webhook(client, admin, receiver.url, ["dossier.received"])
    post_dossier(client, token_for(client, "clerk1"))
    [row] = deliveries(app)
    woken = []
    monkeypatch.setattr(wakeup, "wake", lambda: woken.append(True))
    res = client.post(f"/api/v1/webhooks/{hook['id']}/deliveries/{row['id']}/retry", headers=bearer(admin))
    assert res.status_code == 202 and woken == [True]
