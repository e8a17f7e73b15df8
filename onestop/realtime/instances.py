"""Several instances, one hall: the message queue tells the other instances first.

python-socketio's Redis manager, on an emit, first sends the event to this instance's own
clients, then publishes it for the others. A call's ``ticket.called`` to 1,000 displays
takes this instance some 24 ms of CPU, so every display on the other instances heard the
call at least that much later than the ones here (``bench/scaleout.py``: 47 ms p50 at
instance B against 25 ms at A, where the call was made).

``PublishFirst`` publishes first and fans out here after, so the instances send at the same
time. While the queue fails (the last publish gave up), it keeps the library's order: this
instance's own displays must not wait on a Redis that does not answer. An event with an
acknowledgement callback (none of onestop's) also keeps the library's order.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from typing import Any

import socketio

log = logging.getLogger(__name__)

#: set on a message once published, so that the manager's own publish after the local
#: fan-out does not send it twice (never serialised: set after the publish)
_PUBLISHED = "onestop_published"
#: seconds to connect to Redis; the default is the system's, some two minutes for a host
#: that does not answer, and the request that emits waits for it
CONNECT_TIMEOUT_S = 2.0
#: longest pause between two tries to listen again after the queue failed (the library
#: doubles its pause up to 60 s: displays would go a minute without the other instances'
#: calls after Redis came back)
LISTEN_RETRY_MAX_S = 1.0
#: a message that closes every socket of a room on every instance (sent as the library's
#: close_room, which each instance handles; older instances just empty the room)
_DISCONNECT = "onestop_disconnect"
#: the emits of one transaction in one message on the queue (``PublishFirst.emit_many``)
_BATCH = "onestop_batch"


class PublishFirst(socketio.RedisManager):  # type: ignore[misc]
    def __init__(self, url: str, channel: str) -> None:
        super().__init__(url, channel=channel,
                         redis_options={"socket_connect_timeout": CONNECT_TIMEOUT_S})
        self.queue_ok = True
        self.recovered: list[Callable[[], None]] = []

    def emit_many(self, items: list[tuple[str, dict[str, Any], str, list[str]]]) -> None:
        """The events of one transaction, ``(event, payload, namespace, rooms)`` in order:
        one message on the queue for all of them, then each sent to this instance's clients.

        Each emit is otherwise its own publish (a round trip to Redis) and its own message
        for every instance to read and decode, this one included (Redis sends a channel's
        messages to every subscriber, the publisher too). A ticket issued or called emits
        two to four events; with two instances that was most of the CPU the second instance
        added to each request (docs/postgres-performance.md). An instance of an older
        version cannot read the batch: it logs it and drops it (a rolling upgrade's
        displays on that instance miss those events until their next refresh)."""
        messages = [{"method": "emit", "event": event, "data": [payload], "binary": False,
                     "namespace": namespace or "/", "room": rooms, "skip_sid": None,
                     "callback": None, "host_id": self.host_id}
                    for event, payload, namespace, rooms in items]
        batch = {"method": "emit", _BATCH: messages, "callback": None, "host_id": self.host_id}
        if self.queue_ok:  # the others first, as for a single emit
            self._publish(batch)
            for message in messages:
                super()._handle_emit(message)
        else:  # the queue fails: this instance's clients do not wait for it
            for message in messages:
                super()._handle_emit(message)
            self._publish(batch)

    def _handle_emit(self, message: dict[str, Any]) -> None:
        batch = message.get(_BATCH)
        if batch is not None:  # another instance's transaction: its events, in order
            for item in batch:
                super()._handle_emit(item)
            return
        # messages from other instances never carry this host's id (the listener drops
        # this host's own), so this is an emit made here
        if (self.queue_ok and message.get("host_id") == self.host_id
                and message.get("callback") is None):
            self._publish(message)
            message[_PUBLISHED] = True  # published, or given up on as the library does
        super()._handle_emit(message)

    def _publish(self, data: dict[str, Any]) -> Any:
        if data.pop(_PUBLISHED, False):
            return None
        result = super()._publish(data)  # None once it gave up (it logs why)
        self.queue_ok = result is not None
        return result

    # -- closing a room's sockets everywhere (a disabled user, a revoked token or device) --

    def disconnect_room(self, namespace: str, room: str) -> None:
        """Close the sockets in ``room`` here, and tell the other instances to close theirs."""
        disconnect_local(self.server, namespace, room)
        self._publish({"method": "close_room", "room": room, "namespace": namespace,
                       "host_id": self.host_id, _DISCONNECT: True})

    def _handle_close_room(self, message: dict[str, Any]) -> None:
        if message.get(_DISCONNECT):
            disconnect_local(self.server, message.get("namespace") or "/", message.get("room"))
            return
        super()._handle_close_room(message)

    # -- the queue came back: what this instance's clients missed meanwhile --

    def _redis_listen_with_retries(self) -> Iterator[Any]:
        """The library's listening loop, with a short pause between tries and the
        ``recovered`` hooks run once listening works again after a failure: a call made on
        another instance during the outage never reached this instance's displays."""
        pause, subscribed, failed = 0.25, False, False
        while True:
            try:
                if not subscribed:
                    self._redis_connect()
                    self.pubsub.subscribe(self.channel)
                    subscribed, pause = True, 0.25
                    if failed:
                        failed = False
                        self._recovered()
                yield from self.pubsub.listen()
            except Exception as exc:  # noqa: BLE001 - any failure: listen again
                log.warning("message queue: cannot listen (%s); retrying in %.2f s", exc, pause)
                subscribed, failed = False, True
                time.sleep(pause)
                pause = min(pause * 2, LISTEN_RETRY_MAX_S)

    def _recovered(self) -> None:
        log.info("message queue: listening again; resynchronising this instance's clients")
        for hook in list(self.recovered):
            self.server.start_background_task(hook)


