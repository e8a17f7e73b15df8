"""The chip ID card's QR (căn cước công dân gắn chip, CCCD): parse, check, refuse.

The QR on the front of the card holds seven fields separated by ``|``::

    ID number | old ID number (CMND) | full name | birth date ddmmyyyy | sex
        | permanent address | issue date ddmmyyyy

e.g. ``001203004005|012345678|Nguyễn Văn An|01012003|Nam|Số 2, Lê Lợi, Hà Nội|15082021``.
A USB scanner types it like a keyboard followed by Enter (sometimes CR LF or Tab), a camera
reads it whole. :func:`parse` takes that text and returns a :class:`CccdCard`, or raises
:class:`CccdError` with a stable code and a Vietnamese message saying what is wrong, so the
desk fills nothing from a bad read.

The rules: exactly seven fields (fewer: a truncated read); the ID number is 12 digits whose
4th digit (century and sex) and 5th-6th digits (year of birth) agree with the birth date and
sex fields (TT 59/2021/TT-BCA, Điều 7) — the card has no check digit, so this is the check
that catches a mangled read; the old number is empty or a CMND of 9 (or 12) digits; the name
is letters and spaces; the dates are real ddmmyyyy dates, the birth in the past and the
issue after the birth and not in the future; the sex is "Nam" or "Nữ". Only trailing CR, LF
and Tab (a scanner's suffix) are tolerated; any other control character is refused.

Pure: no Flask, no database, no clock (``today`` is given), nothing logged. The module keeps
nothing: what the desk keeps is what the clerk then submits with the dossier.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass


def N_(text: str) -> str:
    """Mark a text for the translation catalogue without translating it here."""
    return text


FIELDS = 7
MAX_PAYLOAD = 1000
MAX_NAME = 200  # the intake's limits (onestop/api/dossiers.py)
MAX_ADDRESS = 300
SEXES = ("Nam", "Nữ")
ID_NUMBER = re.compile(r"[0-9]{12}")
OLD_ID_NUMBER = re.compile(r"(?:[0-9]{9}|[0-9]{12})?")
DATE = re.compile(r"[0-9]{8}")
EARLIEST_BIRTH = dt.date(1900, 1, 1)

MESSAGES: dict[str, str] = {  # one sentence each, to stay readable in the source
    "cccd_malformed": N_("Mã QR không phải mã QR của thẻ căn cước công dân. Vui lòng quét lại mã QR trên mặt trước của thẻ."),  # noqa: E501
    "cccd_truncated": N_("Dữ liệu quét từ thẻ căn cước bị thiếu (đọc chưa hết). Vui lòng quét lại."),
    "cccd_id_number": N_("Số định danh trên mã QR không hợp lệ (phải gồm đúng 12 chữ số). Vui lòng quét lại."),  # noqa: E501
    "cccd_old_id_number": N_("Số CMND cũ trên mã QR không hợp lệ. Vui lòng quét lại."),
    "cccd_name": N_("Họ và tên trên mã QR không hợp lệ. Vui lòng quét lại."),
    "cccd_birth_date": N_("Ngày sinh trên mã QR không hợp lệ. Vui lòng quét lại."),
    "cccd_sex": N_("Giới tính trên mã QR không hợp lệ. Vui lòng quét lại."),
    "cccd_address": N_("Nơi thường trú trên mã QR không hợp lệ. Vui lòng quét lại."),
    "cccd_issue_date": N_("Ngày cấp trên mã QR không hợp lệ. Vui lòng quét lại."),
    "cccd_inconsistent": N_("Số định danh không khớp với năm sinh hoặc giới tính trên mã QR. Vui lòng quét lại hoặc nhập tay."),  # noqa: E501
}


class CccdError(ValueError):
    """A payload refused: ``code`` is one of :data:`MESSAGES`, ``message`` its Vietnamese text
    (untranslated; the web layer translates it)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code
        self.message = MESSAGES[code]


@dataclass(frozen=True)
class CccdCard:
    """What the card's QR says, checked. ``old_id_number`` is "" when the card has none."""

    id_number: str
    old_id_number: str
    name: str
    birth_date: dt.date
    sex: str
    address: str
    issue_date: dt.date

    def applicant(self) -> dict[str, str]:
        """The fields the intake form fills (no issue date: the dossier does not keep it)."""
        return {"id_number": self.id_number, "old_id_number": self.old_id_number, "name": self.name,
                "birth_date": self.birth_date.isoformat(), "sex": self.sex, "address": self.address}


def parse(payload: str, today: dt.date) -> CccdCard:
    """The card read from its QR ``payload``, or :class:`CccdError` saying what is wrong."""
    parts = _split(payload)
    id_number, old_id, name, birth, sex, address, issued = parts
    if not ID_NUMBER.fullmatch(id_number):
        raise CccdError("cccd_id_number")
    if not OLD_ID_NUMBER.fullmatch(old_id):
        raise CccdError("cccd_old_id_number")
    card = CccdCard(id_number=id_number, old_id_number=old_id, name=_name(name),
                    birth_date=_birth(birth, today), sex=_sex(sex), address=_address(address),
                    issue_date=_date(issued, "cccd_issue_date"))
    if not card.birth_date < card.issue_date <= today:
        raise CccdError("cccd_issue_date")
    if not _id_agrees(card):
        raise CccdError("cccd_inconsistent")
    return card


def _split(payload: str) -> list[str]:
    if not isinstance(payload, str) or len(payload) > MAX_PAYLOAD:
        raise CccdError("cccd_malformed")
    text = unicodedata.normalize("NFC", payload.rstrip("\r\n\t"))
    if any(unicodedata.category(ch) in {"Cc", "Cf", "Cs", "Co"} for ch in text):
        raise CccdError("cccd_malformed")
    parts = [part.strip() for part in text.split("|")]
    if len(parts) < 2 or len(parts) > FIELDS:  # no separator at all, or not this card's QR
        raise CccdError("cccd_malformed")
    if len(parts) < FIELDS:
        raise CccdError("cccd_truncated")
    return parts


def _name(text: str) -> str:
    name = " ".join(text.split())
    if not name or len(name) > MAX_NAME or not all(ch.isalpha() or ch == " " for ch in name):
        raise CccdError("cccd_name")
    return name


def _sex(text: str) -> str:
    if text not in SEXES:
        raise CccdError("cccd_sex")
    return text


def _address(text: str) -> str:
    address = " ".join(text.split())
    if not address or len(address) > MAX_ADDRESS or "<" in address or ">" in address:
        raise CccdError("cccd_address")
    return address


def _date(text: str, code: str) -> dt.date:
    if not DATE.fullmatch(text):
        raise CccdError(code)
    try:
        return dt.date(int(text[4:]), int(text[2:4]), int(text[:2]))
    except ValueError:
        raise CccdError(code) from None


def _birth(text: str, today: dt.date) -> dt.date:
    born = _date(text, "cccd_birth_date")
    if not EARLIEST_BIRTH <= born < today:
        raise CccdError("cccd_birth_date")
    return born


def _id_agrees(card: CccdCard) -> bool:
    """The ID's 4th digit is the century and sex (0/1: 1900s male/female, 2/3: 2000s, ...),
    the 5th and 6th the last two digits of the birth year."""
    code, year = int(card.id_number[3]), card.id_number[4:6]
    century = 1900 + (code // 2) * 100
    sex = SEXES[code % 2]
    return card.birth_date.year == century + int(year) and card.sex == sex
