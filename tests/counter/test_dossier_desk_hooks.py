"""dossier.ready, dossier.supplement_requested and dossier.returned: blinker signals, and
webhook events delivered (signed, after commit, no personal data) to a real HTTP receiver."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from onestop import signals
from tests.api.helpers import ok
from tests.conftest import bearer, demo_app, token_for
from tests.counter.conftest import NAME, receive
from tests.webhooks.conftest import Receiver, add_webhook, deliver, deliveries, serve, verify

EVENTS = ["dossier.ready", "dossier.supplement_requested", "dossier.returned"]


@pytest.fixture
def app(tmp_path: Path) -> Iterator[Any]:
    with demo_app(tmp_path, WEBHOOK_ALLOW_LOOPBACK=True) as application:
        yield application


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with serve() as rec:
        yield rec


def status(client: Any, token: str, code: str, **body: Any) -> dict[str, Any]:
    return ok(client.post(f"/api/v1/dossiers/{code}/status", json=body, headers=bearer(token)))


def test_the_three_events_are_signals_and_webhooks(app, client, receiver):
    hook = add_webhook(client, token_for(client, "admin"), receiver.url, EVENTS)
    clerk = token_for(client, "clerk1")
    code = receive(client, clerk)["code"]
    heard: list[tuple[str, str, dict[str, Any]]] = []

    def listen(name: str) -> Any:
        def receiver_(_session: Any, dossier: Any, from_state: str, details: dict[str, Any]) -> None:
            heard.append((name, dossier.code, details))
        return receiver_

    listeners = [(signals.dossier_supplement_requested, listen("supplement")),
                 (signals.dossier_ready, listen("ready")), (signals.dossier_returned, listen("returned"))]
    for signal, fn in listeners:
        signal.connect(fn)
    try:
        status(client, clerk, code, state="processing")  # no event of the three
        assert deliveries(app) == []
        status(client, clerk, code, state="supplement_requested", missing=["Bản sao CCCD"],
               note="Thiếu giấy tờ")
        status(client, clerk, code, state="processing")
        status(client, clerk, code, state="ready", place="Quầy số 3")
        status(client, clerk, code, state="returned", collected_by={
            "name": "Lê Văn Cường", "id_number": "001090012345", "authorisation": "Giấy ủy quyền số 12"})
    finally:
        for signal, fn in listeners:
            signal.disconnect(fn)
    assert [(name, c) for name, c, _ in heard] == [("supplement", code), ("ready", code), ("returned", code)]
    assert heard[2][2]["collected_by"]["name"] == "Lê Văn Cường"

    assert [d["event"] for d in deliveries(app)] == EVENTS[1:2] + EVENTS[:1] + EVENTS[2:]
    result = deliver(app)
    assert (result.delivered, result.failed) == (3, 0)
    sent = {r.headers["X-Onestop-Event"]: r for r in receiver.requests}
    assert set(sent) == set(EVENTS)
    assert all(verify(hook["secret"], r.headers, r.body) for r in receiver.requests)
    data = {event: r.json["data"] for event, r in sent.items()}
    assert data["dossier.supplement_requested"]["missing"] == ["Bản sao CCCD"]
    assert data["dossier.supplement_requested"]["reason"] == "Thiếu giấy tờ"
    assert (data["dossier.ready"]["state"], data["dossier.ready"]["pickup_place"]) == ("ready", "Quầy số 3")
    returned = data["dossier.returned"]
    assert (returned["state"], returned["by_applicant"]) == ("returned", False)
    assert {d["code"] for d in data.values()} == {code}
    body = b"".join(r.body for r in receiver.requests).decode()
    for personal in (NAME, "001203004005", "0912345678", "Lê Văn Cường", "001090012345"):
        assert personal not in body


def test_a_refused_change_sends_nothing(app, client, receiver):
    add_webhook(client, token_for(client, "admin"), receiver.url, EVENTS)
    clerk = token_for(client, "clerk1")
    code = receive(client, clerk)["code"]
    res = client.post(f"/api/v1/dossiers/{code}/status", json={"state": "ready"}, headers=bearer(clerk))
    assert res.status_code == 409  # received -> ready is not in the state table
    assert deliveries(app) == [] and deliver(app).ids == []
