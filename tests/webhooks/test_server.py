"""A real server (gunicorn, gevent worker, migrated SQLite) sends webhooks by itself: its
loop is woken by the commit that queued the delivery."""

from __future__ import annotations

import time

import requests

from tests.dossiers.conftest import APPLICANT_JSON, THREE_DAYS
from tests.livesrv import demo_server
from tests.webhooks.conftest import verify


def _token(base: str, username: str) -> dict[str, str]:
    res = requests.post(f"{base}/api/v1/auth/token", json={"username": username, "password": "demo"},
                        timeout=10)
    assert res.status_code == 201, res.text
    return {"Authorization": f"Bearer {res.json()['token']}"}


def test_the_server_delivers_right_after_the_commit(tmp_path, receiver):
    with demo_server(tmp_path, ONESTOP_WEBHOOK_ALLOW_LOOPBACK="1") as base:
        admin = _token(base, "admin")
        res = requests.post(f"{base}/api/v1/webhooks", headers=admin, timeout=10,
                            json={"url": receiver.url, "events": ["dossier.received", "ticket.called"]})
        assert res.status_code == 201, res.text
        secret = res.json()["secret"]
        body = {"procedure_code": THREE_DAYS, "applicant": dict(APPLICANT_JSON)}
        sent_at = time.monotonic()
        res = requests.post(f"{base}/api/v1/dossiers", json=body, headers=_token(base, "clerk1"), timeout=10)
        assert res.status_code == 201, res.text
        while not receiver.requests and time.monotonic() - sent_at < 5:
            time.sleep(0.01)
        assert receiver.requests, "the server did not deliver within 5 s"
        latency = time.monotonic() - sent_at
        [req] = receiver.requests
        assert verify(secret, req.headers, req.body)
        assert req.json["data"]["code"] == res.json()["code"]
        assert latency < 2  # woken by the commit, not by the 30 s poll
        # the receiver has the request before the server has read the answer and recorded it
        states: list[str] = []
        while states != ["delivered"] and time.monotonic() - sent_at < 5:
            log = requests.get(f"{base}/api/v1/webhooks/{1}/deliveries", headers=admin, timeout=10).json()
            states = [d["state"] for d in log["deliveries"]]
            time.sleep(0.02)
        assert states == ["delivered"]
