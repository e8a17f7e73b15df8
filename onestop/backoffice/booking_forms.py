"""Forms of the bookings' back office: a field's booking settings, the unit's check-in and
number-from-the-phone settings, a booking made by a clerk for a citizen.

Shares are typed as percentages (what an administrator thinks in) and stored as fractions
(``onestop/bookings/settings.py``, ``UNIT_DEFAULTS``).
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, IntegerField, SelectField, StringField
from wtforms.validators import InputRequired, Length, NumberRange, Optional, ValidationError

from onestop.backoffice.forms import REQUIRED, BackofficeForm

MAX_MINUTES = 7 * 24 * 60  # a week: nobody closes bookings earlier than that


def _whole(low: int, high: int, message: Any) -> list[Any]:
    return [InputRequired(REQUIRED), NumberRange(low, high, message=message)]


class BookingSettingsForm(BackofficeForm):
    """One field's ``services.booking``; off stores None (the field takes no bookings)."""

    enabled = BooleanField(_l("Nhận đặt lịch hẹn cho lĩnh vực này"))
    slot_minutes = IntegerField(_l("Độ dài mỗi lượt hẹn (phút)"), _whole(
        5, 240, _l("Độ dài lượt hẹn phải từ %(min)s đến %(max)s phút.")))
    per_slot = IntegerField(_l("Số người mỗi lượt hẹn"), _whole(
        1, 100, _l("Số người mỗi lượt phải từ %(min)s đến %(max)s.")))
    walkin_share = IntegerField(_l("Phần dành cho người đến trực tiếp (%)"), _whole(
        0, 95, _l("Phần dành cho người đến trực tiếp phải từ %(min)s đến %(max)s %%.")),
        description=_l("Tính trên số phiếu tối đa mỗi ngày của lĩnh vực."))
    days_ahead = IntegerField(_l("Cho đặt trước tối đa (ngày làm việc)"), _whole(
        0, 60, _l("Số ngày đặt trước phải từ %(min)s đến %(max)s.")),
        description=_l("0: chỉ đặt cho hôm nay."))
    book_before_minutes = IntegerField(_l("Ngừng nhận đặt trước giờ hẹn (phút)"), _whole(
        0, MAX_MINUTES, _l("Thời hạn đặt lịch phải từ %(min)s đến %(max)s phút trước giờ hẹn.")))
    cancel_before_minutes = IntegerField(_l("Công dân được huỷ chậm nhất trước giờ hẹn (phút)"), _whole(
        0, MAX_MINUTES, _l("Thời hạn huỷ phải từ %(min)s đến %(max)s phút trước giờ hẹn.")),
        description=_l("Cán bộ luôn huỷ được."))

    KEYS = ("slot_minutes", "per_slot", "walkin_share", "days_ahead", "book_before_minutes",
            "cancel_before_minutes")

    def __init__(self, *args: Any, longest_window: int | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.longest_window = longest_window  # minutes of the field's longest opening window

    def validate_slot_minutes(self, field: Any) -> None:
        if self.enabled.data and self.longest_window is not None and field.data \
                and field.data > self.longest_window:
            raise ValidationError(_l("Lượt hẹn dài hơn khung giờ tiếp nhận dài nhất của lĩnh vực "
                                     "(%(n)s phút).", n=self.longest_window))

    def stored(self) -> dict[str, Any] | None:
        """What ``services.booking`` becomes."""
        if not self.enabled.data:
            return None
        values: dict[str, Any] = {key: int(getattr(self, key).data) for key in self.KEYS}
        values["walkin_share"] = round(values["walkin_share"] / 100, 2)
        return values


class UnitBookingForm(BackofficeForm):
    """The unit's check-in tolerance and numbers taken from a phone (``UNIT_DEFAULTS``)."""

    booking_checkin_early_minutes = IntegerField(_l("Check-in sớm nhất trước giờ hẹn (phút)"), _whole(
        0, 120, _l("Giá trị phải từ %(min)s đến %(max)s phút.")))
    booking_checkin_late_minutes = IntegerField(_l("Check-in muộn nhất sau giờ hẹn (phút)"), _whole(
        0, 120, _l("Giá trị phải từ %(min)s đến %(max)s phút.")))
    booking_outside_gets_ticket = BooleanField(
        _l("Đến quá sớm hoặc quá muộn: vẫn cấp số thứ tự thông thường"))
    remote_tickets = BooleanField(_l("Cho lấy số trực tuyến (mã QR tại cửa ra vào)"))
    remote_share = IntegerField(_l("Phần số phiếu mỗi lĩnh vực dành cho lấy số trực tuyến (%)"), _whole(
        1, 100, _l("Giá trị phải từ %(min)s đến %(max)s %%.")))
    remote_per_phone_per_day = IntegerField(_l("Số lần lấy số mỗi ngày của một số điện thoại"), _whole(
        1, 50, _l("Giá trị phải từ %(min)s đến %(max)s.")))
    remote_per_address_per_day = IntegerField(_l("Số lần lấy số mỗi ngày từ một địa chỉ mạng"), _whole(
        1, 500, _l("Giá trị phải từ %(min)s đến %(max)s.")))

    KEYS = ("booking_checkin_early_minutes", "booking_checkin_late_minutes",
            "booking_outside_gets_ticket", "remote_tickets", "remote_share",
            "remote_per_phone_per_day", "remote_per_address_per_day")

    def stored(self) -> dict[str, Any]:
        values: dict[str, Any] = {key: getattr(self, key).data for key in self.KEYS}
        values["booking_outside_gets_ticket"] = bool(values["booking_outside_gets_ticket"])
        values["remote_tickets"] = bool(values["remote_tickets"])
        values["remote_share"] = round(values["remote_share"] / 100, 2)
        return values


class OnBehalfForm(BackofficeForm):
    """A booking a clerk makes for a citizen on the phone: the slot's start comes from the
    free slots of the field and day shown (``start`` is its ISO text)."""

    start = SelectField(_l("Giờ hẹn"), choices=[], validate_choice=False,
                        validators=[InputRequired(_l("Chọn một giờ hẹn còn chỗ."))])
    phone = StringField(_l("Số điện thoại di động của công dân"),
                        [InputRequired(REQUIRED), Length(max=32)])
    name = StringField(_l("Họ tên"), [Optional(), Length(max=120)])
    procedure_code = SelectField(_l("Thủ tục (không bắt buộc)"), choices=[], validate_choice=False)
