"""Clerk workstation (``/counter/``) and the tracking book page (``/counter/book``).

The workstation is one page driven by ``static/counter/workstation.js`` (queue, actions,
Socket.IO) and ``intake.js`` (dossier intake); both call the JSON API with the page's
CSRF token. Texts the scripts show come from the page (``data-texts``), translated here.
``POST /counter/lease`` tells a tab whether it drives its counter (see ``counter.lease``).
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from typing import Any

from flask import Blueprint, abort, current_app, render_template, request
from flask_babel import gettext as _
from flask_login import current_user, login_required

from counter import lease
from onestop.api.common import now, resolve_unit
from onestop.dossiers import book
from onestop.dossiers.engine import ID_NUMBER_PATTERN, MOBILE_PATTERN
from onestop.extensions import db
from onestop.queueing.errors import DomainError
from onestop.queueing.state import services

bp = Blueprint("counter", __name__, url_prefix="/counter", template_folder="templates",
               static_folder="static")
log = logging.getLogger(__name__)

ROLES = ("clerk", "manager", "admin")
TAB_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
OUTCOMES = ("served", "dossier_received", "guided", "not_competent")
MAX_ID = 2**31 - 1


def _staff_only() -> None:
    if current_user.role not in ROLES:
        abort(403)


@bp.after_request
def _no_store(response: Any) -> Any:
    # the book and the intake carry applicants' personal data: never kept by a cache or
    # shown again by the back button after sign-out
    if request.endpoint != "counter.static":
        response.headers["Cache-Control"] = "no-store"
    return response


def texts() -> dict[str, Any]:
    """Everything the scripts may show, already in the page's language."""
    return {
        "counter": _("Quầy"),
        "open": _("Đang làm việc"),
        "paused": _("Tạm dừng"),
        "closed": _("Đóng"),
        "called": _("Đang gọi"),
        "serving": _("Đang phục vụ"),
        "parked": _("Tạm giữ"),
        "missed": _("Vắng mặt"),
        "waiting": _("Đang chờ"),
        "pause": _("Tạm dừng"),
        "resume": _("Tiếp tục"),
        "online": _("Trực tuyến"),
        "offline": _("Mất kết nối, đang kết nối lại…"),
        "priority": {
            "elderly": _("Người cao tuổi"),
            "disabled": _("Người khuyết tật"),
            "pregnant": _("Phụ nữ mang thai"),
            "meritorious": _("Người có công với cách mạng"),
        },
        "outcomes": {
            "served": _("Đã giải quyết"),
            "dossier_received": _("Đã tiếp nhận hồ sơ"),
            "guided": _("Hướng dẫn bổ sung"),
            "not_competent": _("Không thuộc thẩm quyền"),
        },
        "minutes": _("phút"),
        # a ticket checked in for a booking (lịch hẹn): the card's line, the list's mark
        "booked_at": _("Lịch hẹn %(time)s"),
        "booked_mark": _("Hẹn"),
        "booked": _("Đã đặt lịch hẹn"),
        "waited": _("Đã chờ"),
        "called_at": _("Gọi lúc"),
        "recalls": _("Đã gọi lại"),
        "times": _("lần"),
        "next": _("Tiếp theo"),
        "nobody": _("Không có ai chờ"),
        "more": _("và %(n)s số nữa"),
        "held_by": _("Cán bộ"),
        "yours": _("Quầy của bạn"),
        "free": _("Quầy trống"),
        "open_counter": _("Mở quầy"),
        "continue": _("Tiếp tục làm việc"),
        "call": _("Gọi"),
        "requeue": _("Xếp lại hàng"),
        "no_missed": _("Không có số vắng mặt"),
        "no_parked": _("Không có số tạm giữ"),
        "called_ok": _("Đã gọi số %(label)s"),
        "finished_ok": _("Đã hoàn thành số %(label)s"),
        "skipped_ok": _("Số %(label)s vắng mặt"),
        "parked_ok": _("Đã tạm giữ số %(label)s"),
        "transferred_ok": _("Đã chuyển số %(label)s"),
        "requeued_ok": _("Số %(label)s đã được xếp lại hàng"),
        "reprinted_ok": _("Đã gửi lệnh in lại số %(label)s"),
        "print_failed": _("In lại không thành công"),
        "network": _("Mất kết nối tới máy chủ. Vui lòng thử lại."),
        "close_called": _("Số %(label)s đã gọi nhưng công dân chưa đến: chuyển sang Vắng mặt, "
                          "công dân vẫn có thể quay lại xếp hàng."),
        "close_serving": _("Số %(label)s đang phục vụ: được kết thúc và tính là đã phục vụ."),
        "close_nothing": _("Không có số nào đang gọi hoặc đang phục vụ."),
        "close_parked_none": _("Không có số nào đang tạm giữ tại quầy."),
        "close_to_queue": _("xếp lại hàng chờ"),
        "close_to_counter": _("tạm giữ tại quầy %(number)s"),
        "close_no_counter": _("Không có quầy nào khác đang làm việc."),
        "close_pick_counter": _("Chọn quầy nhận các số tạm giữ."),
        "closed_ok": _("Đã đóng quầy %(number)s."),
        "reason_required": _("Chọn hoặc ghi lý do tạm dừng."),
        "received": _("Đã nhận hồ sơ"),
        "receipt": _("Giấy tiếp nhận"),
        "no_services": _("Quầy chưa được gán lĩnh vực nào."),
        # intake
        "procedure_required": _("Chọn thủ tục hành chính."),
        "name_required": _("Nhập họ và tên."),
        "name_invalid": _("Họ tên không được chứa ký tự < hoặc >."),
        "too_long": _("Quá dài (tối đa %(n)s ký tự)."),
        "id_invalid": _("Số CCCD gồm 12 chữ số (CMND cũ: 9 chữ số)."),
        "phone_invalid": _("Số điện thoại di động gồm 10 chữ số, bắt đầu bằng 03, 05, 07, 08 hoặc 09 "
                           "(có thể viết +84 thay cho số 0 đầu)."),
        "document_forms": {"ban_chinh": _("Bản chính"), "ban_sao": _("Bản sao"), "ban_chup": _("Bản chụp")},
        "document_form": _("Hình thức"),
        "email_invalid": _("Email không đúng định dạng."),
        "doc_name_required": _("Nhập tên giấy tờ."),
        "count_invalid": _("Số lượng từ 1 đến 1000."),
        "too_many_docs": _("Tối đa 50 loại giấy tờ."),
        "check_form": _("Vui lòng kiểm tra các ô được đánh dấu."),
        "days": _("ngày làm việc"),
        "same_day": _("Trong ngày"),
        "legal_time": _("Thời hạn giải quyết"),
        "fee": _("Lệ phí"),
        "searching": _("Đang tìm…"),
        "no_match": _("Không tìm thấy thủ tục phù hợp."),
        "field_procedures": _("Thủ tục của lĩnh vực"),
        "results": _("Kết quả tìm kiếm"),
        "remove": _("Bỏ"),
        "other_document": _("Tên giấy tờ khác"),
        "copies": _("Số bản"),
        "no_ticket": _("Không gắn với số thứ tự nào"),
        "for_ticket": _("Cho số"),
    }


