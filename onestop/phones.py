"""Citizens' phone numbers: one normal form (E.164, ``+84…``), one way to show them.

A number a citizen gives (booking, a number taken from the phone, messages) is parsed as
Vietnamese by default (``0912 345 678``, ``84912345678`` and ``+84912345678`` are the same
number) with the ``phonenumbers`` library, and must be a mobile number: every use of it is
a text message. Staff see it masked (``+84 91*****78``); logs never carry it.
"""

from __future__ import annotations

import phonenumbers

from onestop.queueing.errors import DomainError

_MOBILE = (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE)
MAX_INPUT = 32


def normalise_phone(raw: str | None) -> str:
    """``raw`` as ``+84…`` (E.164); ``DomainError("invalid_phone", 422)`` when it is not a
    valid mobile number (Vietnamese unless it starts with ``+``)."""
    text = (raw or "").strip()
    if not text or len(text) > MAX_INPUT:
        raise DomainError("invalid_phone", status=422)
    try:
        number = phonenumbers.parse(text, "VN")
    except phonenumbers.NumberParseException:
        raise DomainError("invalid_phone", status=422) from None
    if not phonenumbers.is_valid_number(number) or phonenumbers.number_type(number) not in _MOBILE:
        raise DomainError("invalid_phone", status=422)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def mask_phone(phone: str | None) -> str:
    """A stored ``+84…`` number as staff see it: country code, two first and two last digits."""
    if not phone:
        return ""
    digits = phone.removeprefix("+84")
    if len(digits) < 6:
        return "*" * len(digits)
    return f"+84 {digits[:2]}{'*' * (len(digits) - 4)}{digits[-2:]}"


def last_digits(phone: str, count: int = 4) -> str:
    """The last ``count`` digits (what a citizen types to prove a booking is theirs)."""
    return phone[-count:]
