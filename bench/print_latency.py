"""Ticket print latency: render a ticket and send it to a TCP printer (DESIGN §7).

Target: kiosk request -> last byte at a TCP printer (render + send), p95 <= 100 ms.
The printer is :class:`hardware.printing.fakeprinter.FakePrinter` on 127.0.0.1; it stamps
the arrival of every byte, so "last byte" is measured where the printer sees it.

By default the library path is measured (render_ticket + raster_job + tcp driver with
its post-job status confirmation). ``run(path=...)`` takes any other path, e.g. the HTTP
kiosk API: ``path(printer_uri)`` is called once with the fake printer's URI (point a kiosk
device at it) and returns ``issue(i)``, which must cause ticket ``i`` to be printed. A
job that has not reached the printer 5 s after ``issue`` returned counts as lost.

    python -m bench.print_latency          # writes bench/results/print_latency.json
"""

from __future__ import annotations

import datetime as dt
import statistics
import time
from collections import Counter
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

from bench.common import latency_summary, machine_info, write_json
from hardware.printing import TicketSlip, open_printer, raster_job, render_ticket
from hardware.printing.fakeprinter import Capture, FakePrinter

TARGET_P95_MS = 100.0
TZ = ZoneInfo("Asia/Ho_Chi_Minh")
Issue = Callable[[int], object]
PrintPath = Callable[[str], Issue]


def sample_slip(i: int, paper_width: int = 576) -> TicketSlip:
    return TicketSlip(
        unit_name="Trung tâm Phục vụ hành chính công xã Hòa Bình", label=f"A{1001 + i}",
        service_name="Tư pháp – Hộ tịch", waiting_ahead=i % 40, estimated_minutes=5 + i % 60,
        issued_at_local=dt.datetime.now(TZ), qr_url=f"http://192.168.1.10:8000/tickets/{1001 + i}?k=Zx81kQ2m",
        footer="Vui lòng chú ý màn hình và loa gọi số. Xin cảm ơn!", paper_width=paper_width)


class LibraryPath:
    """The in-process path the server takes: render, encode, send; keeps a time breakdown."""

    def __init__(self, paper_width: int = 576) -> None:
        self.paper_width = paper_width
        self.render_s: list[float] = []
        self.send_s: list[float] = []
        self.job_bytes: list[int] = []
        self.states: list[str] = []

    def __call__(self, printer_uri: str) -> Issue:
        driver = open_printer(printer_uri)

        def issue(i: int) -> object:
            start = time.perf_counter()
            job = raster_job(render_ticket(sample_slip(i, self.paper_width)))
            rendered = time.perf_counter()
            result = driver.send(job)
            self.render_s.append(rendered - start)
            self.send_s.append(time.perf_counter() - rendered)
            self.job_bytes.append(len(job))
            self.states.append(result.state.value)
            return result

        return issue


def _next_job(printer: FakePrinter, seen: int, timeout: float = 5.0) -> Capture | None:
    """The first job connection after the first ``seen`` ones, once the client closed it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        jobs = [c for c in printer.captures if c.is_job]
        if len(jobs) > seen and jobs[seen].closed_at is not None:
            return jobs[seen]
        time.sleep(0.0005)
    return None


def run(n: int = 200, path: PrintPath | None = None, warmup: int = 10,
        paper_width: int = 576) -> dict[str, Any]:
    """Print ``warmup`` + ``n`` tickets one after another; latency percentiles of the last ``n``."""
    library = LibraryPath(paper_width) if path is None else None
    make: PrintPath = library or path  # type: ignore[assignment]
    last_byte: list[float] = []
    call: list[float] = []
    lost = 0
    with FakePrinter() as printer:
        issue = make(printer.uri)
        for i in range(warmup + n):
            start = time.perf_counter()
            issue(i)
            returned = time.perf_counter()
            capture = _next_job(printer, i)
            if i < warmup:
                continue
            if capture is None or capture.last_byte_at is None:
                lost += 1
                continue
            call.append(returned - start)
            last_byte.append(capture.last_byte_at - start)
    summary = latency_summary(last_byte)
    result: dict[str, Any] = {
        "name": "print_latency", "what": "render a ticket + send to a TCP printer, last byte at the printer",
        "path": "library" if library else getattr(path, "__name__", "custom"), "tickets": n, "warmup": warmup,
        "paper_width": paper_width, "lost": lost, **summary, "call": latency_summary(call),
        "target_p95_ms": TARGET_P95_MS, "meets_target": bool(summary) and summary["p95_ms"] <= TARGET_P95_MS,
    }
    if library:
        result |= {"render": latency_summary(library.render_s[warmup:]),
                   "send": latency_summary(library.send_s[warmup:]),
                   "job_bytes_mean": round(statistics.fmean(library.job_bytes)),
                   "print_states": dict(Counter(library.states[warmup:]))}
    result["machine"] = machine_info()
    return result


if __name__ == "__main__":
    out = run()
    path = write_json("print_latency", out)
    print(f"print latency p50 {out['p50_ms']} ms, p95 {out['p95_ms']} ms "
          f"(target {TARGET_P95_MS:.0f}), lost {out['lost']} -> {path}")
