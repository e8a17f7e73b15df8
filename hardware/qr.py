"""QR codes as plain Pillow images, sized in whole printer dots.

The payload is always an ASCII URL (the ticket's or dossier's public page): a phone
camera opens it, and a USB kiosk scanner "types" it without keyboard-layout surprises.
Error correction M survives a smudged thermal print and keeps the code small.
"""

from __future__ import annotations

import qrcode
from PIL import Image
from qrcode.constants import ERROR_CORRECT_M

QUIET_ZONE = 4  # modules of white border the QR specification requires


def qr_modules(data: str) -> list[list[bool]]:
    """The module matrix (True = dark), quiet zone included."""
    try:
        data.encode("ascii")
    except UnicodeEncodeError as exc:
        raise ValueError(f"QR payload must be ASCII (a URL), got {data!r}") from exc
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, box_size=1, border=QUIET_ZONE)
    code.add_data(data)
    code.make(fit=True)
    matrix: list[list[bool]] = code.get_matrix()
    return matrix


def make_qr(data: str, *, box_size: int | None = None, target_px: int = 240) -> Image.Image:
    """A mode '1' image of ``data`` as a QR code (error correction M, 4-module quiet zone).

    ``box_size`` is the size of one module in pixels (printer dots); by default the
    largest whole size that keeps the image within ``target_px`` (at least 2 dots).
    """
    matrix = qr_modules(data)
    n = len(matrix)
    box = box_size or max(2, target_px // n)
    small = Image.new("1", (n, n), 1)
    small.putdata([0 if dark else 255 for row in matrix for dark in row])
    return small.resize((n * box, n * box), Image.Resampling.NEAREST)
