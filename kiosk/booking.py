"""The kiosk's booking check-in (nhận số theo lịch hẹn): ``/kiosk/booking``.

A citizen who booked a slot (lịch hẹn, onestop/bookings/) comes in and, from the home
screen's tile "Tôi đã đặt lịch hẹn", either holds the confirmation's QR (the booking's manage
link ``{base}/b/{code}?k=...``) to the scanner or the camera, or types the booking's code and
the last four digits of the phone it was made with on the on-screen keys. The QR is read by
the same input path as the dossier lookup (``static/kiosk/scan.js``): a booking's QR scanned
on the lookup or the home screen comes here too.

The page's script (``static/kiosk/booking.js``) calls ``POST /api/v1/bookings/{code}/check-in``
with the kiosk's device cookie: a ticket (source ``booking``), printed on the kiosk's printer
like any kiosk ticket and shown like one with "Lịch hẹn 09:30". Too early or too late (the
unit's ``booking_checkin_early_minutes`` / ``booking_checkin_late_minutes``) says so with the
allowed times and, where the unit's ``booking_outside_gets_ticket`` allows it, offers a normal
ticket (the same call with ``outside: "ticket"``). Every other refusal is said in plain words.
"""

from __future__ import annotations

from typing import Any

from flask import render_template, url_for
from flask_babel import lazy_gettext as _l

from kiosk import bp
from kiosk.pages import frame
from onestop.api import common

# the on-screen keys: a booking's code has no 0/O/1/I (onestop/bookings/engine.py), the
# phone's last four digits are digits; booking.js enables what the active field takes
DIGITS = "1234567890"
LETTER_ROWS = ("QWERTYUP", "ASDFGHJKL", "ZXCVBNM")
CODE_LENGTH = 6

# what the script may have to say, in data-t-* attributes ({time}, {from}, ... filled by it)
MESSAGES: dict[str, Any] = {
    "checking": _l("Đang kiểm tra lịch hẹn, xin chờ một chút…"),
    "garbage": _l("Mã vừa quét không phải mã lịch hẹn. "
                  "Xin mời quét mã QR trên giấy xác nhận đặt lịch."),
    "not-found": _l("Không tìm thấy lịch hẹn. Vui lòng kiểm tra lại mã lịch hẹn và 4 số cuối điện thoại."),
    "too-early": _l("Quý công dân đến sớm: lịch hẹn lúc %(time)s. "
                    "Xin mời quay lại lấy số từ %(start)s đến %(end)s.",
                    time="{time}", start="{from}", end="{until}"),
    "too-late": _l("Đã quá giờ nhận số của lịch hẹn lúc %(time)s (nhận số từ %(start)s đến %(end)s).",
                   time="{time}", start="{from}", end="{until}"),
    "outside-offer": _l("Quý công dân vẫn có thể lấy số thứ tự thông thường và chờ theo thứ tự "
                        "như người không đặt lịch."),
    "outside-none": _l("Xin mời Quý công dân đặt lịch hẹn khác hoặc liên hệ cán bộ tại quầy hướng dẫn."),
    "not-active": _l("Lịch hẹn này đã bị hủy hoặc không còn hiệu lực."),
    "already": _l("Lịch hẹn này đã được nhận số thứ tự. Xin mời Quý công dân chờ gọi số."),
    "other-day": _l("Lịch hẹn này không phải hôm nay. Xin mời Quý công dân quay lại đúng ngày hẹn."),
    "other-day-date": _l("Lịch hẹn này là ngày %(date)s, không phải hôm nay. "
                         "Xin mời Quý công dân quay lại đúng ngày hẹn.", date="{date}"),
    "rate-limited": _l("Quý công dân đã thử nhiều lần liên tiếp. Vui lòng chờ một phút rồi thử lại."),
    "unpaired": _l("Ki-ốt chưa được ghép nối nên chưa cấp được số. Vui lòng báo cán bộ."),
    "camera-failed": _l("Không mở được camera. Vui lòng dùng máy quét mã hoặc nhập mã lịch hẹn."),
    "booked-at": _l("Lịch hẹn %(time)s", time="{time}"),
    "countdown": _l("Tự động quay về màn hình chính sau %(s)s giây", s="{s}"),
}


@bp.get("/kiosk/booking")
def booking() -> str:
    unit = common.resolve_unit()
    return render_template(
        "kiosk/booking.html", digits=DIGITS, letter_rows=LETTER_ROWS, code_length=CODE_LENGTH,
        messages={key: str(text) for key, text in MESSAGES.items()},
        outside_ticket=bool(unit.setting("booking_outside_gets_ticket")),
        detector_js=url_for("static", filename="vendor/barcode-detector/barcode-detector.js"),
        detector_wasm=url_for("static", filename="vendor/barcode-detector/zxing_reader.wasm"),
        **frame(unit, "booking"))
