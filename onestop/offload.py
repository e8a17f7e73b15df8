"""Heavy work off the event loop: run a function in a worker process and wait cooperatively.

``onestop serve`` is one gevent worker: a report over a year, an XLSX of 7,000 dossiers or a
PDF run on the event loop would stall every kiosk, display and counter for seconds (CPU-bound
Python never yields; threads do not help, they are greenlets once gevent has patched the
standard library). :func:`run_offloaded` sends the call to a small pool of worker processes
(``python -m onestop.offload``) over a pipe and waits with ``select`` (cooperative under
gevent), so the loop keeps serving while the work runs on another core.

- The function must be importable (a module-level function) and its arguments and result
  picklable: pass the database URL and ids, never ORM objects; get bytes or plain data back.
  In the worker, :func:`engine` gives a database engine of its own and :func:`translator`
  the catalogue of a language.
- At most ``OFFLOAD_WORKERS`` jobs run at once (default: one less than the cores, 1 to 4);
  up to ``OFFLOAD_QUEUE`` more wait for a worker. A job past ``OFFLOAD_TIMEOUT_S``
  (waiting included) has its worker killed, and the caller gets :class:`Busy`: a 503
  ``busy`` "Hệ thống đang bận, vui lòng thử lại sau ít phút." (never a gunicorn worker
  timeout). So does a caller finding the queue full.
- ``OFFLOAD_MODE``: ``auto`` (default) uses the pool only under gevent (``onestop serve``)
  and runs inline elsewhere (the Flask test client, ``flask run``, the CLI), where blocking
  the caller's thread stops nobody else; ``pool`` and ``inline`` force one or the other.

Protocol: a frame is an 8-byte big-endian length and a pickle. Request ``(fn, args, kwargs)``;
answer ``("ok", result)``, ``("domain", code, status, details)`` (a :class:`DomainError`
raised by the job) or ``("error", text)``. The worker writes frames to a private copy of
its stdout and sends stray prints to stderr (the server's log).
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import os
import pickle
import select
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from onestop.queueing.errors import DomainError

log = logging.getLogger(__name__)

T = TypeVar("T")
HEADER = struct.Struct(">Q")
JOBS_PER_WORKER = 200  # then the worker is replaced (bounded memory growth)
NICE = 10  # workers' CPU priority below the server's
IDLE_S = 600.0  # a worker idle this long exits (a year's book leaves ~160 MB behind)
IDLE_MARGIN_S = 5.0  # the server never hands a job to a worker this close to its idle exit
KEYS = ("OFFLOAD_MODE", "OFFLOAD_WORKERS", "OFFLOAD_QUEUE", "OFFLOAD_TIMEOUT_S")  # onestop/config.py


class Busy(DomainError):
    """503 ``busy``: the heavy-work pool is full or the job ran past its time limit."""

    status = 503

    def __init__(self, reason: str) -> None:
        super().__init__("busy", reason=reason)


class OffloadError(RuntimeError):
    """The job failed in its worker (the worker's traceback is in the server's log)."""


# -- the caller's side ----------------------------------------------------------------------------


def settings() -> dict[str, Any]:
    """The OFFLOAD_* settings of the current app (the defaults outside an app)."""
    from flask import current_app

    from onestop.config import DEFAULTS

    config: Any = current_app.config if current_app else {}
    chosen = {key: config.get(key, DEFAULTS[key]) for key in KEYS}
    if chosen["OFFLOAD_WORKERS"] in (None, ""):
        chosen["OFFLOAD_WORKERS"] = default_workers()
    return chosen


def default_workers() -> int:
    """One less than the cores (1 to 4): on the 2-core box of a commune's centre one core
    stays with the hall's requests while a year is exported."""
    return max(1, min(4, (os.cpu_count() or 2) - 1))


def under_gevent() -> bool:
    try:
        from gevent import monkey
    except ImportError:  # pragma: no cover - gevent is a dependency
        return False
    return bool(monkey.is_module_patched("socket"))


