"""The doorbell of the delivery loop: the subscriber rings it after a commit that queued
deliveries, the loop (``worker``) waits on it (onestop/outbox_loop.py).

Its own module so that the subscriber (below) and the worker (above, it connects the
subscriber) each import it and never each other.
"""

from __future__ import annotations

from typing import Any

from onestop.outbox_loop import Doorbell

# the loop of this process: its pid and the event it sleeps on (set by ``worker.start``)
_state: dict[str, Any] = {"pid": None, "event": None}
BELL = Doorbell(_state)


def wake() -> None:
    """Run a pass soon (called after a commit that queued deliveries); no-op without a loop."""
    BELL.wake()
