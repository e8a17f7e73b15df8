"""The back office's forms (Flask-WTF: every form carries the CSRF token).

WTForms' own messages ("This field is required.", "Not a valid integer value.") are turned
into Vietnamese (English under ``?lang=en``) by ``_Translations``; the rules that need the
database (a code already taken, the last admin) are checked in the views.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    IntegerField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    widgets,
)
from wtforms.validators import (
    AnyOf,
    EqualTo,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
    ValidationError,
)

from onestop.accounts.models import DEVICE_KINDS, ROLES
from onestop.accounts.passwords import check_password_rules
from onestop.queueing.models import SERVICE_MODES
from onestop.webhooks.models import EVENTS, MAX_URL

REQUIRED = _l("Cần nhập thông tin này.")
CODE_RE = r"^[A-Za-z0-9][A-Za-z0-9._-]*$"
CODE_MESSAGE = _l("Chỉ dùng chữ cái không dấu, chữ số và các dấu . _ -")
MAX_PREFIX = 3  # labels are prefix + 3 digits and must fit a display tile and a ticket

# WTForms' built-in messages -> ours
_MESSAGES: dict[str, Any] = {
    "This field is required.": REQUIRED,
    "Not a valid integer value.": _l("Cần nhập một số nguyên."),
    "Not a valid date value.": _l("Ngày không hợp lệ."),
    "Not a valid choice.": _l("Lựa chọn không hợp lệ."),
    "Invalid Choice: could not coerce.": _l("Lựa chọn không hợp lệ."),
    "'%(value)s' is not a valid choice for this field.": _l("Lựa chọn không hợp lệ."),
    "Invalid choice(s): one or more data inputs could not be coerced.": _l("Lựa chọn không hợp lệ."),
    "Number must be between %(min)s and %(max)s.": _l("Giá trị phải từ %(min)s đến %(max)s."),
    "Number must be at least %(min)s.": _l("Giá trị phải từ %(min)s trở lên."),
    "Number must be at most %(max)s.": _l("Giá trị tối đa là %(max)s."),
    "Field cannot be longer than %(max)d character.": _l("Dài tối đa %(max)d ký tự."),
    "Field cannot be longer than %(max)d characters.": _l("Dài tối đa %(max)d ký tự."),
    "Field must be between %(min)d and %(max)d characters long.": _l("Cần từ %(min)d đến %(max)d ký tự."),
    "Invalid input.": _l("Giá trị không hợp lệ."),
}


class _Translations:
    def gettext(self, string: str) -> str:
        message = _MESSAGES.get(string)
        return str(message) if message is not None else string

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self.gettext(singular if n == 1 else plural)


class BackofficeForm(FlaskForm):
    class Meta:
        def get_translations(self, form: Any) -> _Translations:
            return _Translations()


class MultiCheckboxField(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class ConfirmForm(BackofficeForm):
    """A button that changes something: only the CSRF token (the confirmation is in JS)."""


WEEKDAYS = [(1, _l("Thứ Hai")), (2, _l("Thứ Ba")), (3, _l("Thứ Tư")), (4, _l("Thứ Năm")),
            (5, _l("Thứ Sáu")), (6, _l("Thứ Bảy")), (7, _l("Chủ nhật"))]
_WINDOW = re.compile(r"^(\d{1,2}):(\d{2})\s*[-–—]\s*(\d{1,2}):(\d{2})$")


def parse_windows(text: str) -> list[list[str]]:
    """``"07:30-11:30, 13:30-17:00"`` -> ``[["07:30", "11:30"], ["13:30", "17:00"]]``;
    ``ValueError`` with a readable message for a bad, reversed or overlapping window."""
    spans: list[tuple[dt.time, dt.time]] = []
    for part in filter(None, (p.strip() for p in re.split(r"[,;\n]+", text or ""))):
        match = _WINDOW.match(part)
        try:
            if match is None:
                raise ValueError
            h1, m1, h2, m2 = (int(x) for x in match.groups())
            start, end = dt.time(h1, m1), dt.time(h2, m2)
        except ValueError:
            raise ValueError(gettext("Khung giờ “%(part)s” không đúng dạng HH:MM-HH:MM.",
                                     part=part)) from None
        if end <= start:
            raise ValueError(gettext("Khung giờ “%(part)s” kết thúc trước khi bắt đầu.", part=part))
        spans.append((start, end))
    spans.sort()
    for (_s1, e1), (s2, _e2) in zip(spans, spans[1:], strict=False):
        if s2 < e1:
            raise ValueError(gettext("Các khung giờ chồng lên nhau (%(a)s và %(b)s).",
                                     a=e1.strftime("%H:%M"), b=s2.strftime("%H:%M")))
    return [[s.strftime("%H:%M"), e.strftime("%H:%M")] for s, e in spans]


def format_windows(windows: list[Any] | None) -> str:
    return ", ".join(f"{start}-{end}" for start, end in (windows or []))


class ServiceForm(BackofficeForm):
    code = StringField(_l("Mã lĩnh vực"), [InputRequired(REQUIRED), Length(max=32),
                                            Regexp(CODE_RE, message=CODE_MESSAGE)])
    name = StringField(_l("Tên lĩnh vực"), [InputRequired(REQUIRED), Length(max=200)])
    name_en = StringField(_l("Tên tiếng Anh"), [Optional(), Length(max=200)])
    prefix = StringField(_l("Tiền tố số thứ tự"), [
        Length(max=MAX_PREFIX, message=_l("Tiền tố dài tối đa %(max)d ký tự.")),
        Regexp(r"^[A-Za-z0-9]*$", message=_l("Tiền tố chỉ gồm chữ cái không dấu và chữ số."))],
        description=_l("Ví dụ A: số A001, A002…"))
    block_start = IntegerField(_l("Dải số: từ"), [Optional(), NumberRange(1, 999999)])
    block_end = IntegerField(_l("Dải số: đến"), [Optional(), NumberRange(1, 999999)])
    daily_cap = IntegerField(_l("Số phiếu tối đa mỗi ngày"), [
        Optional(), NumberRange(min=1, max=100000, message=_l("Số phiếu tối đa phải lớn hơn 0."))],
        description=_l("Để trống: không giới hạn."))
    weekdays = MultiCheckboxField(_l("Ngày tiếp nhận"), choices=WEEKDAYS, coerce=int)
    windows = StringField(_l("Khung giờ cấp số"), [Length(max=200)],
                          description=_l("Ví dụ: 07:30-11:30, 13:30-17:00. Để trống: cả ngày."))
    cutoff_minutes = IntegerField(_l("Ngừng cấp số trước khi hết giờ (phút)"),
                                  [InputRequired(REQUIRED), NumberRange(0, 240)], default=0)
    zone = StringField(_l("Khu vực"), [Length(max=32)])
    sort_order = IntegerField(_l("Thứ tự hiển thị"), [InputRequired(REQUIRED), NumberRange(0, 9999)],
                              default=0)
    active = BooleanField(_l("Đang tiếp nhận"), default=True)

    def validate_weekdays(self, field: Any) -> None:
        if not field.data:
            raise ValidationError(_l("Chọn ít nhất một ngày trong tuần."))

    def validate_windows(self, field: Any) -> None:
        try:
            # a form posted without the field keeps the object's value: a list of windows
            data = format_windows(field.data) if isinstance(field.data, list) else field.data
            self.parsed_windows = parse_windows(data or "")
        except ValueError as exc:
            raise ValidationError(str(exc)) from None

    def validate_block_end(self, field: Any) -> None:
        start, end = self.block_start.data, field.data
        if (start is None) != (end is None):
            raise ValidationError(_l("Dải số cần cả số đầu và số cuối."))
        if start is not None and end is not None and end < start:
            raise ValidationError(_l("Số cuối của dải phải lớn hơn hoặc bằng số đầu."))

    def validate_prefix(self, field: Any) -> None:
        if not (field.data or "").strip() and self.block_start.data is None:
            raise ValidationError(_l("Cần một tiền tố (ví dụ A) hoặc một dải số."))


class CounterForm(BackofficeForm):
    number = IntegerField(_l("Số quầy"), [InputRequired(REQUIRED), NumberRange(1, 999)])
    name = StringField(_l("Tên quầy"), [Length(max=120)])
    zone = StringField(_l("Khu vực"), [Length(max=32)])
    service_mode = SelectField(_l("Cách gọi số"), choices=[
        ("fifo", _l("Ai đến trước gọi trước (mọi lĩnh vực của quầy)")),
        ("order", _l("Theo thứ tự lĩnh vực (lĩnh vực đầu tiên trước)")),
        ("weighted", _l("Theo trọng số"))], validators=[AnyOf(SERVICE_MODES)])


class UnitForm(BackofficeForm):
    code = StringField(_l("Mã định danh đơn vị"), [InputRequired(REQUIRED), Length(max=40),
                                                    Regexp(CODE_RE, message=CODE_MESSAGE)])
    name = StringField(_l("Tên đơn vị"), [InputRequired(REQUIRED), Length(max=200)])
    address = StringField(_l("Địa chỉ"), [Length(max=300)])
    timezone = StringField(_l("Múi giờ"), [InputRequired(REQUIRED), Length(max=64)],
                           default="Asia/Ho_Chi_Minh")

    def validate_timezone(self, field: Any) -> None:
        try:
            ZoneInfo(field.data)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValidationError(_l("Múi giờ không tồn tại (ví dụ Asia/Ho_Chi_Minh).")) from None


ROLE_CHOICES = [("admin", _l("Quản trị hệ thống")), ("manager", _l("Lãnh đạo / quản lý")),
                ("clerk", _l("Cán bộ một cửa")), ("integration", _l("Tài khoản tích hợp")),
                ("reception", _l("Lễ tân, hướng dẫn")), ("supervisor", _l("Giám sát nhiều đơn vị"))]
assert {r for r, _ in ROLE_CHOICES} == set(ROLES)


def _password_rules(form: Any, field: Any) -> None:
    problems = check_password_rules(field.data or "")
    if problems:
        raise ValidationError(" ".join(problems))


class _PasswordFields(BackofficeForm):
    password = PasswordField(_l("Mật khẩu"), [InputRequired(REQUIRED), _password_rules],
                             description=_l("Ít nhất 10 ký tự, không chỉ gồm chữ số."))
    password2 = PasswordField(_l("Nhập lại mật khẩu"), [
        InputRequired(REQUIRED), EqualTo("password", message=_l("Hai mật khẩu không giống nhau."))])


class UserEditForm(BackofficeForm):
    full_name = StringField(_l("Họ và tên"), [Length(max=120)])
    role = SelectField(_l("Vai trò"), choices=ROLE_CHOICES)
    unit_id = SelectField(_l("Đơn vị"), coerce=int)


class UserCreateForm(UserEditForm, _PasswordFields):
    username = StringField(_l("Tên đăng nhập"), [
        InputRequired(REQUIRED), Length(min=3, max=64),
        Regexp(r"^[A-Za-z0-9._-]+$", message=_l("Chỉ dùng chữ cái không dấu, chữ số và . _ -"))])


class PasswordForm(_PasswordFields):
    pass


KIND_CHOICES = [("kiosk", _l("Ki-ốt lấy số")), ("display", _l("Màn hình gọi số")),
                ("counter-display", _l("Màn hình quầy")), ("tablet", _l("Máy tính bảng đánh giá")),
                ("agent", _l("Chương trình in (agent)")), ("printer", _l("Máy in bàn đón tiếp"))]
assert {k for k, _ in KIND_CHOICES} == set(DEVICE_KINDS)


class DeviceForm(BackofficeForm):
    kind = SelectField(_l("Loại thiết bị"), choices=KIND_CHOICES)
    name = StringField(_l("Tên thiết bị"), [InputRequired(REQUIRED), Length(max=120)])
    counter_id = SelectField(_l("Quầy"), coerce=int,
                             description=_l("Bắt buộc với màn hình quầy và máy tính bảng."))
    printer_uri = StringField(_l("Máy in"), [Optional(), Length(max=300)],
                              description=_l("Ví dụ tcp://192.168.1.50:9100, usb://04b8:0202, agent"))

    def validate_printer_uri(self, field: Any) -> None:
        from flask import current_app

        from hardware.printing.drivers import PrinterPolicy, PrinterUriError, open_printer

        try:
            driver = open_printer(field.data)
        except (PrinterUriError, ValueError):
            raise ValidationError(_l("Địa chỉ máy in không hợp lệ.")) from None
        try:  # the allow-list: a web session must not write files or reach any host
            PrinterPolicy.from_settings(current_app.config).check(driver)
        except (PrinterUriError, ValueError):
            raise ValidationError(_l("Địa chỉ máy in không được phép: chỉ thiết bị máy in, "
                                     "thư mục và mạng đã cấu hình.")) from None

    def validate_counter_id(self, field: Any) -> None:
        if self.kind.data in ("counter-display", "tablet") and not field.data:
            raise ValidationError(_l("Thiết bị này cần gắn với một quầy."))


class ProceduresImportForm(BackofficeForm):
    file = FileField(_l("Tệp danh mục (.csv hoặc .json)"), [FileRequired(REQUIRED)])
    replace = BooleanField(_l("Thay thế toàn bộ: thủ tục không có trong tệp sẽ ngừng hiển thị"))


class UnitDayForm(BackofficeForm):
    date = DateField(_l("Ngày"), [InputRequired(REQUIRED)])
    kind = SelectField(_l("Loại ngày"), choices=[("off", _l("Ngày nghỉ của đơn vị")),
                                                 ("working", _l("Ngày làm việc bù"))])
    note = StringField(_l("Ghi chú"), [Length(max=200)])

    def validate_date(self, field: Any) -> None:
        if field.data and not 2000 <= field.data.year <= 2100:
            raise ValidationError(_l("Năm phải từ 2000 đến 2100."))


class DisplayForm(BackofficeForm):
    display_notice = TextAreaField(_l("Dòng thông báo chạy trên màn hình gọi số"), [Length(max=1000)])
    display_recent_calls = IntegerField(_l("Số lượt gọi gần nhất hiển thị"),
                                        [InputRequired(REQUIRED), NumberRange(0, 12)])
    display_highlight_seconds = IntegerField(_l("Thời gian làm nổi bật số vừa gọi (giây)"),
                                             [InputRequired(REQUIRED), NumberRange(2, 60)])
    announcement_template = StringField(_l("Câu mời"), [InputRequired(REQUIRED), Length(max=200)],
                                        description=_l("Phải có {số} và {quầy}."))
    announcement_repeat = IntegerField(_l("Số lần đọc"), [InputRequired(REQUIRED), NumberRange(1, 3)])
    announcement_number_mode = SelectField(_l("Cách đọc số"), choices=[
        ("words", _l("Đọc thành lời (mười hai)")), ("digits", _l("Đọc từng chữ số (một hai)"))])
    announcement_style = SelectField(_l("Giọng đọc số"), choices=[
        ("north", _l("Miền Bắc (linh, nghìn)")), ("south", _l("Miền Nam (lẻ, ngàn)"))])
    announcement_voice = SelectField(_l("Cách phát âm thanh"), choices=[
        ("auto", _l("Tự động")), ("clips", _l("Đoạn ghi âm")), ("espeak", _l("Giọng máy chủ (espeak-ng)")),
        ("browser", _l("Giọng của trình duyệt")), ("chime", _l("Chỉ chuông"))])
    announcement_espeak_speed = IntegerField(_l("Tốc độ đọc (espeak-ng)"),
                                             [InputRequired(REQUIRED), NumberRange(80, 400)])
    announcement_read_prefix = BooleanField(_l("Đọc cả tiền tố (A, mười hai)"))
    announcement_chime = BooleanField(_l("Chuông trước khi đọc"))

    def validate_announcement_template(self, field: Any) -> None:
        if "{số}" not in field.data or "{quầy}" not in field.data:
            raise ValidationError(_l("Câu mời phải có {số} và {quầy}."))


class RatingsForm(BackofficeForm):
    rating_scale = SelectField(_l("Thang đánh giá"), choices=[
        ("3", _l("3 mức (Thông tư 01/2018/TT-VPCP)")), ("5", _l("5 mức"))])
    rating_reasons = TextAreaField(_l("Lý do khi chưa hài lòng (mỗi dòng một lý do)"),
                                   [InputRequired(REQUIRED)])
    rating_timeout_seconds = IntegerField(_l("Thời gian chờ đánh giá (giây)"),
                                          [InputRequired(REQUIRED), NumberRange(10, 300)])

    def validate_rating_reasons(self, field: Any) -> None:
        reasons = reasons_of(field.data)
        if not 1 <= len(reasons) <= 12:
            raise ValidationError(_l("Cần từ 1 đến 12 lý do."))
        if any(len(r) > 120 for r in reasons):
            raise ValidationError(_l("Mỗi lý do dài tối đa 120 ký tự."))


def reasons_of(text: str | None) -> list[str]:
    seen: list[str] = []
    for line in (text or "").splitlines():
        if line.strip() and line.strip() not in seen:
            seen.append(line.strip())
    return seen


class WebhookForm(BackofficeForm):
    url = StringField(_l("Địa chỉ nhận (URL)"), [InputRequired(REQUIRED), Length(max=MAX_URL)])
    events = MultiCheckboxField(_l("Sự kiện"), choices=[(e, e) for e in EVENTS])

    def validate_events(self, field: Any) -> None:
        if not field.data:
            raise ValidationError(_l("Chọn ít nhất một sự kiện."))


class AuditFilterForm(BackofficeForm):
    class Meta:
        csrf = False  # a GET search form

    entity = SelectField(_l("Đối tượng"), choices=[], validate_choice=False)
    user_id = SelectField(_l("Người thực hiện"), choices=[], validate_choice=False)
    date_from = DateField(_l("Từ ngày"), [Optional()])
    date_to = DateField(_l("Đến ngày"), [Optional()])