def use_pool(config: dict[str, Any]) -> bool:
    mode = str(config["OFFLOAD_MODE"]).lower()
    if mode == "inline" or int(config["OFFLOAD_WORKERS"]) < 1:
        return False
    return mode == "pool" or under_gevent()


def run_offloaded(fn: Callable[..., T], *args: Any, timeout: float | None = None, **kwargs: Any) -> T:
    """``fn(*args, **kwargs)`` in a worker process (see the module docstring); inline when
    the pool is not in use. Raises :class:`Busy` when the pool is full or ``timeout``
    (default ``OFFLOAD_TIMEOUT_S``) passes, and re-raises a job's :class:`DomainError`."""
    config = settings()
    if not use_pool(config):
        return fn(*args, **kwargs)
    limit = float(timeout if timeout is not None else config["OFFLOAD_TIMEOUT_S"])
    pool = _pool(int(config["OFFLOAD_WORKERS"]), int(config["OFFLOAD_QUEUE"]))
    return pool.run(fn, args, kwargs, time.monotonic() + limit)  # type: ignore[no-any-return]


class _Flight:
    def __init__(self) -> None:
        self.done = threading.Event()
        self.result: Any = None
        self.error: BaseException | None = None
        self.until = 0.0  # monotonic time the result may be reused until


_FLIGHTS: dict[Hashable, _Flight] = {}
_FLIGHTS_LOCK = threading.Lock()
MAX_KEPT = 64


def run_shared(key: Hashable, fn: Callable[..., T], *args: Any, keep_s: float = 0.0,
               timeout: float | None = None, **kwargs: Any) -> T:
    """:func:`run_offloaded`, once for all callers asking for the same ``key`` at the same
    time (500 displays fetching one announcement start one job, not 500), the result kept
    ``keep_s`` seconds for the callers after them."""
    with _FLIGHTS_LOCK:
        flight = _FLIGHTS.get(key)
        if flight is not None and flight.done.is_set() and (
                flight.error is not None or flight.until < time.monotonic()):
            flight = None
        leader = flight is None
        if flight is None:
            if len(_FLIGHTS) >= MAX_KEPT:
                _forget_finished()
            flight = _FLIGHTS[key] = _Flight()
    if not leader:
        wait = timeout if timeout is not None else float(settings()["OFFLOAD_TIMEOUT_S"])
        if not flight.done.wait(wait):
            raise Busy("timeout")
        if flight.error is not None:
            raise flight.error
        return flight.result  # type: ignore[no-any-return]
    try:
        flight.result = run_offloaded(fn, *args, timeout=timeout, **kwargs)
        flight.until = time.monotonic() + keep_s
        return flight.result  # type: ignore[no-any-return]
    except BaseException as exc:
        flight.error = exc
        raise
    finally:
        flight.done.set()
        if keep_s <= 0 or flight.error is not None:
            with _FLIGHTS_LOCK:
                if _FLIGHTS.get(key) is flight:
                    del _FLIGHTS[key]


def _forget_finished() -> None:
    for key in [k for k, f in _FLIGHTS.items() if f.done.is_set()]:
        del _FLIGHTS[key]


_POOL: Pool | None = None
_POOL_LOCK = threading.Lock()


def _pool(size: int, queue: int) -> Pool:
    """The process's pool, created on first use (and again if its size setting changed)."""
    global _POOL
    with _POOL_LOCK:
        if _POOL is None or (_POOL.size, _POOL.queue) != (size, queue):
            if _POOL is not None:
                _POOL.close()
            _POOL = Pool(size, queue)
        return _POOL


def shutdown() -> None:
    """Stop the pool's workers (tests; a server's workers also end with its process group
    or when their pipe closes)."""
    global _POOL
    with _POOL_LOCK:
        if _POOL is not None:
            _POOL.close()
        _POOL = None


