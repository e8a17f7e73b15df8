"""Which browser tab drives a counter: a short lease per (clerk, counter).

A clerk may open the workstation twice (a second tab, a second PC). Both would work, and
the engine keeps the queue consistent, but two live screens at one desk confuse: numbers
called from one appear in the other, a half-filled intake form is lost. So one tab holds
the lease and the others show the counter read-only, with a button to take over.

A tab is named by a random id it keeps in ``sessionStorage`` (so a reload keeps the
lease). The holder renews the lease every few seconds; a lease not renewed for ``TTL``
seconds lapses, so a closed or crashed tab frees the counter by itself. Other tabs of
the same browser hear of a take-over at once over a ``BroadcastChannel``; tabs elsewhere
on their next renewal.

The store is the Redis server of ``MESSAGE_QUEUE_URL`` when one is configured (several
instances share it), else this process's memory (the embedded single-instance setup).
It is a hint for the screens, not a permission: the API still decides who may act.
"""

from __future__ import annotations

import threading
import time
from typing import Any, Protocol

TTL = 30  # seconds; tabs renew every 10
MAX_LEASES = 1000


class Store(Protocol):
    def claim(self, key: str, tab: str, take: bool) -> bool: ...

    def release(self, key: str, tab: str) -> None: ...


class MemoryStore:
    """Leases in this process (one gunicorn worker serves everything by default)."""

    def __init__(self, ttl: float = TTL) -> None:
        self.ttl = ttl
        self._lock = threading.Lock()
        self._leases: dict[str, tuple[str, float]] = {}

    def claim(self, key: str, tab: str, take: bool) -> bool:
        now = time.monotonic()
        with self._lock:
            if len(self._leases) > MAX_LEASES:  # lapsed leases of tabs long closed
                self._leases = {k: v for k, v in self._leases.items() if v[1] > now}
            holder, until = self._leases.get(key, ("", 0.0))
            if take or not holder or holder == tab or until <= now:
                self._leases[key] = (tab, now + self.ttl)
                return True
            return False

    def release(self, key: str, tab: str) -> None:
        with self._lock:
            if self._leases.get(key, ("", 0.0))[0] == tab:
                del self._leases[key]


class RedisStore:
    """Leases in Redis, shared by every instance behind the load balancer."""

    def __init__(self, url: str, ttl: int = TTL) -> None:
        import redis

        self.ttl = ttl
        self.client = redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1,
                                          decode_responses=True)

    def claim(self, key: str, tab: str, take: bool) -> bool:
        if take or self.client.set(key, tab, ex=self.ttl, nx=True):
            self.client.set(key, tab, ex=self.ttl)
            return True
        holder = self.client.get(key)
        if holder is None or str(holder) == tab:
            self.client.set(key, tab, ex=self.ttl)
            return True
        return False

    def release(self, key: str, tab: str) -> None:
        holder = self.client.get(key)
        if holder is not None and str(holder) == tab:
            self.client.delete(key)


def store_for(config: dict[str, Any], extensions: dict[str, Any]) -> Store:
    """The app's store, made on first use."""
    if "counter_leases" not in extensions:
        url = str(config.get("MESSAGE_QUEUE_URL") or "")
        extensions["counter_leases"] = RedisStore(url) if url.startswith(("redis://", "rediss://")) \
            else MemoryStore()
    return extensions["counter_leases"]  # type: ignore[no-any-return]


def lease_key(user_id: int, counter_id: int) -> str:
    return f"onestop:counter-lease:{user_id}:{counter_id}"