def disconnect_local(server: Any, namespace: str, room: str | None) -> None:
    """Close the sockets of ``room`` connected to this instance."""
    if server is None or room is None:
        return
    for sid, _eio_sid in list(server.manager.get_participants(namespace, room)):
        server.disconnect(sid, namespace=namespace, ignore_queue=True)


def disconnect_room(server: Any, namespace: str, room: str) -> None:
    """Close every socket in ``room``: on every instance through the Redis queue, here only
    without one (one instance; the kombu queues have no such message)."""
    if server is None:
        return
    if isinstance(server.manager, PublishFirst):
        server.manager.disconnect_room(namespace, room)
    else:
        disconnect_local(server, namespace, room)


def emit_all(server: Any, items: list[tuple[str, dict[str, Any], str, list[str]]]) -> None:
    """Emit ``items`` in order: in one message on the queue when there are several and the
    queue is Redis (``PublishFirst.emit_many``), else each as its own emit. A failure is
    logged, never raised: the request that emits has committed."""
    manager = getattr(server, "manager", None)
    if isinstance(manager, PublishFirst) and len(items) > 1:
        try:
            manager.emit_many(items)
        except Exception:  # noqa: BLE001 - a broken queue must not fail a committed request
            log.exception("could not emit %s", ", ".join(item[0] for item in items))
        return
    for event, payload, namespace, rooms in items:
        try:
            server.emit(event, payload, namespace=namespace, to=rooms)
        except Exception:  # noqa: BLE001 - as above, and the next events still go
            log.exception("could not emit %s", event)


def on_recovered(server: Any, hook: Callable[[], None]) -> None:
    """Run ``hook`` (in a background task) each time this instance listens to the queue
    again after it failed. Nothing happens without a Redis queue."""
    manager = getattr(server, "manager", None)
    if isinstance(manager, PublishFirst):
        manager.recovered.append(hook)


def client_manager(url: str | None, channel: str) -> dict[str, Any]:
    """The Socket.IO options for ``url``: this manager for Redis, the library's otherwise."""
    if not url:
        return {}
    if url.startswith(("redis://", "rediss://")):
        return {"client_manager": PublishFirst(url, channel=channel)}
    return {"message_queue": url, "channel": channel}
