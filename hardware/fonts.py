"""Fonts for printed slips: find one that covers every Vietnamese letter, and prove it.

A slip is printed as a raster image, so the font decides whether "Hòa Bình" comes out
right or as little boxes. :func:`find_font` picks the first candidate that covers the
whole Vietnamese alphabet:

1. the configured path(s) given by the caller (a TTF/OTF/WOFF/WOFF2 file, or several
   files used as one font, first file first);
2. Be Vietnam Pro, the font the screens use, from ``onestop/static/vendor/fonts`` or
   ``node_modules/@fontsource/be-vietnam-pro/files`` (``npm ci`` puts it there). Fontsource
   ships it as WOFF2 *subsets* (latin, latin-ext, vietnamese) and no single file covers
   Vietnamese (the "vietnamese" file has no plain ``a``), so the three subsets are
   loaded together as one fallback chain. FreeType reads WOFF2 when Pillow is built with
   brotli (the PyPI wheels are);
3. Debian's DejaVu Sans (``fonts-dejavu-core``), then Noto Sans and Liberation Sans.

Glyph coverage is checked without fontTools: a character is missing when FreeType draws
it exactly like the ``.notdef`` glyph (probed with an unassigned code point), using the
basic layout so that HarfBuzz cannot hide a missing precomposed letter by decomposing it.
"""

from __future__ import annotations

import functools
import logging
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from PIL import ImageDraw, ImageFont

log = logging.getLogger(__name__)

_TONES = "\u0300\u0309\u0303\u0301\u0323"  # huyền, hỏi, ngã, sắc, nặng
_VOWELS = "aăâeêioôơuưy"
_EXTRA_LETTERS = "ăâđêôơư"


def _vietnamese_letters() -> str:
    toned = [unicodedata.normalize("NFC", v + t) for v in _VOWELS for t in _TONES]
    lower = "abcdefghijklmnopqrstuvwxyz" + _EXTRA_LETTERS + "".join(toned)
    return lower + lower.upper()


#: Every letter of the Vietnamese alphabet, both cases, precomposed (NFC), plus f j w z.
VIETNAMESE_LETTERS = _vietnamese_letters()
#: What a slip prints besides letters: digits, punctuation, the en dash of "Tư pháp – Hộ tịch".
SLIP_SYMBOLS = "0123456789 .,:;/-–()%#*+=?!\"'&@_"
REQUIRED = VIETNAMESE_LETTERS + SLIP_SYMBOLS

