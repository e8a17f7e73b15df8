"""Manager pages (``/manager``): the live dashboard, reports with exports, staffing advice.

Managers and admins only (a clerk gets the 403 page; anonymous users go to sign in). The
pages are shells: ``static/manager/*.js`` fetch ``/api/v1/dashboard`` and
``/api/v1/reports/...`` and draw tables and Chart.js charts. Texts the scripts show come
from the page (a JSON block), already translated.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar, cast

from flask import Blueprint, abort, render_template
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from onestop.accounts.models import User
from onestop.api.common import resolve_unit
from onestop.extensions import db
from onestop.queueing.models import Counter, Service
from onestop.textsort import vi_key

bp = Blueprint("manager", __name__, url_prefix="/manager", template_folder="templates",
               static_folder="static")

ROLES = ("manager", "admin")
F = TypeVar("F", bound=Callable[..., Any])


def managers_only(view: F) -> F:
    """Sign in first (redirect), then managers and admins only (403 page).

    A decorator rather than ``before_request``: APIFlask's OpenAPI generator chokes on a
    plain blueprint's ``before_request`` functions."""

    @functools.wraps(view)
    @login_required
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if current_user.role not in ROLES:
            abort(403)
        return view(*args, **kwargs)

    return cast(F, wrapper)


def texts() -> dict[str, Any]:
    """Everything the scripts may show, in the page's language."""
    return {
        "open": _("Đang làm việc"), "paused": _("Tạm dừng"), "closed": _("Đóng"),
        "called": _("Đang gọi"), "serving": _("Đang phục vụ"),
        "online": _("Đang cập nhật trực tiếp"), "offline": _("Mất kết nối, đang kết nối lại…"),
        "minutes": _("phút"), "none": _("Không có"), "no_data": _("Không có dữ liệu trong kỳ."),
        "error": _("Không tải được số liệu. Vui lòng thử lại."),
        "bad_date": _("Ngày phải có dạng dd/mm/yyyy."),
        "issued": _("Số phiếu cấp"), "served": _("Đã phục vụ"),
        "avg_wait": _("Chờ trung bình (phút)"), "p90_wait": _("Chờ P90 (phút)"),
        "needed": _("Số quầy cần"), "open_counters": _("Số quầy đã mở"),
        "printer": _("Máy in"), "device_silent": _("Thiết bị mất liên lạc"),
        "failed_prints": _("Lệnh in lỗi hôm nay"), "never": _("chưa bao giờ"),
        "previous_day": _("Ngày làm việc trước"),
        "weekdays": [_("Thứ Hai"), _("Thứ Ba"), _("Thứ Tư"), _("Thứ Năm"), _("Thứ Sáu"),
                     _("Thứ Bảy"), _("Chủ nhật")],
    }


def _choices() -> dict[str, Any]:
    unit = resolve_unit()
    session = db.session()
    services = session.scalars(select(Service).where(Service.unit_id == unit.id)
                               .order_by(Service.sort_order, Service.id)).all()
    counters = session.scalars(select(Counter).where(Counter.unit_id == unit.id)
                               .order_by(Counter.number)).all()
    clerks = sorted(session.scalars(select(User).where(User.unit_id == unit.id, User.role == "clerk")),
                    key=lambda u: (vi_key(u.full_name or u.username), u.username))  # Đ after D
    return {"unit": unit, "services": services, "counters": counters, "clerks": clerks,
            "texts": texts()}


@bp.get("/")
@managers_only
def dashboard() -> str:
    return render_template("manager/dashboard.html", unit=resolve_unit(), texts=texts())


@bp.get("/reports")
@managers_only
def reports() -> str:
    return render_template("manager/reports.html", **_choices())


@bp.get("/staffing")
@managers_only
def staffing() -> str:
    return render_template("manager/staffing.html", **_choices())


from onestop.manager import overview  # noqa: E402,F401  (/manager/overview, issue 22 item 5)
