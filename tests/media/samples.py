"""Small media made in the test: real images from Pillow, an MP4 shaped box by box."""

from __future__ import annotations

import io
import struct

from PIL import Image


def image(fmt: str = "PNG", size: tuple[int, int] = (32, 18), colour: str = "#1d4ed8") -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, colour).save(buf, fmt)
    return buf.getvalue()


def box(kind: bytes, payload: bytes = b"") -> bytes:
    return struct.pack(">I", 8 + len(payload)) + kind + payload


def mp4(brand: bytes = b"isom", compatible: bytes = b"isommp41") -> bytes:
    """ftyp (major brand, minor version, compatible brands) + moov (mvhd) + mdat: the
    structure of an MP4 file (no frames to decode)."""
    ftyp = box(b"ftyp", brand + struct.pack(">I", 512) + compatible)
    mvhd = box(b"mvhd", bytes(4) + bytes(8) + struct.pack(">II", 1000, 0) + bytes(80))
    return ftyp + box(b"moov", mvhd) + box(b"mdat", b"\x00" * 16)


# a Windows executable's first bytes ("MZ", the PE stub): what a renamed .exe starts with
EXECUTABLE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 48 + \
    b"This program cannot be run in DOS mode.\r\r\n$" + b"\x00" * 200
