"""What the kiosk says about a field's schedule, a ticket's state and a procedure, in words.

Pure functions of plain values (and the Flask-Babel catalogue): the pages and the tests share
them. Dates are dd/mm/yyyy, times 24 h, numbers with "." thousands (the house style).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import npgettext

from onestop.queueing.models import Service
from onestop.queueing.schedule import windows

WEEKDAYS: dict[int, Any] = {
    1: _l("Thứ Hai"), 2: _l("Thứ Ba"), 3: _l("Thứ Tư"), 4: _l("Thứ Năm"), 5: _l("Thứ Sáu"),
    6: _l("Thứ Bảy"), 7: _l("Chủ nhật"),
}

# priority classes a unit may offer (unit setting ``priority_classes``), in the words of §8
PRIORITY_LABELS: dict[str, Any] = {
    "elderly": _l("Người cao tuổi"),
    "disabled": _l("Người khuyết tật"),
    "pregnant": _l("Phụ nữ mang thai"),
    "meritorious": _l("Người có công với cách mạng"),
}

# the dossier lookup screen (kiosk/lookup.py): what its script may have to say, handed to it
# in data-t-* attributes; "{s}" is filled in by the script
LOOKUP_MESSAGES: dict[str, Any] = {
    "not-found": _l("Không tìm thấy hồ sơ. Vui lòng kiểm tra lại mã hồ sơ hoặc hỏi cán bộ."),
    "rate-limited": _l("Quý công dân đã tra cứu nhiều lần liên tiếp. Vui lòng chờ một phút rồi thử lại."),
    "garbage": _l("Mã vừa quét không phải mã tra cứu hồ sơ."),
    "need-phone": _l("Vui lòng nhập thêm 4 số cuối điện thoại đã đăng ký khi nộp hồ sơ."),
    "camera-failed": _l("Không mở được camera. Vui lòng dùng máy quét mã hoặc nhập mã hồ sơ."),
    "searching": _l("Đang tra cứu, xin chờ một chút…"),
    "on-time": _l("Đúng hạn"),
    "overdue": _l("Đã quá hạn"),
    "countdown": _l("Tự động quay về màn hình chính sau %(s)s giây", s="{s}"),
}

CLOSED_REASONS: dict[str, Any] = {
    "inactive": _l("Tạm ngừng tiếp nhận"),
    "not_served_today": _l("Hôm nay không tiếp nhận"),
    "before_opening": _l("Ngoài giờ tiếp nhận"),
    "between_windows": _l("Ngoài giờ tiếp nhận"),
    "after_closing": _l("Ngoài giờ tiếp nhận"),
    "past_cutoff": _l("Đã hết giờ cấp số hôm nay"),
    "daily_cap_reached": _l("Đã hết số hôm nay"),
}


def number(value: int) -> str:
    """``1234`` -> ``1.234`` (Vietnamese thousands separator)."""
    return f"{value:,}".replace(",", ".")


def date(value: dt.date) -> str:
    return value.strftime("%d/%m/%Y")


def weekday_date(value: dt.date) -> str:
    """``Thứ Hai, 23/11/2026``."""
    return f"{WEEKDAYS[value.isoweekday()]}, {date(value)}"


def days_text(weekdays: list[int]) -> str:
    """``Thứ Hai, Thứ Tư, Thứ Sáu``; runs of three days or more as ``Thứ Hai – Thứ Sáu``."""
    days = sorted({int(d) for d in weekdays if 1 <= int(d) <= 7})
    if not days:
        return _("Không có ngày tiếp nhận")
    if days == list(range(1, 8)):
        return _("Tất cả các ngày trong tuần")
    runs: list[list[int]] = []
    for day in days:
        if runs and day == runs[-1][-1] + 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    parts: list[str] = []
    for run in runs:
        if len(run) >= 3:
            parts.append(f"{WEEKDAYS[run[0]]} – {WEEKDAYS[run[-1]]}")
        else:
            parts.extend(str(WEEKDAYS[d]) for d in run)
    return ", ".join(parts)


def hours_text(service: Service) -> str:
    """``07:30–11:30, 13:30–17:00``; a field with no windows is served all day."""
    spans = windows(service)
    if not spans:
        return _("Cả ngày")
    return ", ".join(f"{a:%H:%M}–{b:%H:%M}" for a, b in spans)


def next_opening(service: Service, local_now: dt.datetime) -> dt.datetime | None:
    """The next moment a closed field starts taking tickets (within a week), in local time.

    Public holidays are not known to the schedule (nor to ``availability``): a field closed
    on a holiday shows its usual next day.
    """
    if not service.active or not service.weekdays:
        return None
    starts = [a for a, _b in windows(service)] or [dt.time(0, 0)]
    for offset in range(0, 8):
        day = local_now.date() + dt.timedelta(days=offset)
        if day.isoweekday() not in service.weekdays:
            continue
        for start in starts:
            moment = dt.datetime.combine(day, start, tzinfo=local_now.tzinfo)
            if moment > local_now:
                return moment
    return None


def next_opening_text(service: Service, local_now: dt.datetime) -> str:
    """``Tiếp nhận lại lúc 13:30 hôm nay`` / ``Tiếp nhận lại: ngày mai, 07:30`` /
    ``Tiếp nhận lại: Thứ Tư, 07:30`` (within a week the weekday is enough, and short)."""
    moment = next_opening(service, local_now)
    if moment is None:
        return ""
    hm = f"{moment:%H:%M}"
    if moment.date() == local_now.date():
        return _("Tiếp nhận lại lúc %(time)s hôm nay", time=hm)
    if moment.date() == local_now.date() + dt.timedelta(days=1):
        return _("Tiếp nhận lại: ngày mai, %(time)s", time=hm)
    return _("Tiếp nhận lại: %(day)s, %(time)s", day=WEEKDAYS[moment.isoweekday()], time=hm)


def processing_text(days: int) -> str:
    """``Trong ngày`` for 0, else ``N ngày làm việc``."""
    if days <= 0:
        return _("Trong ngày")
    return npgettext("count", "%(n)s ngày làm việc", "%(n)s ngày làm việc", days, n=number(days))


def priority_choices(classes: Any) -> list[tuple[str, str]]:
    """The unit's configured priority classes the API accepts, with their labels."""
    return [(str(c), str(PRIORITY_LABELS[c])) for c in (classes or []) if c in PRIORITY_LABELS]


def ticket_state(state: str, counter_number: int | str | None) -> str:
    """A ticket's state in plain words, for the citizen's phone (``counter_number`` may be a
    placeholder string that the page's script fills in)."""
    counter = number(counter_number) if isinstance(counter_number, int) else (counter_number or "?")
    texts = {
        "waiting": _("Đang chờ"),
        "called": _("Đã đến lượt — mời đến quầy số %(counter)s", counter=counter),
        "serving": _("Đang được phục vụ tại quầy số %(counter)s", counter=counter),
        "parked": _("Đang tạm giữ tại quầy số %(counter)s", counter=counter),
        "done": _("Đã phục vụ"),
        "missed": _("Vắng mặt — vui lòng báo cán bộ tại quầy để được gọi lại"),
        "transferred": _("Đã chuyển lĩnh vực"),
        "cancelled": _("Đã hủy"),
        "expired": _("Hết hiệu lực (đã hết ngày làm việc)"),
    }
    return texts.get(state, state)


TICKET_STATES = ("waiting", "called", "serving", "parked", "done", "missed", "transferred",
                 "cancelled", "expired")
