"""How much slower this machine runs a short piece of work right after being idle.

A hall's calls come seconds or minutes apart, and the display bench leaves ``GAP_S`` (1 s)
between two calls: each call-next meets a server that was idle. On a virtual machine the
idle vCPU is halted, the host runs other work on the core, and the server's memory comes
back from far away: a call-next measured 2.2 ms back to back and 5.5 to 7.5 ms after one
idle second, on the server alone (gunicorn's access log), with no change in the work.

This bench times a fixed piece of plain Python (2,000 reads from a 300,000-entry table,
about the memory a request touches) back to back and after an idle gap, in one process,
no server around it. The ratio is the machine's, not onestop's: it bounds how fast any
Python server here can answer a call that arrives after a pause.

    python -m bench.wake_floor           # prints the figures
"""

from __future__ import annotations

import json
import random
import statistics
import time
from typing import Any

ROUNDS = 15
ENTRIES = 300_000
READS = 2_000


def run(gap_s: float = 1.0, rounds: int = ROUNDS) -> dict[str, Any]:
    table = [{"id": i, "label": f"A{i:03d}", "seen": [i]} for i in range(ENTRIES)]
    rng = random.Random(7)
    picks = [rng.randrange(ENTRIES) for _ in range(READS)]

    def work() -> int:
        total = 0
        for i in picks:
            row = table[i]
            total += row["id"] + len(row["label"]) + row["seen"][0]
        return total

    def timed(gap: float) -> list[float]:
        out = []
        for _ in range(rounds):
            start = time.perf_counter()
            work()
            out.append((time.perf_counter() - start) * 1000)
            time.sleep(gap)
        return out

    timed(0.0)  # warm up
    hot, idle = timed(0.0), timed(gap_s)
    hot_ms, idle_ms = statistics.median(hot), statistics.median(idle)
    return {"work": f"{READS} reads from a {ENTRIES}-entry table", "rounds": rounds,
            "gap_s": gap_s, "back_to_back_ms": round(hot_ms, 3),
            "after_idle_ms": round(idle_ms, 3), "slowdown": round(idle_ms / hot_ms, 1)}


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
