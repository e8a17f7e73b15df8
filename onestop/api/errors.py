"""One error envelope for the whole API: ``{"error": {"code", "message"}}``; no tracebacks."""

from __future__ import annotations

import logging
from typing import Any

from apiflask import APIFlask
from apiflask.exceptions import HTTPError
from flask import jsonify, render_template, request
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import HTTPException

from onestop.extensions import db
from onestop.queueing.errors import DomainError

log = logging.getLogger(__name__)

MESSAGES: dict[str, Any] = {
    "service_closed": _l("Lĩnh vực này hôm nay không tiếp nhận. Vui lòng quay lại vào ngày làm việc của lĩnh vực."),
    "outside_hours": _l("Hiện ngoài giờ cấp số của lĩnh vực này. Vui lòng quay lại trong giờ làm việc."),
    "daily_cap_reached": _l("Lĩnh vực này đã hết số trong ngày. Vui lòng quay lại vào ngày làm việc tiếp theo."),
    "invalid_priority": _l("Đối tượng ưu tiên không hợp lệ."),
    "queue_empty": _l("Không còn ai đang chờ."),
    "counter_taken": _l("Quầy đang có cán bộ khác làm việc."),
    "counter_not_open": _l("Quầy chưa mở hoặc đang tạm dừng."),
    "counter_not_paused": _l("Quầy không ở trạng thái tạm dừng."),
    "no_current_ticket": _l("Quầy chưa có số nào đang phục vụ."),
    "invalid_state": _l("Phiếu không ở trạng thái phù hợp cho thao tác này."),
    "parked_elsewhere": _l("Phiếu đang được tạm giữ ở quầy khác."),
    "transfer_target_required": _l("Cần chọn đúng một lĩnh vực hoặc một quầy để chuyển."),
    "service_not_found": _l("Không tìm thấy lĩnh vực."),
    "counter_not_found": _l("Không tìm thấy quầy."),
    "ticket_not_found": _l("Không tìm thấy phiếu."),
    "unit_not_found": _l("Không tìm thấy đơn vị."),
    "unauthorized": _l("Cần đăng nhập hoặc mã thiết bị hợp lệ."),
    "forbidden": _l("Bạn không có quyền thực hiện thao tác này."),
    "invalid_credentials": _l("Tên đăng nhập hoặc mật khẩu không đúng."),
    "not_counter_clerk": _l("Bạn không phải cán bộ đang làm việc tại quầy này."),
    "validation_error": _l("Dữ liệu gửi lên không hợp lệ."),
    "bad_request": _l("Yêu cầu không hợp lệ."),
    "not_found": _l("Không tìm thấy."),
    "method_not_allowed": _l("Phương thức không được hỗ trợ."),
    "payload_too_large": _l("Dữ liệu gửi lên quá lớn."),
    "rate_limited": _l("Quá nhiều yêu cầu. Vui lòng thử lại sau ít phút."),
    "csrf_failed": _l("Phiên làm việc đã hết hạn. Vui lòng tải lại trang."),
    "busy_retry": _l("Hệ thống đang bận. Vui lòng thử lại."),
    "invalid_pairing_code": _l("Mã ghép nối không đúng hoặc đã hết hạn."),
    "invalid_role": _l("Vai trò không hợp lệ."),
    "username_taken": _l("Tên đăng nhập đã có người dùng."),
    "password_too_short": _l("Mật khẩu cần ít nhất 8 ký tự."),
    "invalid_device_kind": _l("Loại thiết bị không hợp lệ."),
    "counter_required": _l("Thiết bị này cần gắn với một quầy."),
    "internal_error": _l("Có lỗi trong hệ thống. Vui lòng thử lại hoặc báo cán bộ kỹ thuật."),
    "unavailable": _l("Hệ thống tạm thời không sẵn sàng. Vui lòng thử lại."),
}

HTTP_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
              405: "method_not_allowed", 413: "payload_too_large", 422: "validation_error",
              429: "rate_limited", 503: "unavailable"}


def envelope(code: str, status: int, **extra: Any) -> tuple[Any, int]:
    try:
        db.session.rollback()  # a refused request changes nothing
    except Exception:  # noqa: BLE001 - the database may be the thing that failed
        log.debug("rollback failed", exc_info=True)
    body: dict[str, Any] = {"code": code, "message": str(MESSAGES.get(code, code))}
    body.update({k: v for k, v in extra.items() if v is not None})
    if not request.path.startswith("/api/") and request.accept_mimetypes.accept_html:
        return render_template("error.html", error=body, status=status), status
    return jsonify(error=body), status


def init_app(app: APIFlask) -> None:
    @app.errorhandler(DomainError)
    def _domain(error: DomainError) -> tuple[Any, int]:
        return envelope(error.code, error.status, **error.details)

    @app.error_processor
    def _http(error: HTTPError) -> tuple[Any, int]:
        code = HTTP_CODES.get(error.status_code, "bad_request")
        detail = error.detail if error.status_code == 422 else None
        return envelope(code, error.status_code, fields=detail)

    @app.errorhandler(HTTPException)
    def _werkzeug(error: HTTPException) -> tuple[Any, int]:
        status = error.code or 500
        code = "csrf_failed" if "CSRF" in (error.description or "") else HTTP_CODES.get(
            status, "bad_request")
        return envelope(code, status)

    @app.errorhandler(Exception)
    def _crash(error: Exception) -> tuple[Any, int]:
        if _is_db_down(error):
            log.warning("database unavailable: %s", error)
            return envelope("unavailable", 503)
        if _is_bad_data(error):
            log.warning("database refused the input on %s %s: %s", request.method,
                        request.path, error)
            return envelope("bad_request", 400)
        if isinstance(error, RecursionError) and request.is_json:
            return envelope("bad_request", 400)  # a hostile, absurdly nested JSON body
        log.exception("unhandled error on %s %s", request.method, request.path)
        return envelope("internal_error", 500)


def _is_db_down(error: Exception) -> bool:
    from sqlalchemy.exc import OperationalError
    from sqlalchemy.exc import TimeoutError as PoolTimeout

    return isinstance(error, OperationalError | PoolTimeout)


def _is_bad_data(error: Exception) -> bool:
    """Input the database cannot take (NUL in text, a number out of range): a client error."""
    from sqlalchemy.exc import DataError

    return isinstance(error, DataError)