_PROBE_SIZE = 32
_NOTDEF_PROBE = "\U0010fffd"  # plane-16 private use: no font maps it, so FreeType uses .notdef
_ROOT = Path(__file__).resolve().parents[1]
_FONTSOURCE_DIRS = (
    _ROOT / "onestop" / "static" / "vendor" / "fonts",
    _ROOT / "node_modules" / "@fontsource" / "be-vietnam-pro" / "files",
)
_SYSTEM_FONTS = {
    False: (
        ("DejaVu Sans", "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
        ("Noto Sans", "/usr/share/fonts/truetype/noto/NotoSans-Regular.ttf"),
        ("Liberation Sans", "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf"),
    ),
    True: (
        ("DejaVu Sans Bold", "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"),
        ("Noto Sans Bold", "/usr/share/fonts/truetype/noto/NotoSans-Bold.ttf"),
        ("Liberation Sans Bold", "/usr/share/fonts/truetype/liberation/LiberationSans-Bold.ttf"),
    ),
}


class FontNotFound(LookupError):
    """No candidate font covers the Vietnamese alphabet."""


@dataclass(frozen=True)
class FontSpec:
    """A font as one or more files; characters are looked up in the files in order."""

    name: str
    paths: tuple[str, ...]


def _font_has(path: str, ch: str) -> bool:
    return _coverage(path)(ch)


@functools.lru_cache(maxsize=64)
def _coverage(path: str) -> Callable[[str], bool]:
    """A cached ``has_glyph(ch)`` for one font file (size-independent)."""
    font = ImageFont.truetype(path, _PROBE_SIZE, layout_engine=ImageFont.Layout.BASIC)
    notdef = _fingerprint(font, _NOTDEF_PROBE)
    known: dict[str, bool] = {}

    def has_glyph(ch: str) -> bool:
        if ch not in known:
            known[ch] = _is_blank_by_nature(ch) or _fingerprint(font, ch) != notdef
        return known[ch]

    return has_glyph


def _fingerprint(font: ImageFont.FreeTypeFont, ch: str) -> tuple[object, ...]:
    mask = font.getmask(ch)
    return (mask.size, bytes(mask), font.getlength(ch))


def _is_blank_by_nature(ch: str) -> bool:
    """Spaces and format characters legitimately draw nothing."""
    return unicodedata.category(ch) in {"Zs", "Cc", "Cf"}


def missing_glyphs(text: str, font: FontSpec | FontChain | str | Path) -> list[str]:
    """The distinct characters of ``text`` (after NFC) that no file of ``font`` can draw.

    An empty list means the printed text has no missing-glyph boxes.
    """
    paths = _paths_of(font)
    seen: list[str] = []
    for ch in unicodedata.normalize("NFC", text):
        if ch not in seen and not any(_font_has(p, ch) for p in paths):
            seen.append(ch)
    return seen


def covers(text: str, font: FontSpec | FontChain | str | Path) -> bool:
    """True when every character of ``text`` has a real glyph in ``font``."""
    return not missing_glyphs(text, font)


def _paths_of(font: FontSpec | FontChain | str | Path) -> tuple[str, ...]:
    if isinstance(font, FontChain):
        return font.spec.paths
    if isinstance(font, FontSpec):
        return font.paths
    return (str(font),)


def _fontsource_candidates(bold: bool) -> list[FontSpec]:
    weight = 700 if bold else 400
    found = []
    for folder in _FONTSOURCE_DIRS:
        files = [folder / f"be-vietnam-pro-{subset}-{weight}-normal.woff2"
                 for subset in ("latin", "vietnamese", "latin-ext")]
        if all(f.is_file() for f in files):
            found.append(FontSpec(f"Be Vietnam Pro {weight}", tuple(str(f) for f in files)))
    return found


def _candidates(bold: bool, configured: Sequence[str | Path] | str | Path | None) -> list[FontSpec]:
    out: list[FontSpec] = []
    if configured:
        paths = (configured,) if isinstance(configured, str | Path) else tuple(configured)
        out.append(FontSpec(Path(paths[0]).stem, tuple(str(p) for p in paths)))
    out += _fontsource_candidates(bold)
    out += [FontSpec(name, (path,)) for name, path in _SYSTEM_FONTS[bold]]
    return out


def _usable(spec: FontSpec) -> bool:
    if not all(Path(p).is_file() for p in spec.paths):
        return False
    try:
        gaps = missing_glyphs(REQUIRED, spec)
    except OSError as exc:  # unreadable or a format this FreeType cannot load
        log.warning("font %s cannot be loaded: %s", spec.name, exc)
        return False
    if gaps:
        log.warning("font %s lacks %s; trying the next one", spec.name, "".join(gaps[:20]))
    return not gaps


@functools.lru_cache(maxsize=32)
def _find(bold: bool, configured: tuple[str, ...] | None) -> FontSpec:
    for spec in _candidates(bold, configured):
        if _usable(spec):
            return spec
    raise FontNotFound(
        "no font covering Vietnamese found: configure one, run `npm ci`, or install fonts-dejavu-core")


def find_font(bold: bool = False, configured: Sequence[str | Path] | str | Path | None = None) -> FontSpec:
    """The first font (configured, Be Vietnam Pro, DejaVu, ...) covering every Vietnamese letter.

    A configured font that does not cover the alphabet is logged and skipped: a kiosk
    should still print. Raises :class:`FontNotFound` when nothing fits.
    """
    key: tuple[str, ...] | None
    if configured is None:
        key = None
    elif isinstance(configured, str | Path):
        key = (str(configured),)
    else:
        key = tuple(str(p) for p in configured)
    return _find(bold, key)


class FontChain:
    """One font at one pixel size, drawn from several files: each character comes from
    the first file that has it (the fontsource subsets are one family, so metrics match)."""

    def __init__(self, spec: FontSpec, size: int) -> None:
        self.spec = spec
        self.size = size
        self.faces = [ImageFont.truetype(p, size) for p in spec.paths]
        ascent, descent = self.faces[0].getmetrics()
        self.ascent, self.descent = ascent, descent

    @property
    def line_height(self) -> int:
        return self.ascent + self.descent

    def runs(self, text: str) -> list[tuple[ImageFont.FreeTypeFont, str]]:
        """Split ``text`` into (face, substring) runs; a missing character stays in face 0."""
        out: list[tuple[ImageFont.FreeTypeFont, str]] = []
        for ch in unicodedata.normalize("NFC", text):
            index = next((i for i, p in enumerate(self.spec.paths) if _font_has(p, ch)), 0)
            face = self.faces[index]
            if out and out[-1][0] is face:
                out[-1] = (face, out[-1][1] + ch)
            else:
                out.append((face, ch))
        return out

    def length(self, text: str) -> float:
        """Advance width of ``text`` in pixels."""
        return sum(face.getlength(part) for face, part in self.runs(text))

    def draw(self, draw: ImageDraw.ImageDraw, xy: tuple[float, float], text: str, fill: int = 0) -> None:
        """Draw ``text`` with its top-left (ascender line) at ``xy``."""
        x, y = xy
        for face, part in self.runs(text):
            draw.text((x, y + self.ascent), part, font=face, fill=fill, anchor="ls")
            x += face.getlength(part)


@functools.lru_cache(maxsize=256)
def load_font(spec: FontSpec, size: int) -> FontChain:
    """A cached :class:`FontChain` of ``spec`` at ``size`` pixels."""
    return FontChain(spec, size)
