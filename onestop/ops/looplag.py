"""The event loop's lag: how late a greenlet that asks to sleep 0.25 s wakes up.

One gevent worker serves every kiosk, display and counter of an instance. Anything that
holds the loop (a flood, a heavy export run in the request, a slow client read done wrong)
shows here first: ``/metrics`` exports the lag (``onestop_event_loop_lag_seconds``, the
last sample, and ``onestop_event_loop_lag_max_seconds``, the worst of the last minute) and
``/readyz`` fails while it stays above ``ONESTOP_LOOP_LAG_READY_S`` (``stuck_for``).

Started by ``onestop serve`` in the worker (``onestop/server.py``); elsewhere (tests, the
Flask development server) nothing measures it and the check says so.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

INTERVAL_S = 0.25
KEEP_S = 60.0  # samples kept: the "worst of the last minute"


class LoopLag:
    def __init__(self) -> None:
        self.samples: deque[tuple[float, float]] = deque()  # (woke at, lag), oldest first
        self.running = False

    def observe(self, lag: float, now: float) -> None:
        self.samples.append((now, max(0.0, lag)))
        while self.samples and now - self.samples[0][0] > KEEP_S:
            self.samples.popleft()

    def latest(self) -> float:
        return self.samples[-1][1] if self.samples else 0.0

    def worst(self, now: float | None = None, window: float = KEEP_S) -> float:
        now = time.monotonic() if now is None else now
        return max((lag for at, lag in self.samples if now - at <= window), default=0.0)

    def stuck_for(self, threshold: float, now: float | None = None) -> float:
        """How long the lag has been above ``threshold`` without a break, up to the last
        sample (0 when the last sample was under it). A stall counts from when it began: a
        sample that woke ``lag`` late started ``INTERVAL_S + lag`` before it woke."""
        now = time.monotonic() if now is None else now
        start = None
        for at, lag in reversed(self.samples):
            if lag <= threshold:
                break
            start = at - INTERVAL_S - lag
        return 0.0 if start is None else now - start

    def run(self, sleep: Callable[[float], None] = time.sleep) -> None:
        self.running = True
        while True:
            before = time.monotonic()
            sleep(INTERVAL_S)
            now = time.monotonic()
            self.observe(now - before - INTERVAL_S, now)

    def start(self) -> None:
        """In the worker, after gevent patched ``threading``: the thread is a greenlet."""
        if not self.running:
            threading.Thread(target=self.run, name="onestop-looplag", daemon=True).start()


MONITOR = LoopLag()
