"""Build ESC/POS byte streams for a slip: raster (the default) or text mode (an option).

Raster: ``ESC @`` (initialise), the image as ``GS v 0`` blocks (python-escpos splits
images taller than ``fragment_height`` rows into several blocks), feed, cut (``GS V``).

Text mode is for printers known to carry Vietnamese code pages (Epson's TCVN-3 pages
30/31, see :mod:`hardware.printing.tcvn3`); it is never the default because cheap
printers print ``?`` for every Vietnamese letter. Its QR code is the printer's own
(``GS ( k``), so it depends on the printer too.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from escpos import capabilities as escpos_capabilities
from escpos.constants import QR_ECLEVEL_M
from escpos.printer import Dummy
from PIL import Image, ImageOps

from hardware.printing import _escpos_cache
from hardware.printing.render import Fonts, TicketSlip, TicketTexts, render_ticket, ticket_lines
from hardware.printing.tcvn3 import tcvn3_segments

_escpos_cache.store(escpos_capabilities.CAPABILITIES)  # parsed by this process: keep it

ESC_INIT = b"\x1b@"
#: python-escpos profile used for the raster path: 203 dpi, 576 dots (its width check
#: rejects anything wider than 80 mm paper; 58 mm images are narrower and pass).
RASTER_PROFILE = "TM-T20II"
CutMode = Literal["full", "partial", "none"]


#: Real-time commands (DLE EOT status, DLE ENQ recover, DLE DC4 pulse / power-off / clear):
#: Epson printers act on these byte pairs wherever they occur, even inside image data.
REALTIME_PATTERN = re.compile(rb"\x10[\x04\x05\x14]")


def raster_bytes(image: Image.Image) -> bytes:
    """The ``GS v 0`` payload of ``image``: rows of whole bytes, bit 1 = black dot."""
    return ImageOps.invert(image.convert("L")).convert("1").tobytes()


def defuse_realtime(image: Image.Image) -> tuple[Image.Image, int]:
    """Whiten one dot wherever the raster payload would read ``DLE EOT``/``ENQ``/``DC4``.

    Otherwise a printer would answer stray status bytes in mid-image (confusing the
    status read after the job) or even run ``DLE DC4`` functions. The ``0x10`` byte loses
    its only dot (x = 8 * column + 3), an invisible 0.125 mm change. Returns the image
    and the number of dots changed.
    """
    image = image.convert("1")
    width_bytes = (image.width + 7) // 8
    hits = [m.start() for m in REALTIME_PATTERN.finditer(raster_bytes(image))]
    if hits:
        image = image.copy()
        for index in hits:
            image.putpixel(((index % width_bytes) * 8 + 3, index // width_bytes), 255)
    return image, len(hits)


def raster_job(image: Image.Image, *, cut: CutMode = "full", fragment_height: int = 960) -> bytes:
    """``image`` (ideally mode '1', at most 576 dots wide) as a complete ESC/POS job."""
    image, _ = defuse_realtime(image)
    printer = Dummy(profile=RASTER_PROFILE)
    printer.hw("INIT")
    printer.image(image, impl="bitImageRaster", fragment_height=fragment_height)
    _finish(printer, cut)
    return bytes(printer.output)


def _finish(printer: Dummy, cut: CutMode) -> None:
    if cut == "none":
        printer.print_and_feed(4)
    else:
        printer.cut(mode="PART" if cut == "partial" else "FULL")  # feeds 6 lines first


@dataclass(frozen=True)
class TextProfile:
    """How a printer prints Vietnamese in text mode: its TCVN-3 code page numbers
    (``ESC t n``); ``capitals_page`` None lowercases toned capitals instead."""

    name: str
    code_page: int
    capitals_page: int | None


#: Epson TM series: page 30 TCVN-3, page 31 TCVN-3 capitals (``ESC t 30`` / ``ESC t 31``).
EPSON_TCVN3 = TextProfile("epson-tcvn3", 30, 31)


@dataclass(frozen=True)
class TextLine:
    text: str
    bold: bool = False
    align: Literal["left", "center", "right"] = "center"
    scale: int = 1  # 1..8, character width and height multiplier (GS !)


_ALIGN = {"left": 0, "center": 1, "right": 2}


def encode_line(line: TextLine, profile: TextProfile) -> bytes:
    """One line in text mode: alignment, emphasis, size, TCVN-3 text, LF."""
    scale = max(1, min(8, line.scale)) - 1
    out = bytearray(b"\x1ba" + bytes((_ALIGN[line.align],)))
    out += b"\x1bE" + bytes((1 if line.bold else 0,)) + b"\x1d!" + bytes((scale << 4 | scale,))
    for capitals, data in tcvn3_segments(line.text):
        # without a capital page the same codes print as the lowercase letters
        page = profile.capitals_page if capitals and profile.capitals_page is not None else profile.code_page
        out += b"\x1bt" + bytes((page,)) + data
    return bytes(out) + b"\n"


def text_job(lines: Sequence[TextLine | str], *, profile: TextProfile = EPSON_TCVN3,
             qr_url: str | None = None, after_qr: Sequence[TextLine | str] = (),
             cut: CutMode = "full") -> bytes:
    """A text-mode job: ``ESC @``, the lines in TCVN-3, an optional native QR, more lines, cut."""
    printer = Dummy(profile=RASTER_PROFILE)
    printer.hw("INIT")
    for line in lines:
        printer._raw(encode_line(TextLine(line) if isinstance(line, str) else line, profile))
    if qr_url:
        qr_url.encode("ascii")  # a URL: refuse anything else loudly
        printer._raw(b"\x1ba\x01")
        printer.qr(qr_url, ec=QR_ECLEVEL_M, size=6, native=True)
    for line in after_qr:
        printer._raw(encode_line(TextLine(line) if isinstance(line, str) else line, profile))
    _finish(printer, cut)
    return bytes(printer.output)


def ticket_text_job(slip: TicketSlip, *, profile: TextProfile = EPSON_TCVN3,
                    texts: TicketTexts = TicketTexts()) -> bytes:
    """The queue ticket in text mode (option for printers with TCVN-3; see module doc)."""
    words = ticket_lines(slip, texts)
    lines = [TextLine(words["unit"], bold=True), TextLine(words["title"], bold=True),
             TextLine(words["label"], bold=True, scale=4), TextLine(words["service"], bold=True)]
    lines += [TextLine(words[key], bold=True) for key in ("priority", "booking") if words[key]]
    lines += [TextLine(words["ahead"])]
    lines += [TextLine(words[key]) for key in ("wait", "time") if words[key]]
    footer = [TextLine(words["footer"])] if words["footer"] else []
    return text_job(lines, profile=profile, qr_url=slip.qr_url, after_qr=footer)


def ticket_job(slip: TicketSlip, *, fonts: Fonts | None = None, texts: TicketTexts = TicketTexts(),
               text_profile: TextProfile | None = None) -> bytes:
    """The queue ticket as ESC/POS bytes: raster by default, text mode only when a profile is given."""
    if text_profile is not None:
        return ticket_text_job(slip, profile=text_profile, texts=texts)
    return raster_job(render_ticket(slip, fonts=fonts, texts=texts))
