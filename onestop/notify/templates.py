"""The texts of the messages: one per event, Vietnamese and English, defaults here; a unit's
own texts in its settings (``notify_templates``: ``{event: {"vi", "en"}}``), edited and
previewed in the back office (/admin/notifications/templates).

Placeholders in braces: ``{unit}`` (the unit's name), ``{label}`` (ticket number),
``{ahead}``, ``{counter}`` (counter number), ``{field}``, ``{code}`` (booking or dossier
code), ``{date}``, ``{time}``, ``{link}`` (the short link to the page of the ticket, booking
or dossier). An unknown placeholder is left as written. A citizen who chose English gets the
English text, or the Vietnamese one when the unit left the English empty.

SMS: with ``SMS_ASCII`` the diacritics are stripped (``đ`` -> ``d``) and the text kept
within ``SMS_MAX_CHARS`` (one 160-character GSM-7 message): the unit's name is shortened
first, the link always kept whole.
"""

from __future__ import annotations

import string
import unicodedata
from collections.abc import Mapping
from typing import Any

from onestop.notify.models import EVENTS
from onestop.units.models import Unit

DEFAULTS: dict[str, dict[str, str]] = {
    "ticket.near": {
        "vi": "{unit}: số {label} chỉ còn {ahead} người phía trước. "
              "Xin mời Quý công dân về khu vực chờ. {link}",
        "en": "{unit}: number {label} has only {ahead} people ahead. "
              "Please come back to the waiting area. {link}",
    },
    "ticket.called": {
        "vi": "{unit}: xin mời số {label} đến quầy số {counter}. {link}",
        "en": "{unit}: number {label}, please come to counter {counter}. {link}",
    },
    "ticket.transferred": {
        "vi": "{unit}: số {label} được chuyển sang lĩnh vực {field}. Xin mời tiếp tục chờ. {link}",
        "en": "{unit}: number {label} was transferred to {field}. Please keep waiting. {link}",
    },
    "booking.confirmed": {
        "vi": "{unit}: đã đặt lịch hẹn {code} lúc {time} ngày {date}. {link}",
        "en": "{unit}: booking {code} confirmed for {time} on {date}. {link}",
    },
    "booking.reminder": {
        "vi": "{unit}: nhắc lịch hẹn {code} lúc {time} ngày {date}. {link}",
        "en": "{unit}: reminder of booking {code} at {time} on {date}. {link}",
    },
    "booking.cancelled": {
        "vi": "{unit}: lịch hẹn {code} lúc {time} ngày {date} đã được hủy. {link}",
        "en": "{unit}: booking {code} at {time} on {date} was cancelled. {link}",
    },
    "dossier.ready": {
        "vi": "{unit}: hồ sơ {code} đã có kết quả. Xin mời Quý công dân đến nhận. {link}",
        "en": "{unit}: the result of dossier {code} is ready to collect. {link}",
    },
    "dossier.supplement_requested": {
        "vi": "{unit}: hồ sơ {code} cần nộp bổ sung giấy tờ. Xem chi tiết: {link}",
        "en": "{unit}: dossier {code} needs more documents. Details: {link}",
    },
}
assert set(DEFAULTS) == set(EVENTS)
SETTING = "notify_templates"
MAX_TEMPLATE = 500
# what a preview fills in
SAMPLE = {"label": "A1025", "ahead": "3", "counter": "3", "field": "Hộ tịch", "code": "H56.12-261206-0001",
          "date": "07/12/2026", "time": "09:30", "link": "https://motcua.example.vn/t/1?k=abc"}

# GSM 03.38 basic set (one septet each) and its extension (two septets each)
GSM7 = set("@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZ"
           "ÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà")
GSM7_EXT = set("^{}\\[~]|€\f")


class _Keep(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def texts(unit: Unit, event: str) -> dict[str, str]:
    """The unit's texts of ``event`` (its own where set, else the defaults)."""
    own = ((unit.settings or {}).get(SETTING) or {}).get(event) or {}
    return {lang: str(own.get(lang) or "") or DEFAULTS[event][lang] for lang in ("vi", "en")}


def render(template: str, values: Mapping[str, Any]) -> str:
    """``template`` with its placeholders filled (unknown ones kept as written)."""
    filled = _Keep({k: str(v) for k, v in values.items() if v is not None})
    try:
        return string.Formatter().vformat(template, (), filled).strip()
    except (ValueError, IndexError):  # a stray brace in an admin's text: send it as written
        return template.strip()


def check(template: str) -> str | None:
    """Why an admin's text cannot be saved (None when it can)."""
    if len(template) > MAX_TEMPLATE:
        return "too_long"
    try:
        fields = [f for _, f, _, _ in string.Formatter().parse(template) if f is not None]
    except ValueError:
        return "bad_braces"
    return "bad_placeholder" if any(not f.isidentifier() for f in fields) else None


def text_for(unit: Unit, event: str, lang: str, values: Mapping[str, Any]) -> str:
    chosen = texts(unit, event)
    return render(chosen["en"] if lang == "en" else chosen["vi"], {"unit": unit.name, **values})


def unaccent(text: str) -> str:
    """Vietnamese without diacritics (``Đến quầy số 3`` -> ``Den quay so 3``); any other
    character outside GSM-7 becomes ``?``."""
    text = text.replace("đ", "d").replace("Đ", "D")
    bare = "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))
    return "".join(c if c in GSM7 or c in GSM7_EXT else "?" for c in unicodedata.normalize("NFC", bare))


def gsm7_length(text: str) -> int:
    return sum(2 if c in GSM7_EXT else 1 for c in text)


def sms_text(unit: Unit, event: str, lang: str, values: Mapping[str, Any], *, ascii_only: bool,
             max_chars: int) -> str:
    """The SMS of an event: unaccented if asked, and within ``max_chars`` (0: any length):
    the unit's name is shortened first, then the text before the link is cut."""
    shape = unaccent if ascii_only else (lambda s: s)
    measure = gsm7_length if ascii_only else len
    text = shape(text_for(unit, event, lang, values))
    if not max_chars or measure(text) <= max_chars:
        return text
    name = shape(unit.name)
    # the name shortened by the overflow (and its "."): one try, then a character at a time
    size = len(name) - (measure(text) - max_chars) - 1
    while size >= 8:
        shorter = shape(text_for(unit, event, lang, {**values, "unit": name[:size].rstrip() + "."}))
        if measure(shorter) <= max_chars:
            return shorter
        size -= 1
    link = str(values.get("link") or "")
    head = text[: len(text) - len(link)].rstrip() if link and text.endswith(link) else text
    room = max_chars - (len(link) + 1 if link else 0)
    while measure(head) > room:
        head = head[:-1]
    return f"{head} {link}".strip() if link else head
