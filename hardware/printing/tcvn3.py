"""Unicode -> TCVN3 ("ABC", TCVN 5712:1993 table VN3), the 8-bit Vietnamese encoding.

Only for printer *text mode* on printers known to carry the TCVN-3 code pages (Epson
pages 30 and 31); the default everywhere is raster printing. TCVN3 keeps ASCII in
0x00-0x7F and puts, in 0xA1-0xFE, the seven extra capitals and the lowercase letters
with tone marks. Capitals *with* a tone mark (Ấ, Ộ, ...) have no code of their own: the
standard draws them with a second, capital font in which the lowercase codes show as
capitals (the ".VnTimeH" fonts; Epson's page 31). :func:`tcvn3_segments` splits text
into runs for the two pages; :func:`encode_tcvn3` (one page) lowercases such letters.

The table below is written from the standard's code points, letter by letter.
"""

from __future__ import annotations

import unicodedata

# Extra base letters, then per vowel: grave, hook above, tilde, acute, dot below.
_BASE = {
    "Ă": 0xA1, "Â": 0xA2, "Ê": 0xA3, "Ô": 0xA4, "Ơ": 0xA5, "Ư": 0xA6, "Đ": 0xA7,
    "ă": 0xA8, "â": 0xA9, "ê": 0xAA, "ô": 0xAB, "ơ": 0xAC, "ư": 0xAD, "đ": 0xAE,
}
_TONED = {
    "a": (0xB5, 0xB6, 0xB7, 0xB8, 0xB9),  # à ả ã á ạ
    "ă": (0xBB, 0xBC, 0xBD, 0xBE, 0xC6),  # ằ ẳ ẵ ắ ặ
    "â": (0xC7, 0xC8, 0xC9, 0xCA, 0xCB),  # ầ ẩ ẫ ấ ậ
    "e": (0xCC, 0xCE, 0xCF, 0xD0, 0xD1),  # è ẻ ẽ é ẹ
    "ê": (0xD2, 0xD3, 0xD4, 0xD5, 0xD6),  # ề ể ễ ế ệ
    "i": (0xD7, 0xD8, 0xDC, 0xDD, 0xDE),  # ì ỉ ĩ í ị
    "o": (0xDF, 0xE1, 0xE2, 0xE3, 0xE4),  # ò ỏ õ ó ọ
    "ô": (0xE5, 0xE6, 0xE7, 0xE8, 0xE9),  # ồ ổ ỗ ố ộ
    "ơ": (0xEA, 0xEB, 0xEC, 0xED, 0xEE),  # ờ ở ỡ ớ ợ
    "u": (0xEF, 0xF1, 0xF2, 0xF3, 0xF4),  # ù ủ ũ ú ụ
    "ư": (0xF5, 0xF6, 0xF7, 0xF8, 0xF9),  # ừ ử ữ ứ ự
    "y": (0xFA, 0xFB, 0xFC, 0xFD, 0xFE),  # ỳ ỷ ỹ ý ỵ
}
_TONE_MARKS = ("\u0300", "\u0309", "\u0303", "\u0301", "\u0323")
# Typographic characters a printer's ASCII half can stand in for.
_ASCII_STAND_INS = {"–": "-", "—": "-", "‘": "'", "’": "'", "“": '"', "”": '"', "…": "...", "\u00a0": " "}


def _build() -> tuple[dict[str, int], dict[str, int]]:
    lower = dict(_BASE)
    for vowel, codes in _TONED.items():
        for mark, code in zip(_TONE_MARKS, codes, strict=True):
            lower[unicodedata.normalize("NFC", vowel + mark)] = code
    # toned capitals: the capital page shows them at their lowercase letter's code
    capitals = {ch.upper(): code for ch, code in lower.items() if ch.islower() and ch.upper() not in lower}
    return lower, capitals


#: Unicode letter -> byte in the ordinary (lowercase) TCVN3 page.
TCVN3_TABLE, _CAPITALS = _build()
#: Toned capitals -> byte in the capital page (same code as the lowercase letter).
TCVN3_CAPITALS = _CAPITALS


def _ascii(ch: str, errors: str) -> bytes:
    ch = _ASCII_STAND_INS.get(ch, ch)
    if ch.isascii():
        return ch.encode("ascii")
    if errors == "strict":
        raise UnicodeEncodeError("tcvn3", ch, 0, 1, "not in TCVN3")
    return b"?"


def tcvn3_segments(text: str, errors: str = "replace") -> list[tuple[bool, bytes]]:
    """``text`` as ``(capital_page, bytes)`` runs; ``capital_page`` runs hold toned capitals.

    ASCII stays in whatever run is open (both pages keep ASCII); characters outside
    TCVN3 become ``?`` (``errors="replace"``) or raise (``"strict"``).
    """
    runs: list[tuple[bool, bytearray]] = []
    for ch in unicodedata.normalize("NFC", text):
        if ch in TCVN3_TABLE:
            page, code = False, bytes((TCVN3_TABLE[ch],))
        elif ch in TCVN3_CAPITALS:
            page, code = True, bytes((TCVN3_CAPITALS[ch],))
        else:
            page, code = (runs[-1][0] if runs else False), _ascii(ch, errors)
        if not runs or runs[-1][0] != page:
            runs.append((page, bytearray()))
        runs[-1][1].extend(code)
    return [(page, bytes(data)) for page, data in runs]


def encode_tcvn3(text: str, errors: str = "replace") -> bytes:
    """``text`` in the ordinary TCVN3 page; toned capitals fall back to their lowercase."""
    out = bytearray()
    for ch in unicodedata.normalize("NFC", text):
        if ch in TCVN3_TABLE:
            out.append(TCVN3_TABLE[ch])
        elif ch in TCVN3_CAPITALS:
            out.append(TCVN3_CAPITALS[ch])
        else:
            out += _ascii(ch, errors)
    return bytes(out)
