"""Printer and device alarms as the sentences people read (Vietnamese first, English in the
catalogue): "Máy in ki-ốt sảnh hết giấy", "Ki-ốt tầng 2 mất kết nối từ 10:32" (the time in
the unit's timezone). What a driver or an agent said (an exception text) is for the log:
no sentence carries it. Web layer (Flask-Babel): the dashboard API and the printer.alarm
event (``relay``) word their alarms here.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask_babel import gettext as _

from onestop.units.models import Unit


def _parse(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))


def _lower_first(name: str) -> str:
    """"Ki-ốt sảnh" -> "ki-ốt sảnh" inside a sentence; an acronym ("UBND") stays."""
    first = name.split(" ", 1)[0]
    return name if not name or first.isupper() and len(first) > 1 else name[:1].lower() + name[1:]


def _kind_word(kind: str) -> str:
    words = {"kiosk": _("Ki-ốt"), "display": _("Màn hình"), "counter-display": _("Màn hình quầy"),
             "tablet": _("Máy đánh giá"), "agent": _("Máy tính in")}
    return words.get(kind, _("Thiết bị"))


# a name that starts with one of these already says what the device is ("Máy in sảnh")
DEVICE_NOUNS = ("máy", "màn hình", "ki-ốt", "kiosk", "tablet", "bảng", "thiết bị", "loa", "đèn")


def _device_phrase(kind: str, name: str) -> str:
    """The device as a sentence names it: its kind, then its name unless the name says it."""
    if name.lower().startswith(DEVICE_NOUNS):
        return name[:1].upper() + name[1:]
    return f"{_kind_word(kind)} {_lower_first(name)}"


def _printer_phrase(kind: str, name: str) -> str:
    """"Máy in ki-ốt sảnh": the printer of a kiosk is named after the kiosk."""
    if name.lower().startswith("máy in"):
        return name[:1].upper() + name[1:]
    if kind == "kiosk":
        return _("Máy in %(device)s", device=_lower_first(_device_phrase(kind, name)))
    return _("Máy in %(device)s", device=_lower_first(name))


def printer_sentence(printer: dict[str, Any]) -> str:
    phrase = _printer_phrase(str(printer["kind"]), str(printer["name"]))
    if printer["state"] == "paper_out":
        return _("%(printer)s hết giấy", printer=phrase)
    if printer["state"] == "paper_near_end":
        return _("%(printer)s sắp hết giấy", printer=phrase)
    return _("%(printer)s không phản hồi", printer=phrase)


def device_sentence(unit: Unit, device: dict[str, Any], at: dt.datetime) -> str:
    """A silent device: since when (today: the time; before: time and date), or never."""
    phrase = _device_phrase(str(device["kind"]), str(device["name"]))
    if not device["last_seen_at"]:
        return _("%(device)s chưa kết nối lần nào", device=phrase)
    seen = unit.local(_parse(device["last_seen_at"]))
    if seen.date() == unit.local(at).date():
        return _("%(device)s mất kết nối từ %(time)s", device=phrase, time=f"{seen:%H:%M}")
    return _("%(device)s mất kết nối từ %(time)s ngày %(date)s", device=phrase,
             time=f"{seen:%H:%M}", date=f"{seen:%d/%m/%Y}")


def alarm_sentence(reason: str, kind: str, name: str, ticket_label: str | None = None) -> str:
    """A ``printer.alarm`` (``printing.service.Alarm``) as one sentence naming the device."""
    if reason in ("paper_out", "paper_near_end", "offline"):
        return printer_sentence({"kind": kind, "name": name, "state": reason})
    printer = _printer_phrase(kind, name)
    if reason == "agent_offline":
        return _("Chương trình in %(name)s mất kết nối", name=name)
    if reason == "job_expired":
        return _("%(printer)s không in kịp phiếu %(label)s", printer=printer, label=ticket_label or "")
    if reason == "print_unconfirmed":
        return _("%(printer)s chưa xác nhận đã in phiếu %(label)s", printer=printer, label=ticket_label or "")
    if ticket_label:
        return _("%(printer)s không in được phiếu %(label)s", printer=printer, label=ticket_label)
    return _("%(printer)s không in được", printer=printer)
