"""One Socket.IO client cannot stop the hall: a packet budget per connection, no client
events on public namespaces, and a read loop that lets the other greenlets run.

Measured on one gevent worker before this guard (issue 18): one anonymous ``/display``
websocket writing events as fast as it could held ``/healthz`` for 20 s, and a flood of
connect/disconnect packets (each connect ran the display snapshot query) held it past 30 s
until gunicorn killed the worker, dropping every display and counter.

Engine.IO reads a websocket in a loop that never yields while the client's bytes are
buffered, and spawns a greenlet per message. The guard wraps each engine.io socket's
``receive`` (both transports pass every packet through it) so that:

- a connection sending more than ``budget`` packets a second (a burst of twice that
  allowed) is closed (``over_budget``);
- an event sent to a public namespace (``/display``: read-only, it accepts nothing) is
  dropped before any greenlet or Flask context is made (``dropped_event``);
- after each packet the reader yields, so a busy client shares the loop with the others.

A display reconnecting to ``/display`` on the same engine.io session within
``SNAPSHOT_REUSE_S`` gets the snapshot it got moments ago (``snapshot_reused``) instead of a
new query: a connect/disconnect loop costs no query per packet.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from engineio import exceptions as eio_exceptions
from engineio import packet as eio_packet

log = logging.getLogger(__name__)

PUBLIC_NAMESPACES = ("/display",)
SNAPSHOT_REUSE_S = 2.0
#: what the guard did in this process (``onestop_socket_guard_total{action}`` in /metrics)
TOTALS = {"dropped_event": 0, "over_budget": 0, "snapshot_reused": 0}
_SNAPSHOTS = "onestop.display_snapshots"  # engine.io session's environ: key -> (at, snapshot)


class PacketBudget:
    """A token bucket: ``rate`` packets a second, bursts up to ``2 * rate``."""

    __slots__ = ("rate", "tokens", "at")

    def __init__(self, rate: float, now: float) -> None:
        self.rate = rate
        self.tokens = 2.0 * rate
        self.at = now

    def take(self, now: float) -> bool:
        self.tokens = min(2.0 * self.rate, self.tokens + (now - self.at) * self.rate)
        self.at = now
        if self.tokens < 1.0:
            return False
        self.tokens -= 1.0
        return True


def public_event(data: Any) -> bool:
    """Is this Socket.IO packet (engine.io MESSAGE data) an event or a binary event sent to
    a public namespace? Cheap: the packet type and the namespace are at its start
    (``2/display,[...]``, ``51-/display,[...]``)."""
    if not isinstance(data, str) or not data or data[0] not in "25":
        return False
    rest = data[1:]
    if data[0] == "5":  # the number of attachments, then "-"
        dash = rest.find("-")
        if dash > 0 and rest[:dash].isdigit():
            rest = rest[dash + 1:]
    if not rest.startswith("/"):
        return "/" in PUBLIC_NAMESPACES  # the main namespace
    comma = rest.find(",")
    return (rest[:comma] if comma >= 0 else rest) in PUBLIC_NAMESPACES


class SocketGuard:
    """Installed on one Socket.IO server (``install``)."""

    def __init__(self, sio: Any, budget: float) -> None:
        self.sio = sio
        self.eio = sio.eio
        self.budget = budget

    @classmethod
    def install(cls, sio: Any, budget: float) -> SocketGuard:
        """Wrap every engine.io socket's ``receive`` as it is created (the engine.io
        ``connect`` event runs right after, synchronously)."""
        eio = sio.eio
        guard = cls(sio, budget)
        on_connect = eio.handlers["connect"]

        def connect(eio_sid: str, environ: dict[str, Any], *args: Any) -> Any:
            eio_socket = eio.sockets.get(eio_sid)
            if eio_socket is not None:
                guard.watch(eio_socket)
            return on_connect(eio_sid, environ, *args)

        eio.handlers["connect"] = connect
        return guard

    def watch(self, eio_socket: Any) -> None:
        receive = eio_socket.receive
        budget = PacketBudget(self.budget, time.monotonic()) if self.budget > 0 else None
        sleep = self.eio.sleep

        def guarded(pkt: Any) -> None:
            if budget is not None and not budget.take(time.monotonic()):
                self._over_budget(eio_socket)
            if pkt.packet_type == eio_packet.MESSAGE and public_event(pkt.data):
                TOTALS["dropped_event"] += 1
            else:
                receive(pkt)
            sleep(0)  # let the other clients' greenlets run between two packets

        eio_socket.receive = guarded

    def _over_budget(self, eio_socket: Any) -> None:
        TOTALS["over_budget"] += 1
        environ = self.sio.environ.get(eio_socket.sid) or {}
        log.warning("socket.io client %s sent more than %s packets a second: disconnected",
                    environ.get("REMOTE_ADDR", "?"), self.budget)
        eio_socket.close(wait=False, abort=True, reason=self.eio.reason.SERVER_DISCONNECT)
        raise eio_exceptions.SocketIsClosedError()


def session_snapshot(environ: dict[str, Any], key: Any, compute: Callable[[], dict[str, Any]],
                     now: float | None = None) -> dict[str, Any]:
    """The ``/display`` snapshot for ``key`` (unit, zones), reused when the same engine.io
    session (``environ``) connected within ``SNAPSHOT_REUSE_S``: a repeated namespace
    connect does not run the query again. A new session (a real reconnect) always queries."""
    now = time.monotonic() if now is None else now
    cache: dict[Any, tuple[float, dict[str, Any]]] = environ.setdefault(_SNAPSHOTS, {})
    hit = cache.get(key)
    if hit is not None and now - hit[0] < SNAPSHOT_REUSE_S:
        TOTALS["snapshot_reused"] += 1
        return dict(hit[1])
    snapshot = compute()
    cache.clear()  # one entry: a session watches one unit and zones
    cache[key] = (now, dict(snapshot))
    return snapshot
