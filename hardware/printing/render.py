"""Render slips (queue tickets, later dossier receipts) as one black-and-white raster image.

Printers get pictures, not text: cheap ESC/POS printers print ``?`` for Vietnamese in
text mode, but every one of them prints a ``GS v 0`` raster. The page is 576 dots wide
for 80 mm paper and 384 for 58 mm (203 dpi print heads). Text is drawn in greyscale and
thresholded without dithering (crisp strokes); the QR code is pasted in whole dots.

:func:`render_lines` is the generic layout engine (a column of blocks); :func:`render_ticket`
lays out a queue ticket with it.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from PIL import Image, ImageDraw

from hardware.fonts import FontChain, FontSpec, find_font, load_font
from hardware.qr import make_qr

PAPER_80MM = 576
PAPER_58MM = 384
PAPER_WIDTHS = (PAPER_80MM, PAPER_58MM)

Align = Literal["left", "center", "right"]


@dataclass(frozen=True)
class Text:
    """A paragraph, word-wrapped to the page. ``fit`` shrinks it to stay on one line."""

    text: str
    size: int = 24
    bold: bool = False
    align: Align = "center"
    fit: bool = False
    line_spacing: float = 1.15


@dataclass(frozen=True)
class Picture:
    """An image pasted as is (a QR code, a logo)."""

    image: Image.Image
    align: Align = "center"


@dataclass(frozen=True)
class Space:
    height: int


@dataclass(frozen=True)
class Rule:
    """A horizontal line across the content width; ``dash`` > 0 draws it dashed."""

    thickness: int = 2
    dash: int = 0


Block = Text | Picture | Space | Rule


@dataclass(frozen=True)
class Fonts:
    regular: FontSpec
    bold: FontSpec

    def get(self, bold: bool, size: int) -> FontChain:
        return load_font(self.bold if bold else self.regular, size)


def default_fonts(regular: str | Path | Sequence[str | Path] | None = None,
                  bold: str | Path | Sequence[str | Path] | None = None) -> Fonts:
    """Fonts covering Vietnamese (see :func:`hardware.fonts.find_font`), configured paths first."""
    return Fonts(find_font(False, regular), find_font(True, bold))


Painter = Callable[[ImageDraw.ImageDraw, Image.Image, int], None]


def wrap_text(text: str, font: FontChain, max_width: float) -> list[str]:
    """Greedy word wrap; a word longer than a line is broken between characters."""
    lines: list[str] = []
    for paragraph in text.splitlines() or [""]:
        current = ""
        for word in paragraph.split():
            candidate = f"{current} {word}" if current else word
            if font.length(candidate) <= max_width:
                current = candidate
                continue
            if current:
                lines.append(current)
            while len(word) > 1 and font.length(word) > max_width:
                cut = _longest_prefix(word, font, max_width)
                lines.append(word[:cut])
                word = word[cut:]
            current = word
        lines.append(current)
    return lines


def _longest_prefix(word: str, font: FontChain, max_width: float) -> int:
    cut = 1
    while cut < len(word) and font.length(word[: cut + 1]) <= max_width:
        cut += 1
    return cut


def _x_for(align: Align, item_width: float, left: int, content_width: int) -> int:
    if align == "left":
        return left
    if align == "right":
        return left + content_width - math.ceil(item_width)
    return left + round((content_width - item_width) / 2)


def _fit_size(block: Text, fonts: Fonts, max_width: int) -> int:
    size = block.size
    width = fonts.get(block.bold, size).length(block.text)
    if width > max_width:
        size = max(8, math.floor(size * max_width / width))
        while size > 8 and fonts.get(block.bold, size).length(block.text) > max_width:
            size -= 1
    return size


def _lay_text(block: Text, fonts: Fonts, left: int, width: int) -> tuple[int, Painter]:
    size = _fit_size(block, fonts, width) if block.fit else block.size
    font = fonts.get(block.bold, size)
    lines = [block.text] if block.fit else wrap_text(block.text, font, width)
    step = round(font.line_height * block.line_spacing)
    height = step * (len(lines) - 1) + font.line_height

    def paint(draw: ImageDraw.ImageDraw, canvas: Image.Image, y: int) -> None:
        for i, line in enumerate(lines):
            font.draw(draw, (_x_for(block.align, font.length(line), left, width), y + i * step), line)

    return height, paint


def _lay(block: Block, fonts: Fonts, left: int, width: int) -> tuple[int, Painter]:
    if isinstance(block, Text):
        return _lay_text(block, fonts, left, width)
    if isinstance(block, Picture):
        image = block.image.convert("L")
        x = _x_for(block.align, image.width, left, width)
        return image.height, lambda draw, canvas, y: canvas.paste(image, (x, y))
    if isinstance(block, Rule):
        return block.thickness, lambda draw, canvas, y: _rule(draw, block, left, width, y)
    return block.height, lambda draw, canvas, y: None


def _rule(draw: ImageDraw.ImageDraw, rule: Rule, left: int, width: int, y: int) -> None:
    bottom = y + rule.thickness - 1
    if not rule.dash:
        draw.rectangle((left, y, left + width - 1, bottom), fill=0)
        return
    for x in range(left, left + width, 2 * rule.dash):
        draw.rectangle((x, y, min(x + rule.dash, left + width) - 1, bottom), fill=0)


def render_lines(blocks: Sequence[Block], width: int = PAPER_80MM, *, margin: int | None = None,
                 fonts: Fonts | None = None, threshold: int = 150) -> Image.Image:
    """Lay ``blocks`` out top to bottom on a page ``width`` dots wide; a mode '1' image.

    ``margin`` (default 2 % of the width) is kept on the left and right; pictures wider
    than the content area are a programming error and raise ``ValueError``.
    """
    fonts = fonts or default_fonts()
    margin = round(width * 0.02) if margin is None else margin
    content = width - 2 * margin
    laid = [_lay(block, fonts, margin, content) for block in blocks]
    for block in blocks:
        if isinstance(block, Picture) and block.image.width > content:
            raise ValueError(f"picture {block.image.width} dots wide does not fit in {content}")
    canvas = Image.new("L", (width, max(1, sum(h for h, _ in laid))), 255)
    draw = ImageDraw.Draw(canvas)
    y = 0
    for height, paint in laid:
        paint(draw, canvas, y)
        y += height
    # no dithering: grey edge pixels go black or white, strokes stay crisp on a thermal head
    return canvas.point(lambda p: 255 if p >= threshold else 0, mode="1")


# -- queue ticket ---------------------------------------------------------------------------


@dataclass(frozen=True)
class TicketSlip:
    """Everything printed on a queue ticket, as plain values (no ORM objects).

    ``issued_at_local`` is already in the unit's timezone; ``qr_url`` is the ticket's
    public page (ASCII) or None for no QR; ``paper_width`` is 576 (80 mm) or 384 (58 mm).
    """

    unit_name: str
    label: str
    service_name: str
    waiting_ahead: int
    estimated_minutes: int | None
    issued_at_local: dt.datetime
    qr_url: str | None
    footer: str = ""
    paper_width: int = PAPER_80MM
    # the priority class in words ("Người cao tuổi"), empty for none
    priority_label: str = ""
    # counters serving the field open when printed: 0 prints "no counter open" for the wait
    # (never "under a minute"); None when unknown
    counters_open: int | None = None
    # the procedure the citizen chose, and the documents it needs when the unit prints them
    procedure_name: str = ""
    documents: tuple[str, ...] = ()
    # the start of the booking (lịch hẹn) the ticket was checked in for, "09:30"; empty for none
    booking_time: str = ""

    def __post_init__(self) -> None:
        if self.paper_width not in PAPER_WIDTHS:
            raise ValueError(f"paper_width must be one of {PAPER_WIDTHS}, not {self.paper_width}")


@dataclass(frozen=True)
class TicketTexts:
    """The fixed wording of a ticket (Vietnamese; pass translations to change it)."""

    title: str = "PHIẾU SỐ THỨ TỰ"
    waiting_ahead: str = "Số người đang chờ trước Quý công dân: {n}"
    estimated_wait: str = "Thời gian chờ dự kiến: khoảng {m} phút"
    estimated_wait_short: str = "Thời gian chờ dự kiến: dưới 1 phút"
    no_counter_open: str = "Chưa có quầy nào đang phục vụ lĩnh vực này"
    priority: str = "Ưu tiên: {label}"
    procedure: str = "Thủ tục: {name}"
    documents: str = "Giấy tờ cần chuẩn bị:"
    booking: str = "Lịch hẹn {time}"


@dataclass(frozen=True)
class _Sizes:
    unit: int
    title: int
    label: int
    service: int
    info: int
    footer: int
    qr: int
    gap: int = 10


def _sizes(width: int) -> _Sizes:
    s = width / PAPER_80MM

    def px(base: int, least: int) -> int:
        return max(least, round(base * s))

    return _Sizes(unit=px(26, 18), title=px(34, 24), label=px(190, 120), service=px(30, 20),
                  info=px(24, 18), footer=px(20, 16), qr=px(230, 160), gap=px(10, 6))


def format_count(n: int) -> str:
    """Vietnamese thousands separator: 1234 -> "1.234"."""
    return f"{n:,}".replace(",", ".")


def ticket_lines(slip: TicketSlip, texts: TicketTexts = TicketTexts()) -> dict[str, str]:
    """The ticket's wording, line by line (shared by the raster and the text-mode layouts)."""
    if slip.estimated_minutes is None:
        wait = ""
    elif slip.counters_open == 0:
        wait = texts.no_counter_open
    elif slip.estimated_minutes < 1:
        wait = texts.estimated_wait_short
    else:
        wait = texts.estimated_wait.format(m=format_count(slip.estimated_minutes))
    return {
        "unit": slip.unit_name, "title": texts.title, "label": slip.label,
        "service": slip.service_name,
        "priority": texts.priority.format(label=slip.priority_label) if slip.priority_label else "",
        "booking": texts.booking.format(time=slip.booking_time) if slip.booking_time else "",
        "ahead": texts.waiting_ahead.format(n=format_count(slip.waiting_ahead)),
        "wait": wait, "time": slip.issued_at_local.strftime("%H:%M %d/%m/%Y"), "footer": slip.footer,
        "procedure": texts.procedure.format(name=slip.procedure_name) if slip.procedure_name else "",
        "documents": "\n".join([texts.documents] + [f"{n}. {d}" for n, d in
                                                     enumerate(slip.documents, start=1)])
        if slip.documents else "",
    }


