"""Scale-out (onestop/realtime/instances.py): the other instances hear an emit before this
one fans it out, and hear it once. Real Redis; the probe only looks at what another
instance's subscription holds when this instance starts sending to its own clients."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
import redis
import socketio
from socketio import Manager

from onestop.realtime.instances import PublishFirst
from tests.conftest import free_port


@pytest.fixture
def other_instance(redis_url: str) -> Iterator[SimpleNamespace]:
    """A subscription to a fresh channel: what another instance would receive."""
    channel = f"onestop-test-{uuid.uuid4().hex}"
    sub = redis.Redis.from_url(redis_url).pubsub()
    sub.subscribe(channel)
    confirmed = sub.get_message(timeout=5)  # the subscription is in place once confirmed
    assert confirmed is not None and confirmed["type"] == "subscribe"
    yield SimpleNamespace(channel=channel, sub=sub)
    sub.close()


def _probe_fan_out(monkeypatch: pytest.MonkeyPatch, sub: Any) -> list[Any]:
    """Record what the other instance holds at the moment the local fan-out starts."""
    held: list[Any] = []
    fan_out = Manager.emit

    def probe(self: Any, event: str, data: Any, *args: Any, **kwargs: Any) -> Any:
        held.append(sub.get_message(timeout=2))
        return fan_out(self, event, data, *args, **kwargs)

    monkeypatch.setattr(Manager, "emit", probe)
    return held


def test_the_other_instances_hear_a_call_before_this_one_fans_it_out(
        redis_url: str, other_instance: SimpleNamespace, monkeypatch: pytest.MonkeyPatch) -> None:
    manager = PublishFirst(redis_url, channel=other_instance.channel)
    server = socketio.Server(client_manager=manager, async_mode="threading")
    held = _probe_fan_out(monkeypatch, other_instance.sub)

    server.emit("ticket.called", {"ticket": {"label": "A001"}}, namespace="/display",
                room="unit-1")

    assert len(held) == 1, "the local fan-out ran once"
    assert held[0] is not None, "the other instance had nothing when this one began sending"
    message = json.loads(held[0]["data"])
    assert (message["event"], message["data"], message["room"]) == (
        "ticket.called", [{"ticket": {"label": "A001"}}], "unit-1")
    assert other_instance.sub.get_message(timeout=0.5) is None, "published twice"


def test_the_library_manager_publishes_only_after_its_own_fan_out(
        redis_url: str, other_instance: SimpleNamespace, monkeypatch: pytest.MonkeyPatch) -> None:
    """What the class above changes, so that the test above can fail."""
    manager = socketio.RedisManager(redis_url, channel=other_instance.channel)
    server = socketio.Server(client_manager=manager, async_mode="threading")
    held = _probe_fan_out(monkeypatch, other_instance.sub)
    server.emit("ticket.called", {"n": 1}, namespace="/display", room="unit-1")
    assert held == [None]
    assert other_instance.sub.get_message(timeout=2) is not None


def test_while_the_queue_fails_this_instance_sends_to_its_own_displays_first(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Nothing listens on the port: each publish gives up (as the library does, after a
    retry), and from then on this instance's displays are not kept waiting for it."""
    manager = PublishFirst(f"redis://127.0.0.1:{free_port()}/0", channel="onestop-test-dead")
    server = socketio.Server(client_manager=manager, async_mode="threading")
    order: list[str] = []
    fan_out, publish = Manager.emit, socketio.RedisManager._publish

    def probe_fan_out(self: Any, event: str, data: Any, *args: Any, **kwargs: Any) -> Any:
        order.append(f"fan-out {data['n']}")
        return fan_out(self, event, data, *args, **kwargs)

    def probe_publish(self: Any, data: dict[str, Any]) -> Any:
        order.append(f"publish {data['data'][0]['n']}")
        return publish(self, data)

    monkeypatch.setattr(Manager, "emit", probe_fan_out)
    monkeypatch.setattr(socketio.RedisManager, "_publish", probe_publish)
    for n in (1, 2):
        server.emit("ticket.called", {"n": n}, namespace="/display", room="unit-1")

    assert order == ["publish 1", "fan-out 1", "fan-out 2", "publish 2"]
    assert manager.queue_ok is False


def test_a_transactions_events_cross_the_queue_in_one_message_and_in_order(
        redis_url: str, other_instance: SimpleNamespace, monkeypatch: pytest.MonkeyPatch) -> None:
    """A call emits several events; with two instances each was a publish of its own (a
    round trip to Redis) and a message for every instance to decode."""
    from onestop.realtime.instances import emit_all

    manager = PublishFirst(redis_url, channel=other_instance.channel)
    server = socketio.Server(client_manager=manager, async_mode="threading")
    sent: list[tuple[str, Any, Any]] = []
    monkeypatch.setattr(Manager, "emit", lambda self, event, data, namespace=None, room=None, **kw:
                        sent.append((event, data, namespace)))
    items = [("ticket.called", {"label": "A001"}, "/display", ["unit-1"]),
             ("counter.changed", {"number": 3}, "/display", ["unit-1", "zone-1-A"]),
             ("queue.changed", {"waiting": 4}, "/counter", ["unit-1"])]

    emit_all(server, items)

    expected = [(event, payload, namespace) for event, payload, namespace, _rooms in items]
    assert sent == expected, "this instance's clients got each event, in order"
    raw = other_instance.sub.get_message(timeout=2)
    assert raw is not None and other_instance.sub.get_message(timeout=0.5) is None, "one message"
    # another instance reads that one message: its clients get the same events, in order
    other = PublishFirst(redis_url, channel=f"{other_instance.channel}-b")
    socketio.Server(client_manager=other, async_mode="threading")
    sent.clear()
    other._handle_emit(json.loads(raw["data"]))
    assert sent == expected
