"""The doorbell of the push loop: the subscriber rings it after a commit that queued pushes,
the loop (``worker``) waits on it. Its own module, as in onestop/webhooks (onestop/outbox_loop.py)."""

from __future__ import annotations

from typing import Any

from onestop.outbox_loop import Doorbell

# the loop of this process: its pid and the event it sleeps on (set by ``worker.start``)
_state: dict[str, Any] = {"pid": None, "event": None}
BELL = Doorbell(_state)


def wake() -> None:
    """Run a pass soon; no-op without a loop in this process."""
    BELL.wake()