def ticket_blocks(slip: TicketSlip, texts: TicketTexts = TicketTexts()) -> list[Block]:
    """The ticket as layout blocks, sized for its paper width."""
    z = _sizes(slip.paper_width)
    words = ticket_lines(slip, texts)
    blocks: list[Block] = [
        Space(z.gap), Text(words["unit"], z.unit, bold=True), Space(z.gap), Rule(2),
        Space(z.gap), Text(words["title"], z.title, bold=True, fit=True),
        Text(words["label"], z.label, bold=True, fit=True, line_spacing=1.0),
        Text(words["service"], z.service, bold=True),
    ]
    if words["priority"]:
        blocks.append(Text(words["priority"], z.service, bold=True))
    if words["booking"]:
        blocks.append(Text(words["booking"], z.service, bold=True))
    blocks += [Space(z.gap), Rule(1, dash=6), Space(z.gap), Text(words["ahead"], z.info)]
    if words["wait"]:
        blocks.append(Text(words["wait"], z.info))
    blocks.append(Text(words["time"], z.info))
    if words["procedure"]:
        blocks += [Space(z.gap), Rule(1, dash=6), Space(z.gap), Text(words["procedure"], z.info, bold=True)]
    if words["documents"]:
        title, *items = words["documents"].split("\n")
        blocks += [Space(z.gap // 2), Text(title, z.info, bold=True, align="left")]
        blocks += [Text(item, z.footer, align="left") for item in items]
    if slip.qr_url:
        blocks += [Space(z.gap), Picture(make_qr(slip.qr_url, target_px=z.qr))]
    if words["footer"]:
        blocks += [Space(z.gap), Text(words["footer"], z.footer)]
    blocks.append(Space(2 * z.gap))
    return blocks


def render_ticket(slip: TicketSlip, *, fonts: Fonts | None = None,
                  texts: TicketTexts = TicketTexts()) -> Image.Image:
    """The queue ticket as one mode '1' image, ``slip.paper_width`` dots wide."""
    return render_lines(ticket_blocks(slip, texts), slip.paper_width, fonts=fonts)
