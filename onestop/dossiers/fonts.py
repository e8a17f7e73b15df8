"""TrueType fonts for the dossier PDFs (BM.01 ... BM.04): find a family that writes Vietnamese.

fpdf2 embeds one TrueType/OpenType file per style, so the forms need real TTF files
(``hardware.fonts`` may answer with WOFF2 subsets for raster slips, and the core does not
import a surface package anyway). Candidates, first usable wins:

1. the files the caller configures (regular, bold, and optionally italic);
2. DejaVu Serif, then DejaVu Sans (Debian ``fonts-dejavu-core``; the italics come from
   ``fonts-dejavu-extra`` and are optional), then Noto Serif / Noto Sans.

A family is usable when its regular and bold files exist and their character maps cover
every Vietnamese letter (checked with fontTools, which fpdf2 already depends on).
"""

from __future__ import annotations

import functools
import logging
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from fontTools.ttLib import TTFont, TTLibError

log = logging.getLogger(__name__)

_TONES = "\u0300\u0309\u0303\u0301\u0323"  # huyền, hỏi, ngã, sắc, nặng
_VOWELS = "aăâeêioôơuưy"
_LOWER = "abcdefghijklmnopqrstuvwxyzđ" + "ăâêôơư" + "".join(
    unicodedata.normalize("NFC", v + t) for v in _VOWELS for t in _TONES)
#: Every Vietnamese letter (both cases, precomposed), digits and the punctuation the forms print.
REQUIRED = _LOWER + _LOWER.upper() + "0123456789 .,:;/-–…()%#*+=?!\"'&@_"

_DEJAVU = "/usr/share/fonts/truetype/dejavu"
_NOTO = "/usr/share/fonts/truetype/noto"
_SYSTEM_FAMILIES: tuple[tuple[str, str, str, str], ...] = (
    ("DejaVu Serif", f"{_DEJAVU}/DejaVuSerif.ttf", f"{_DEJAVU}/DejaVuSerif-Bold.ttf",
     f"{_DEJAVU}/DejaVuSerif-Italic.ttf"),
    ("DejaVu Sans", f"{_DEJAVU}/DejaVuSans.ttf", f"{_DEJAVU}/DejaVuSans-Bold.ttf",
     f"{_DEJAVU}/DejaVuSans-Oblique.ttf"),
    ("Noto Serif", f"{_NOTO}/NotoSerif-Regular.ttf", f"{_NOTO}/NotoSerif-Bold.ttf",
     f"{_NOTO}/NotoSerif-Italic.ttf"),
    ("Noto Sans", f"{_NOTO}/NotoSans-Regular.ttf", f"{_NOTO}/NotoSans-Bold.ttf",
     f"{_NOTO}/NotoSans-Italic.ttf"),
)


class PdfFontNotFound(LookupError):
    """No TrueType family covering Vietnamese was found."""


@dataclass(frozen=True)
class PdfFontFamily:
    """Files of one family; ``italic`` is None when the family has none installed."""

    name: str
    regular: str
    bold: str
    italic: str | None = None


@functools.lru_cache(maxsize=32)
def charset(path: str) -> frozenset[int]:
    """Code points the font file maps to a glyph (empty when it cannot be read)."""
    try:
        with TTFont(path, lazy=True) as font:
            cmap = font.getBestCmap() or {}
    except (OSError, TTLibError) as exc:
        log.warning("font %s cannot be read: %s", path, exc)
        return frozenset()
    return frozenset(cmap)


def missing(text: str, path: str) -> str:
    """The distinct characters of ``text`` (NFC) that the file ``path`` has no glyph for."""
    chars = charset(path)
    out: list[str] = []
    for ch in unicodedata.normalize("NFC", text):
        if ord(ch) not in chars and ch not in out:
            out.append(ch)
    return "".join(out)


def _usable(family: PdfFontFamily) -> bool:
    for path in (family.regular, family.bold):
        if not Path(path).is_file():
            return False
        gaps = missing(REQUIRED, path)
        if gaps:
            log.warning("font %s lacks %s; trying the next one", path, gaps[:20])
            return False
    return True


@functools.lru_cache(maxsize=8)
def _find(configured: tuple[str, ...]) -> PdfFontFamily:
    candidates: list[PdfFontFamily] = []
    if len(configured) >= 2:
        italic = configured[2] if len(configured) > 2 else None
        candidates.append(PdfFontFamily(Path(configured[0]).stem, configured[0], configured[1], italic))
    candidates += [PdfFontFamily(*row) for row in _SYSTEM_FAMILIES]
    for family in candidates:
        if _usable(family):
            italic = family.italic if family.italic and Path(family.italic).is_file() else None
            if italic and missing(REQUIRED, italic):
                italic = None
            return PdfFontFamily(family.name, family.regular, family.bold, italic)
    raise PdfFontNotFound("no TrueType font covering Vietnamese: install fonts-dejavu-core or configure one")


def find_pdf_fonts(configured: tuple[str | Path, ...] = ()) -> PdfFontFamily:
    """The first family (configured ``(regular, bold[, italic])``, DejaVu, Noto) covering Vietnamese.

    A configured family that does not cover the alphabet is logged and skipped.
    Raises :class:`PdfFontNotFound` when nothing fits.
    """
    return _find(tuple(str(p) for p in configured))
