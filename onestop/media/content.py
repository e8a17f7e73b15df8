"""What an uploaded file really is, read from its bytes (never its name or Content-Type).

Images: Pillow opens and verifies PNG, JPEG and WebP (anything else Pillow knows is
refused: a hall display needs nothing more, and a TIFF or an SVG is more attack surface).
Videos: an MP4 is an ISO-BMFF file whose first box is ``ftyp`` with an MP4 brand, whose
top-level boxes chain exactly to the end of the file, and which has a ``moov`` box.
"""

from __future__ import annotations

import io
import struct
import warnings
from dataclasses import dataclass

from PIL import Image

IMAGE_FORMATS = {"PNG": ("image/png", "png"), "JPEG": ("image/jpeg", "jpg"), "WEBP": ("image/webp", "webp")}
MP4_BRANDS = frozenset({b"isom", b"iso2", b"iso3", b"iso4", b"iso5", b"iso6", b"iso8", b"iso9", b"mp41",
                        b"mp42", b"avc1", b"av01", b"dash", b"M4V ", b"MSNV", b"mmp4", b"cmfc", b"cmf2"})
MAX_PIXELS = 40_000_000  # a larger picture is a decompression bomb, not a hall slide


class NotMedia(ValueError):
    """The bytes are not a PNG, JPEG, WebP image or an MP4 video."""


@dataclass(frozen=True)
class Sniffed:
    kind: str  # "image" | "video"
    mime: str
    ext: str
    width: int | None = None
    height: int | None = None


def sniff(data: bytes) -> Sniffed:
    """The kind of ``data``, or :class:`NotMedia`."""
    if data[4:8] == b"ftyp":
        return _mp4(data)
    return _image(data)


def _image(data: bytes) -> Sniffed:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=list(IMAGE_FORMATS)) as img:
                fmt, size = img.format, img.size
                if size[0] * size[1] > MAX_PIXELS:
                    raise NotMedia("too many pixels")
                img.verify()
            with Image.open(io.BytesIO(data), formats=[fmt or ""]) as img:
                img.load()  # verify() skips the pixel data of some formats: decode it all
    except NotMedia:
        raise
    except Exception as exc:  # Pillow raises many kinds for broken or foreign files
        raise NotMedia(str(exc)) from exc
    mime, ext = IMAGE_FORMATS[str(fmt)]
    return Sniffed("image", mime, ext, size[0], size[1])


def boxes(data: bytes) -> list[bytes]:
    """The types of the top-level ISO-BMFF boxes, in order; NotMedia if they do not chain
    exactly to the end of ``data``."""
    found, at = [], 0
    while at < len(data):
        if len(data) - at < 8:
            raise NotMedia("truncated box header")
        size, kind = struct.unpack(">I4s", data[at:at + 8])
        header = 8
        if size == 1:
            if len(data) - at < 16:
                raise NotMedia("truncated box header")
            size, header = struct.unpack(">Q", data[at + 8:at + 16])[0], 16
        elif size == 0:
            size = len(data) - at  # the last box runs to the end of the file
        if size < header or at + size > len(data) or not all(0x20 <= b < 0x7F for b in kind):
            raise NotMedia("broken box")
        found.append(kind)
        at += size
    return found


def _mp4(data: bytes) -> Sniffed:
    kinds = boxes(data)
    size = struct.unpack(">I", data[:4])[0]
    brands = {data[8:12]} | {data[i:i + 4] for i in range(16, min(size, 64), 4)}
    if not brands & MP4_BRANDS:
        raise NotMedia("not an MP4 brand")
    if b"moov" not in kinds:
        raise NotMedia("no moov box")
    return Sniffed("video", "video/mp4", "mp4")
