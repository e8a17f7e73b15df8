"""Vietnamese number reading, for announcements.

The rules (Northern standard, as a hall announcer reads them):

- 15 mười lăm, 25 hai mươi lăm, but 105 một trăm linh năm (``lăm`` only after mười/mươi);
- 21 hai mươi mốt (``mốt`` after mươi, 11 stays mười một);
- 24 hai mươi tư (``tư`` after mươi, 14 stays mười bốn);
- 105 một trăm linh năm, 110 một trăm mười;
- a group after a larger one is read in full: 1005 một nghìn không trăm linh năm,
  1024 một nghìn không trăm hai mươi tư; empty groups are skipped (1000000 một triệu).

The Southern style (``lẻ`` for ``linh``, ``ngàn`` for ``nghìn``) is an option.
num2words(lang="vi") is not used: it says "lẻ", "hai mươi bốn" and drops "không trăm".
"""

from __future__ import annotations

import re

DIGITS = ("không", "một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám", "chín")
STYLES = {"north": ("linh", "nghìn"), "south": ("lẻ", "ngàn")}
BILLION = 10**9
_LABEL = re.compile(r"^(?P<prefix>[^\W\d_]*)[\s\-._]*(?P<digits>\d+)$")


def _tens(n: int) -> list[str]:
    """0 < n < 100."""
    tens, units = divmod(n, 10)
    if tens == 0:
        return [DIGITS[units]]
    words = ["mười"] if tens == 1 else [DIGITS[tens], "mươi"]
    if units == 1 and tens > 1:
        words.append("mốt")
    elif units == 4 and tens > 1:
        words.append("tư")
    elif units == 5:
        words.append("lăm")
    elif units:
        words.append(DIGITS[units])
    return words


def _hundreds(n: int, full: bool, odd: str) -> list[str]:
    """0 < n < 1000; ``full`` reads "không trăm" when a larger group came before."""
    hundreds, rest = divmod(n, 100)
    words = [DIGITS[hundreds], "trăm"] if hundreds or full else []
    if rest and words and rest < 10:
        return words + [odd, DIGITS[rest]]
    return words + (_tens(rest) if rest else [])


def _below_billion(n: int, full: bool, odd: str, thousand: str) -> list[str]:
    words: list[str] = []
    for scale, name in ((10**6, "triệu"), (10**3, thousand), (1, "")):
        group = n // scale % 1000
        if group:
            words += _hundreds(group, full, odd) + ([name] if name else [])
            full = True
    return words


def number_to_words(n: int, style: str = "north") -> str:
    """Read a non-negative integer in Vietnamese words: 1024 -> "một nghìn không trăm hai mươi tư"."""
    if n < 0:
        raise ValueError("negative numbers are not announced")
    if n == 0:
        return DIGITS[0]
    odd, thousand = STYLES.get(style, STYLES["north"])
    high, low = divmod(n, BILLION)
    words = (number_to_words(high, style).split() + ["tỷ"]) if high else []
    if low:
        words += _below_billion(low, bool(high), odd, thousand)
    return " ".join(words)


def digits_to_words(digits: str) -> str:
    """Read digit by digit: "012" -> "không một hai"."""
    return " ".join(DIGITS[int(d)] for d in digits if d.isdigit())


def read_label(label: str, number_mode: str = "words", read_prefix: bool = True,
               style: str = "north") -> str:
    """How a ticket label is said: "A012" -> "A, mười hai" (or "A, không một hai" by digits).

    The letters of the prefix are kept as capitals, one by one ("AB" -> "A B"): every
    back end reads a lone capital as the letter's name. A label that is not
    ``letters + digits`` is returned unchanged.
    """
    match = _LABEL.match(label.strip())
    if match is None:
        return label.strip()
    digits = match["digits"]
    number = digits_to_words(digits) if number_mode == "digits" else number_to_words(int(digits), style)
    prefix = " ".join(match["prefix"].upper())
    return f"{prefix}, {number}" if prefix and read_prefix else number
