"""Where the CPU of a bench phase goes: the server, PostgreSQL, Redis, the whole machine.

``CpuSampler`` reads /proc every ``interval`` seconds in a thread while a phase runs:

- the server's gunicorn worker(s) (utime + stime of each);
- PostgreSQL: the postmaster (its own time plus ``cutime + cstime``, where the time of a
  child that exited lands) and each of its children (the backends and the auxiliary
  processes: walwriter, checkpointer...), read from the postmaster's ``children`` file;
- ``redis-server``;
- the whole machine (``/proc/stat``: busy = all jiffies but idle and iowait).

``window(t0, t1)`` gives the CPU seconds of each between two ``time.monotonic()`` instants
(the clients' timed part: they stamp it with the same system-wide monotonic clock),
interpolated linearly between the samples. PostgreSQL comes twice: the whole cluster
(``pg_all_s``: other people's sessions on a shared server count there too) and the bench's
own (``pg_s``: the server's sessions, found by their ``application_name``, plus the
auxiliary processes, which write the WAL of every session).

The load clients measure themselves (``time.process_time()`` around their timed part,
``bench/load.py``): the parent cannot see a spawned child's time until it is reaped.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

TICK = os.sysconf("SC_CLK_TCK")


def proc_stat(pid: int) -> tuple[int, int, int] | None:
    """``(ppid, utime + stime, cutime + cstime)`` of ``pid`` in clock ticks, None if gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return int(fields[1]), int(fields[11]) + int(fields[12]), int(fields[13]) + int(fields[14])


def _comm(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""


def find_pids(comm: str) -> list[int]:
    """Processes whose command name is ``comm``."""
    return [int(p) for p in os.listdir("/proc") if p.isdigit() and _comm(int(p)) == comm]


def postmaster_pid() -> int | None:
    """The ``postgres`` process whose parent is not a ``postgres`` (local servers only)."""
    for pid in find_pids("postgres"):
        stat = proc_stat(pid)
        if stat and _comm(stat[0]) != "postgres":
            return pid
    return None


def children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def machine_jiffies() -> tuple[int, int]:
    """``(busy, total)`` clock ticks of all CPUs so far (``/proc/stat``)."""
    with open("/proc/stat") as handle:
        values = [int(v) for v in handle.readline().split()[1:]]
    idle = values[3] + (values[4] if len(values) > 4 else 0)  # idle + iowait
    total = sum(values[:8])  # guest time is already in user
    return total - idle, total


class CpuSampler:
    """Samples the CPU time of the server, PostgreSQL, Redis and the machine (see module)."""

    def __init__(self, server_pids: Callable[[], Iterable[int]], interval: float = 0.1,
                 postgres: bool = True, redis: bool = True) -> None:
        self.server_pids = server_pids
        self.interval = interval
        self.postmaster = postmaster_pid() if postgres else None
        self.redis = find_pids("redis-server") if redis else []
        # (monotonic, machine busy, machine total, server, redis, postmaster, {child: ticks},
        #  this process)
        self.samples: list[tuple[float, int, int, int, int, int, dict[int, int], int]] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def sample(self) -> None:
        busy, total = machine_jiffies()
        server = sum((proc_stat(p) or (0, 0, 0))[1] for p in self.server_pids())
        redis = sum((proc_stat(p) or (0, 0, 0))[1] for p in self.redis)
        pm, kids = 0, {}
        if self.postmaster:
            stat = proc_stat(self.postmaster)
            pm = stat[1] + stat[2] if stat else 0
            for pid in children(self.postmaster):
                child = proc_stat(pid)
                if child:
                    kids[pid] = child[1]
        me = (proc_stat(os.getpid()) or (0, 0, 0))[1]
        self.samples.append((time.monotonic(), busy, total, server, redis, pm, kids, me))

    def _run(self) -> None:
        while not self.stop.wait(self.interval):
            self.sample()

    def __enter__(self) -> CpuSampler:
        self.sample()
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop.set()
        self.thread.join(5)
        self.sample()

    def _at(self, t: float, value: Callable[[tuple[Any, ...]], float]) -> float:
        """``value`` of the samples, linearly interpolated at ``t`` (clamped to the ends)."""
        rows = self.samples
        if not rows:
            return 0.0
        if t <= rows[0][0]:
            return value(rows[0])
        for before, after in zip(rows, rows[1:], strict=False):
            if before[0] <= t <= after[0]:
                span = after[0] - before[0]
                share = (t - before[0]) / span if span > 0 else 1.0
                a, b = value(before), value(after)
                return a + (b - a) * share
        return value(rows[-1])

    def _delta(self, t0: float, t1: float, value: Callable[[tuple[Any, ...]], float]) -> float:
        return (self._at(t1, value) - self._at(t0, value)) / TICK

    def window(self, t0: float, t1: float, own_pg_pids: Iterable[int] = (),
               exclude_pids: Iterable[int] = ()) -> dict[str, float]:
        """CPU seconds between ``t0`` and ``t1``: ``server_s``, ``pg_s`` (the sessions
        ``own_pg_pids`` plus the postmaster's auxiliary processes, i.e. children that are
        not client sessions), ``pg_all_s``, ``redis_s``, ``harness_s`` (this process: the
        bench's samplers), ``pg_harness_s`` (the sessions ``exclude_pids``: the bench's own,
        left out of both other PostgreSQL figures), ``machine_busy_s`` and ``machine_s``
        (all the cores' time, busy or not)."""
        own, skip = set(own_pg_pids), set(exclude_pids)
        aux = {pid for pid in (self.samples[0][6] if self.samples else {})
               if pid not in skip and _is_auxiliary(pid)}
        pick = own | aux

        def pg_own(row: tuple[Any, ...]) -> float:
            return sum(v for pid, v in row[6].items() if pid in pick)

        def pg_all(row: tuple[Any, ...]) -> float:
            return row[5] + sum(v for pid, v in row[6].items() if pid not in skip)

        def pg_harness(row: tuple[Any, ...]) -> float:
            return sum(v for pid, v in row[6].items() if pid in skip)

        return {
            "server_s": self._delta(t0, t1, lambda r: r[3]),
            "redis_s": self._delta(t0, t1, lambda r: r[4]),
            "pg_s": self._delta(t0, t1, pg_own),
            "pg_all_s": self._delta(t0, t1, pg_all),
            "harness_s": self._delta(t0, t1, lambda r: r[7]),
            "pg_harness_s": self._delta(t0, t1, pg_harness),
            "machine_busy_s": self._delta(t0, t1, lambda r: r[1]),
            "machine_s": self._delta(t0, t1, lambda r: r[2]),
        }


AUXILIARY = ("checkpointer", "background writer", "walwriter", "autovacuum",
             "logical replication", "stats collector", "archiver")


def _is_auxiliary(pid: int) -> bool:
    """A PostgreSQL process that is no client session (its title names its role)."""
    try:
        title = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    except OSError:
        return False
    return any(word in title for word in AUXILIARY)