class _Worker:
    """One worker process and its pipes."""

    def __init__(self, idle_s: float) -> None:
        self.proc = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            [sys.executable, "-m", "onestop.offload", str(idle_s)], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, close_fds=True)
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.wfd, self.rfd = self.proc.stdin.fileno(), self.proc.stdout.fileno()
        self.jobs = 0
        self.idle_since = time.monotonic()

    def call(self, request: bytes, deadline: float) -> Any:
        _write_frame(self.wfd, request, deadline)
        self.jobs += 1
        return pickle.loads(_read_frame(self.rfd, deadline))  # noqa: S301 - our own worker

    def kill(self) -> None:
        with contextlib.suppress(OSError):
            self.proc.kill()
        with contextlib.suppress(Exception):
            self.proc.wait(timeout=5)
        for pipe in (self.proc.stdin, self.proc.stdout):
            with contextlib.suppress(Exception):
                pipe.close()  # type: ignore[union-attr]


class Pool:
    """``size`` worker processes, started on demand and kept for the next jobs."""

    def __init__(self, size: int, queue: int, idle_s: float = IDLE_S) -> None:
        self.size, self.queue, self.idle_s = size, queue, idle_s
        self._slots = threading.BoundedSemaphore(size)  # a gevent semaphore once patched
        self._lock = threading.Lock()
        self._idle: list[_Worker] = []
        self._waiting = 0
        self.ids = itertools.count(1)

    def run(self, fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any],
            deadline: float) -> Any:
        request = pickle.dumps((fn, args, kwargs), protocol=pickle.HIGHEST_PROTOCOL)
        self._acquire(deadline)
        try:
            return self._answer(self._run_on_worker(request, deadline, getattr(fn, "__name__", "?")))
        finally:
            self._slots.release()

    def _acquire(self, deadline: float) -> None:
        if self._slots.acquire(blocking=False):
            return
        with self._lock:
            if self._waiting >= self.queue:
                raise Busy("queue_full")
            self._waiting += 1
        try:
            if not self._slots.acquire(timeout=max(0.0, deadline - time.monotonic())):
                raise Busy("timeout")
        finally:
            with self._lock:
                self._waiting -= 1

    def _run_on_worker(self, request: bytes, deadline: float, name: str) -> Any:
        with self._lock:
            worker = self._idle.pop() if self._idle else None
        if worker is not None and (worker.proc.poll() is not None or
                                   time.monotonic() - worker.idle_since > self.idle_s - IDLE_MARGIN_S):
            worker.kill()  # gone, or about to leave by itself: never send it a job
            worker = None
        if worker is None:
            worker = _Worker(self.idle_s)
        started = time.monotonic()
        try:
            answer = worker.call(request, deadline)
        except TimeoutError:
            log.warning("offloaded %s passed its time limit after %.1f s: worker killed", name,
                        time.monotonic() - started)
            worker.kill()
            raise Busy("timeout") from None
        except (EOFError, OSError) as exc:
            worker.kill()
            log.error("offload worker died during %s: %s", name, exc)
            raise OffloadError(f"worker died during {name}") from exc
        if worker.jobs >= JOBS_PER_WORKER:
            worker.kill()
        else:
            worker.idle_since = time.monotonic()
            with self._lock:
                self._idle.append(worker)
        return answer

    @staticmethod
    def _answer(answer: Any) -> Any:
        kind = answer[0]
        if kind == "ok":
            return answer[1]
        if kind == "domain":
            error = DomainError(answer[1], answer[2], **answer[3])
            raise error
        raise OffloadError(answer[1])

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for worker in idle:
            worker.kill()


def _wait(fd: int, deadline: float, write: bool = False) -> None:
    """Until ``fd`` is ready or the deadline: ``select`` is gevent's once patched, so the
    event loop runs meanwhile."""
    remaining: float | None = deadline - time.monotonic()
    if remaining is not None and remaining <= 0:
        raise TimeoutError
    if deadline == float("inf"):
        remaining = None  # the worker waits for its next job as long as it takes
    ready = select.select([], [fd], [], remaining) if write else select.select([fd], [], [], remaining)
    if not any(ready):
        raise TimeoutError


def _write_frame(fd: int, payload: bytes, deadline: float) -> None:
    view = memoryview(HEADER.pack(len(payload)) + payload)
    while view:
        _wait(fd, deadline, write=True)
        try:
            view = view[os.write(fd, view[:1 << 16]):]
        except BlockingIOError:
            continue


