"""The doorbell of the delivery loop: the subscriber rings it after a commit that queued
deliveries, the loop (``worker``) waits on it.

Its own module so that the subscriber (below) and the worker (above, it connects the
subscriber) each import it and never each other.
"""

from __future__ import annotations

from typing import Any

# the loop of this process: its pid and the event it sleeps on (set by ``worker.start``)
_state: dict[str, Any] = {"pid": None, "event": None}


def wake() -> None:
    """Run a pass soon (called after a commit that queued deliveries); no-op without a loop."""
    event = _state["event"]
    if event is not None:
        event.set()