def reprint_available() -> bool:
    """Whether the API offers ``POST /tickets/{id}/reprint`` (another module adds it)."""
    return "api.reprint" in current_app.view_functions


@bp.get("/")
@login_required
def workstation() -> str:
    _staff_only()
    unit = resolve_unit()
    db.session.commit()
    return render_template("counter/workstation.html", unit=unit, texts=texts(),
                           reprint=reprint_available(), outcomes=OUTCOMES,
                           id_pattern=ID_NUMBER_PATTERN, phone_pattern=MOBILE_PATTERN)


@bp.post("/lease")
@login_required
def claim_lease() -> Any:
    """``{counter_id, tab, take?}`` -> ``{active}``: whether this tab drives the counter."""
    _staff_only()
    body = request.get_json(silent=True) or {}
    counter_id, tab = body.get("counter_id"), body.get("tab")
    if not isinstance(counter_id, int) or not 1 <= counter_id <= MAX_ID or not isinstance(tab, str) \
            or not TAB_ID.match(tab):
        raise DomainError("bad_request", status=400)
    store = lease.store_for(current_app.config, current_app.extensions)
    key = lease.lease_key(int(current_user.id), counter_id)
    try:
        if body.get("release") is True:
            store.release(key, tab)
            return {"active": False}
        return {"active": store.claim(key, tab, body.get("take") is True)}
    except Exception:  # noqa: BLE001 - a lost lease store must not lock the clerk out
        log.warning("counter lease store unavailable", exc_info=True)
        return {"active": True, "degraded": True}


@bp.get("/book")
@login_required
def book_page() -> str:
    """The tracking book of one field and year, in book order, with the XLSX download."""
    from onestop.api.dossier_docs import audit_book_read, book_service, book_title

    _staff_only()
    unit = resolve_unit()
    at = now()
    this_year = unit.business_date(at).year
    fields = services(db.session(), unit)
    service_id = request.args.get("service_id", type=int)
    if service_id is None and "service_id" not in request.args and fields:
        service_id = fields[0].id
    service = book_service(unit, service_id) if service_id else None
    year = request.args.get("year", type=int) or this_year
    year = min(max(year, 2000), 2100)
    # paged: a year of a busy centre is thousands of lines (one page, one short query)
    chosen = service.id if service else None
    found, flt = book_search(unit, at)
    total = book.book_count(db.session(), unit, year=year, service_id=chosen, found=found)
    pages = max(1, -(-total // book.PAGE_SIZE))
    page = min(max(request.args.get("page", 1, type=int) or 1, 1), pages)
    rows = book.book_page(db.session(), unit, year=year, service_id=chosen, now=at, page=page,
                          found=found)
    years = sorted(set(book.book_years(db.session(), unit)) | {this_year, year}, reverse=True)
    audit_book_read(unit, service, year, len(rows))
    db.session.commit()
    return render_template("counter/book.html", unit=unit, rows=rows, fields=fields, service=service,
                           year=year, years=years, title=book_title(service, year),
                           state_labels=book.STATE_LABELS, fmt=_fmt, total=total, page=page,
                           pages=pages, first=(page - 1) * book.PAGE_SIZE + 1, flt=flt,
                           search_keep={k: request.args[k] for k in SEARCH_ARGS if request.args.get(k)})


SEARCH_ARGS = ("q", "state", "due", "from", "to")  # the dossier desk's search, kept by the book's pages


def book_search(unit: Any, at: dt.datetime) -> tuple[Any, Any]:
    """The dossier desk's search (q, state, due, from, to) on the book page: the query of the
    matching dossiers (``None`` when nothing is asked) and the filter, for the form."""
    from counter.dossiers import request_filter
    from onestop.dossiers.search import search_query

    flt, _page = request_filter()
    asked = flt.q or flt.state or flt.due or flt.date_from or flt.date_to
    return (search_query(db.session(), unit, flt, at) if asked else None), flt


def _fmt(when: dt.datetime | None) -> str:
    return when.strftime("%d/%m/%Y %H:%M") if when else ""


# the dossier desk's and the rating tablet's routes on this blueprint
from counter import dossiers, reception, tablet  # noqa: E402,F401