def _read_frame(fd: int, deadline: float) -> bytes:
    (size,) = HEADER.unpack(_read_exact(fd, HEADER.size, deadline))
    return _read_exact(fd, size, deadline)


def _read_exact(fd: int, size: int, deadline: float) -> bytes:
    chunks, left = [], size
    while left:
        _wait(fd, deadline)
        try:
            chunk = os.read(fd, min(left, 1 << 20))
        except BlockingIOError:
            continue
        if not chunk:
            raise EOFError("offload worker closed its pipe")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


# -- the worker's side ----------------------------------------------------------------------------

_ENGINES: dict[str, Any] = {}
_TRANSLATIONS: dict[str, Callable[[str], str]] = {}


def database_url() -> str:
    """The current app's database URL, to hand to a job (password included)."""
    from onestop.extensions import db

    assert db.engine is not None
    return db.engine.url.render_as_string(hide_password=False)


def engine(url: str) -> Any:
    """A database engine for a job: the app's own when the job runs inline in the app, else
    one per worker process (kept for its next jobs)."""
    with contextlib.suppress(RuntimeError, AssertionError):
        from flask import current_app

        from onestop.extensions import db

        if current_app and db.engine is not None and \
                db.engine.url.render_as_string(hide_password=False) == url:
            return db.engine
    if url not in _ENGINES:
        from sqlalchemy import create_engine
        from sqlalchemy.pool import NullPool

        if url.startswith("sqlite"):
            _ENGINES[url] = create_engine(url, poolclass=NullPool, connect_args={"timeout": 10})
        else:
            _ENGINES[url] = create_engine(url, pool_size=1, max_overflow=1, pool_pre_ping=True)
    return _ENGINES[url]


def translator(locale: str) -> Callable[[str], str]:
    """``gettext`` of the app's catalogue for ``locale`` (``vi``: the msgids themselves)."""
    if locale not in _TRANSLATIONS:
        from pathlib import Path

        from babel.support import Translations

        folder = Path(__file__).with_name("translations")
        _TRANSLATIONS[locale] = Translations.load(str(folder), [locale], "messages").gettext
    return _TRANSLATIONS[locale]


def _serve(rfd: int, wfd: int, idle_s: float = IDLE_S) -> None:
    """The worker's loop: one request, one answer, until the server closes the pipe or no
    job came for ``idle_s`` (the memory goes back to the office box; the server starts a
    worker again when it needs one)."""
    forever = float("inf")
    while True:
        try:
            _wait(rfd, time.monotonic() + idle_s)
            fn, args, kwargs = pickle.loads(_read_frame(rfd, forever))  # noqa: S301 - our server
        except (EOFError, TimeoutError):
            return
        try:
            answer: tuple[Any, ...] = ("ok", fn(*args, **kwargs))
        except DomainError as exc:
            answer = ("domain", exc.code, exc.status, exc.details)
        except Exception as exc:  # noqa: BLE001 - reported to the caller, logged here
            log.exception("offloaded %s failed", getattr(fn, "__name__", fn))
            answer = ("error", f"{type(exc).__name__}: {exc}")
        _write_frame(wfd, pickle.dumps(answer, protocol=pickle.HIGHEST_PROTOCOL), forever)


def main() -> None:
    """``python -m onestop.offload``: a worker, frames on stdin and (a copy of) stdout."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the server's group gets ^C: the server decides
    with contextlib.suppress(OSError):
        os.nice(NICE)  # on a 2-core office box the hall's requests go first, the export waits
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s [offload %(process)d] %(levelname)s %(message)s")
    import onestop.models  # noqa: F401 - every mapped class, so that relationships resolve

    wfd = os.dup(1)
    os.dup2(2, 1)  # a stray print must not corrupt the frames
    _serve(0, wfd, float(sys.argv[1]) if len(sys.argv) > 1 else IDLE_S)


if __name__ == "__main__":
    main()
