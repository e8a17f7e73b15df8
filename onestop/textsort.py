"""Vietnamese alphabetical order and the one rounding rule of pages and exports.

``vi_key`` sorts names as a Vietnamese reader expects: letters in the order of the
Vietnamese alphabet (a ă â b c d đ e ê g h i k l m n o ô ơ p q r s t u ư v x y, with the
Latin letters f j w z in their Latin places), so "Đặng" comes after "Dương" and before
"Em", never after "Z" as a plain code-point sort puts it. Words compare letter by letter
first; tones only break ties (no tone, huyền, hỏi, ngã, sắc, nặng: the order of the ICU
Vietnamese collation), then letter case. Hand-written rather than PyICU: a heavy native
dependency for one key function.

``round_half_up`` is the rounding every figure a person reads goes through, on the web
pages (``manager/common.js`` does the same on the same decimal text) and in the XLSX,
CSV and PDF exports: half away from zero on the value's shortest decimal text, so 2.25
minutes reads 2,3 everywhere (Python's ``round`` and ``format`` give 2.2, JavaScript's
``Intl.NumberFormat`` 2.3).
"""

from __future__ import annotations

import unicodedata
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

# base letter + its modifier (breve, circumflex, horn) -> one letter of the alphabet
ALPHABET = ("a", "ă", "â", "b", "c", "d", "đ", "e", "ê", "f", "g", "h", "i", "j", "k", "l",
            "m", "n", "o", "ô", "ơ", "p", "q", "r", "s", "t", "u", "ư", "v", "w", "x", "y", "z")
_RANK = {letter: i for i, letter in enumerate(ALPHABET)}
_LETTER_MARKS = {"\u0306", "\u0302", "\u031b"}  # breve, circumflex, horn: part of the letter
# tones: none 0; huyền (grave), hỏi (hook), ngã (tilde), sắc (acute), nặng (dot below)
_TONES = {"\u0300": 1, "\u0309": 2, "\u0303": 3, "\u0301": 4, "\u0323": 5}
_LETTER_BASE = 1000  # letters after digits, spaces and punctuation (ranked by code point)


def _letters(text: str) -> list[tuple[int, int, int]]:
    """``(primary, tone, case)`` for each letter or other character of ``text``."""
    out: list[tuple[int, int, int]] = []
    for ch in unicodedata.normalize("NFD", text):
        if unicodedata.combining(ch) and out:
            primary, tone, case = out[-1]
            if ch in _TONES:
                out[-1] = (primary, _TONES[ch], case)
            elif ch in _LETTER_MARKS and primary >= _LETTER_BASE:
                base = ALPHABET[primary - _LETTER_BASE]
                merged = unicodedata.normalize("NFC", base + ch)
                out[-1] = (_LETTER_BASE + _RANK.get(merged, primary - _LETTER_BASE), tone, case)
            continue
        lower = ch.lower()
        case = 0 if ch == lower else 1
        if lower in _RANK:
            out.append((_LETTER_BASE + _RANK[lower], 0, case))
        else:
            out.append((ord(lower) if ord(lower) < _LETTER_BASE else _LETTER_BASE * 10 + ord(lower), 0, 0))
    return out


def vi_key(text: str | None) -> tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]:
    """Sort key of ``text`` in Vietnamese alphabetical order (letters, then tones, then case)."""
    letters = _letters((text or "").strip())
    return (tuple(p for p, _t, _c in letters), tuple(t for _p, t, _c in letters),
            tuple(c for _p, _t, c in letters))


def round_half_up(value: float | int | None, decimals: int = 1) -> float | None:
    """``value`` to ``decimals`` places, half away from zero on its shortest decimal text
    (``repr``): what a person computing by hand gets, and what the pages show."""
    if value is None:
        return None
    try:
        exact = Decimal(repr(float(value)))
    except (InvalidOperation, ValueError):
        return None
    return float(exact.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP))
