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

from typing import Any

import socketio

#: set on a message once published, so that the manager's own publish after the local
#: fan-out does not send it twice (never serialised: set after the publish)
_PUBLISHED = "onestop_published"
#: seconds to connect to Redis; the default is the system's, some two minutes for a host
#: that does not answer, and the request that emits waits for it
CONNECT_TIMEOUT_S = 2.0


class PublishFirst(socketio.RedisManager):  # type: ignore[misc]
    def __init__(self, url: str, channel: str) -> None:
        super().__init__(url, channel=channel,
                         redis_options={"socket_connect_timeout": CONNECT_TIMEOUT_S})
        self.queue_ok = True

    def _handle_emit(self, message: dict[str, Any]) -> None:
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


def client_manager(url: str | None, channel: str) -> dict[str, Any]:
    """The Socket.IO options for ``url``: this manager for Redis, the library's otherwise."""
    if not url:
        return {}
    if url.startswith(("redis://", "rediss://")):
        return {"client_manager": PublishFirst(url, channel=channel)}
    return {"message_queue": url, "channel": channel}
