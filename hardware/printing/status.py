"""What a print attempt and a status query report, and how Epson status bytes read.

Status comes from the ESC/POS real-time command ``DLE EOT n`` (``10 04 n``); the printer
answers one byte at once, even while it prints. Bits per Epson's ESC/POS reference:

- ``n = 1`` printer status: bits 1 and 4 always 1, bits 0 and 7 always 0 (``0x12``);
  bit 3 (``0x08``) = offline; bit 2 = cash-drawer pin, so an online printer answers
  ``0x12`` or ``0x16``.
- ``n = 2`` offline cause: bit 2 (``0x04``) cover open, bit 3 feed button, bit 5
  (``0x20``) stopped by paper end, bit 6 (``0x40``) error.
- ``n = 4`` roll paper sensor: bits 2-3 (``0x0C``) paper near end, bits 5-6 (``0x60``)
  paper end (out).

No answer is ``unknown``, never ``online``: a silent printer may well be out of paper.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

DLE_EOT = b"\x10\x04"
STATUS_PRINTER = 1
STATUS_OFFLINE_CAUSE = 2
STATUS_PAPER = 4

_FIXED_MASK, _FIXED_BITS = 0x93, 0x12  # bits 0, 1, 4, 7 of every status byte
_OFFLINE = 0x08
_COVER_OPEN, _PAPER_STOP, _ERROR = 0x04, 0x20, 0x40
_NEAR_END, _PAPER_OUT = 0x0C, 0x60


def status_query(n: int) -> bytes:
    """The ``DLE EOT n`` command."""
    return DLE_EOT + bytes((n,))


class PrinterState(StrEnum):
    ONLINE = "online"
    PAPER_NEAR_END = "paper_near_end"
    PAPER_OUT = "paper_out"
    OFFLINE = "offline"
    UNKNOWN = "unknown"


class PrintState(StrEnum):
    """What became of a job; the value fits ``Ticket.print_state`` (16 characters)."""

    PRINTED = "printed"  # delivered, and the printer answered a status query after the job
    SENT = "sent"  # handed to the transport without error; the printer did not confirm
    QUEUED_FOR_AGENT = "queued_for_agent"  # the kiosk's print agent will print it
    FAILED = "failed"


@dataclass(frozen=True)
class PrinterStatus:
    state: PrinterState
    detail: str = ""
    raw: tuple[tuple[int, int], ...] = ()  # (n, answer byte) pairs as read

    @property
    def ready(self) -> bool:
        """The printer says it can print (near end still prints)."""
        return self.state in (PrinterState.ONLINE, PrinterState.PAPER_NEAR_END)


@dataclass(frozen=True)
class PrintResult:
    state: PrintState
    error: str | None = None
    duration_s: float = 0.0
    detail: str = ""  # e.g. the CUPS request id, or why delivery is unconfirmed
    printer: PrinterStatus | None = None  # status read right after the job, when available

    @property
    def ok(self) -> bool:
        return self.state is not PrintState.FAILED


def valid_status_byte(b: int) -> bool:
    return b & _FIXED_MASK == _FIXED_BITS


def interpret(answers: dict[int, int]) -> PrinterStatus:
    """Turn ``{n: byte}`` answers to ``DLE EOT n`` into a :class:`PrinterStatus`."""
    raw = tuple(sorted(answers.items()))
    printer = answers.get(STATUS_PRINTER)
    if printer is None:
        return PrinterStatus(PrinterState.UNKNOWN, "no answer to DLE EOT 1", raw)
    if not all(valid_status_byte(b) for b in answers.values()):
        return PrinterStatus(PrinterState.UNKNOWN, f"unexpected status bytes {raw}", raw)
    paper = answers.get(STATUS_PAPER)
    cause = answers.get(STATUS_OFFLINE_CAUSE, 0)
    if (paper is not None and paper & _PAPER_OUT) or cause & _PAPER_STOP:
        return PrinterStatus(PrinterState.PAPER_OUT, "paper out", raw)
    if printer & _OFFLINE:
        return PrinterStatus(PrinterState.OFFLINE, _offline_reason(cause), raw)
    if paper is not None and paper & _NEAR_END:
        return PrinterStatus(PrinterState.PAPER_NEAR_END, "paper near end", raw)
    if paper is None:
        return PrinterStatus(PrinterState.ONLINE, "online; paper sensor not reported", raw)
    return PrinterStatus(PrinterState.ONLINE, "online", raw)


def _offline_reason(cause: int) -> str:
    reasons = [text for bit, text in ((_COVER_OPEN, "cover open"), (_ERROR, "printer error")) if cause & bit]
    return "printer offline" + (f": {', '.join(reasons)}" if reasons else "")
