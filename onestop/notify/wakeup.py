"""The doorbell of the sending loop: the subscriber rings it after a commit that queued
messages, the loop (``worker``) waits on it (onestop/outbox_loop.py)."""

from __future__ import annotations

from onestop.outbox_loop import Doorbell

BELL = Doorbell()


def wake() -> None:
    BELL.wake()
