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
    "invalid_procedure": _l("Thủ tục không thuộc lĩnh vực đã chọn hoặc không còn tiếp nhận."),
    "queue_empty": _l("Không còn ai đang chờ."),
    "counter_taken": _l("Quầy đang có cán bộ khác làm việc."),
    "counter_not_open": _l("Quầy chưa mở hoặc đang tạm dừng."),
    "counter_not_paused": _l("Quầy không ở trạng thái tạm dừng."),
    "parked_tickets_need_a_choice": _l("Quầy còn số đang tạm giữ: chọn xếp lại hàng hoặc chuyển sang quầy khác trước khi đóng quầy."),
    "invalid_parked_choice": _l("Lựa chọn cho các số tạm giữ không hợp lệ."),
    "target_counter_closed": _l("Quầy được chọn đang đóng; chọn quầy đang làm việc hoặc tạm dừng."),
    "no_current_ticket": _l("Quầy chưa có số nào đang phục vụ."),
    "invalid_state": _l("Phiếu không ở trạng thái phù hợp cho thao tác này."),
    "parked_elsewhere": _l("Phiếu đang được tạm giữ ở quầy khác."),
    "ticket_from_earlier_day": _l("Số thứ tự này thuộc ngày làm việc trước, không thể xếp lại vào hàng hôm nay. Xin mời công dân lấy số mới."),
    "transfer_target_required": _l("Cần chọn đúng một lĩnh vực hoặc một quầy để chuyển."),
    "service_not_found": _l("Không tìm thấy lĩnh vực."),
    "counter_not_found": _l("Không tìm thấy quầy."),
    "ticket_not_found": _l("Không tìm thấy phiếu."),
    "unit_not_found": _l("Không tìm thấy đơn vị."),
    "unauthorized": _l("Cần đăng nhập hoặc mã thiết bị hợp lệ."),
    "forbidden": _l("Bạn không có quyền thực hiện thao tác này."),
    "invalid_credentials": _l("Tên đăng nhập hoặc mật khẩu không đúng."),
    "account_locked": _l("Tài khoản tạm thời bị khoá vì nhập sai mật khẩu nhiều lần liên tiếp. Vui lòng thử lại sau."),
    "not_counter_clerk": _l("Bạn không phải cán bộ đang làm việc tại quầy này."),
    "validation_error": _l("Dữ liệu gửi lên không hợp lệ."),
    "bad_request": _l("Yêu cầu không hợp lệ."),
    "not_found": _l("Không tìm thấy."),
    "method_not_allowed": _l("Phương thức không được hỗ trợ."),
    "payload_too_large": _l("Dữ liệu gửi lên quá lớn."),
    "unsupported_media": _l("Tệp không phải ảnh PNG, JPEG, WebP hoặc video MP4."),
    "media_not_found": _l("Không tìm thấy tệp ảnh, video."),
    "invalid_playlist": _l("Danh sách phát không hợp lệ: tệp không có hoặc ngày kết thúc trước ngày bắt đầu."),
    "unsupported_media_type": _l("Dữ liệu phải được gửi dưới dạng JSON (Content-Type: application/json)."),
    "rate_limited": _l("Quá nhiều yêu cầu. Vui lòng thử lại sau ít phút."),
    "csrf_failed": _l("Phiên làm việc đã hết hạn. Vui lòng tải lại trang."),
    "busy_retry": _l("Hệ thống đang bận. Vui lòng thử lại."),
    "invalid_pairing_code": _l("Mã ghép nối không đúng hoặc đã hết hạn."),
    "invalid_role": _l("Vai trò không hợp lệ."),
    "username_taken": _l("Tên đăng nhập đã có người dùng."),
    "password_too_short": _l("Mật khẩu cần ít nhất 8 ký tự."),
    "invalid_device_kind": _l("Loại thiết bị không hợp lệ."),
    "counter_required": _l("Thiết bị này cần gắn với một quầy."),
    "dossier_not_found": _l("Không tìm thấy hồ sơ. Vui lòng kiểm tra lại mã hồ sơ."),
    "procedure_not_found": _l("Không tìm thấy thủ tục hành chính."),
    "procedure_inactive": _l("Thủ tục này hiện không tiếp nhận hồ sơ."),
    "invalid_applicant": _l("Thông tin người nộp hồ sơ chưa hợp lệ."),
    "invalid_documents": _l("Danh sách giấy tờ trong hồ sơ chưa hợp lệ."),
    "invalid_transition": _l("Hồ sơ không thể chuyển sang trạng thái này."),
    "supplement_already_requested": _l("Hồ sơ đã được yêu cầu bổ sung một lần; không được yêu cầu bổ sung lần nữa."),
    "note_required": _l("Cần ghi rõ nội dung (giấy tờ cần bổ sung hoặc lý do từ chối)."),
    "apology_already_given": _l("Hồ sơ đã có phiếu xin lỗi và hẹn lại; chỉ được hẹn lại một lần."),
    "apology_not_due": _l("Hồ sơ chưa quá hạn hoặc sắp đến hạn nên chưa cần phiếu xin lỗi."),
    "invalid_new_appointment": _l("Ngày hẹn mới phải là ngày làm việc, sau ngày hẹn hiện tại."),
    "reason_required": _l("Cần ghi rõ lý do chậm trễ."),
    "form_not_available": _l("Hồ sơ này chưa có phiếu được yêu cầu."),
    "lookup_key_required": _l("Cần mã tra cứu trên phiếu hẹn hoặc 4 số cuối điện thoại."),
    "internal_error": _l("Có lỗi trong hệ thống. Vui lòng thử lại hoặc báo cán bộ kỹ thuật."),
    "unavailable": _l("Hệ thống tạm thời không sẵn sàng. Vui lòng thử lại."),
    "busy": _l("Hệ thống đang bận, vui lòng thử lại sau ít phút."),  # onestop/offload.py
    # printing (onestop/printing): print_error codes in a ticket response, and refusals
    "printer_unreachable": _l("Không kết nối được máy in. Vui lòng ghi nhớ số thứ tự trên màn hình; cán bộ sẽ in lại phiếu."),
    "printer_paper_out": _l("Máy in đã hết giấy. Vui lòng ghi nhớ số thứ tự trên màn hình; cán bộ sẽ in lại phiếu."),
    "printer_offline": _l("Máy in đang tạm dừng (mở nắp hoặc lỗi). Vui lòng ghi nhớ số thứ tự trên màn hình."),
    "printer_busy": _l("Máy in đang bận. Vui lòng ghi nhớ số thứ tự trên màn hình; cán bộ sẽ in lại phiếu."),
    "printer_misconfigured": _l("Máy in của ki-ốt chưa được cấu hình đúng. Vui lòng báo cán bộ kỹ thuật."),
    "printer_no_answer": _l("Máy in không phản hồi trạng thái; phiếu có thể chưa được in."),
    "printer_slow": _l("Máy in phản hồi quá chậm; phiếu có thể chưa được in."),
    "printer_paper_near_end": _l("Máy in sắp hết giấy."),
    "render_failed": _l("Không tạo được phiếu in. Vui lòng báo cán bộ kỹ thuật."),
    "agent_missing": _l("Chưa có chương trình in (print agent) cho ki-ốt này. Vui lòng báo cán bộ kỹ thuật."),
    "agent_ambiguous": _l("Đơn vị có nhiều chương trình in; cần chỉ rõ agent://<mã> cho ki-ốt. Vui lòng báo cán bộ kỹ thuật."),
    "agent_offline": _l("Chương trình in (print agent) đang mất kết nối; phiếu sẽ được in khi kết nối lại."),
    "print_expired": _l("Phiếu không được in kịp thời và đã bị hủy lệnh in. Cán bộ có thể in lại phiếu."),
    "no_printer": _l("Không có máy in cho thiết bị hoặc quầy này."),
    "device_not_found": _l("Không tìm thấy thiết bị."),
    "reprint_not_allowed": _l("Ki-ốt chỉ được in lại phiếu vừa cấp trong vòng một phút."),
    # webhooks (onestop/webhooks)
    "invalid_webhook_url": _l("Địa chỉ webhook không hợp lệ: chỉ nhận http:// hoặc https://, không chứa tài khoản, không trỏ tới địa chỉ link-local hay loopback."),
    "invalid_webhook_events": _l("Danh sách sự kiện của webhook không hợp lệ."),
    "invalid_webhook_secret": _l("Khoá bí mật của webhook phải dài 16–128 ký tự ASCII, không có khoảng trắng."),
    "webhook_limit_reached": _l("Đơn vị đã có đủ số webhook tối đa; hãy vô hiệu hoá webhook không dùng."),
    "webhook_not_found": _l("Không tìm thấy webhook."),
    "delivery_not_found": _l("Không tìm thấy lần gửi webhook."),
    "webhook_inactive": _l("Webhook đã bị vô hiệu hoá."),
    # reports (onestop/reports)
    "invalid_period": _l("Khoảng thời gian báo cáo không hợp lệ: cần cả ngày bắt đầu và ngày kết thúc, ngày kết thúc không trước ngày bắt đầu, tối đa 3 năm."),
    "filters_need_one_unit": _l("Lọc theo lĩnh vực, quầy hoặc cán bộ chỉ áp dụng cho báo cáo của một đơn vị."),
    "user_not_found": _l("Không tìm thấy cán bộ."),
    # satisfaction ratings (onestop/ratings)
    "invalid_level": _l("Mức đánh giá không hợp lệ."),
    "invalid_reason": _l("Lý do không có trong danh sách của đơn vị."),
    "not_counter_tablet": _l("Chỉ máy tính bảng đánh giá của quầy đã phục vụ mới được ghi đánh giá này."),
    "ticket_not_finished": _l("Số thứ tự này chưa được phục vụ xong nên chưa thể đánh giá."),
    "already_rated": _l("Đã có đánh giá; mỗi lượt phục vụ hoặc hồ sơ chỉ được đánh giá một lần."),
    "rating_closed": _l("Đã hết thời gian đánh giá lượt phục vụ này."),
    # back office (onestop/backoffice, docs/backoffice.md)
    "device_revoked": _l("Thiết bị đã bị thu hồi; hãy đăng ký thiết bị mới."),
    # the desk and the clerk's moves (onestop/queueing/desk.py, issue 22)
    "out_of_order_not_allowed": _l("Đơn vị không cho phép gọi số không theo thứ tự."),
    "move_target_required": _l("Cần chọn đúng một lĩnh vực hoặc một quầy nhận các số đang chờ."),
    "printer_not_found": _l("Không tìm thấy máy in này."),
    # bookings and numbers from a phone (onestop/bookings/, onestop/api/bookings.py, issue 20)
    "slot_full": _l("Khung giờ này đã hết chỗ đặt lịch. Vui lòng chọn khung giờ khác."),
    "not_bookable": _l("Không thể đặt lịch vào thời điểm này: ngày nghỉ, ngoài giờ tiếp nhận của lĩnh vực, đã quá hạn đặt hoặc quá xa."),
    "already_booked": _l("Số điện thoại này đã có lịch hẹn ở lĩnh vực này trong ngày đã chọn."),
    "invalid_phone": _l("Số điện thoại di động không hợp lệ (ví dụ: 0912 345 678)."),
    "booking_not_found": _l("Không tìm thấy lịch hẹn. Vui lòng kiểm tra lại mã lịch hẹn và 4 số cuối điện thoại."),
    "booking_not_active": _l("Lịch hẹn này không còn hiệu lực (đã hủy, đã nhận số hoặc đã quá ngày hẹn)."),
    "too_late_to_cancel": _l("Đã quá thời hạn tự hủy lịch hẹn. Vui lòng liên hệ Trung tâm để được hỗ trợ."),
    "too_early": _l("Chưa đến giờ nhận số của lịch hẹn. Xin mời quay lại trong khung giờ cho phép."),
    "too_late": _l("Đã quá giờ nhận số của lịch hẹn."),
    "booking_other_day": _l("Lịch hẹn này không phải của hôm nay."),
    "already_checked_in": _l("Lịch hẹn này đã được nhận số thứ tự."),
    "invalid_outside": _l("Lựa chọn khi đến ngoài giờ hẹn không hợp lệ."),
    "remote_closed": _l("Đơn vị chưa cho phép lấy số thứ tự qua điện thoại. Xin mời lấy số tại ki-ốt."),
    "remote_share_reached": _l("Lĩnh vực này đã hết số cấp qua điện thoại hôm nay. Xin mời lấy số tại ki-ốt."),
    "remote_limit_reached": _l("Đã đạt số lượt lấy số qua điện thoại cho phép trong ngày."),
}

HTTP_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
              405: "method_not_allowed", 413: "payload_too_large", 415: "unsupported_media_type",
              422: "validation_error", 429: "rate_limited", 500: "internal_error", 503: "unavailable"}


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
    def _domain(error: DomainError) -> Any:
        answer = envelope(error.code, error.status, **error.details)
        if error.code == "busy":  # heavy work refused for now (onestop/offload.py)
            return answer[0], answer[1], {"Retry-After": "30"}
        return answer

    @app.error_processor
    def _http(error: HTTPError) -> Any:
        code = HTTP_CODES.get(error.status_code, "bad_request")
        detail = error.detail if error.status_code == 422 else None
        allow = dict(error.headers or {}).get("Allow")
        return _with_allow(envelope(code, error.status_code, fields=detail),
                           str(allow) if allow else None)

    @app.errorhandler(HTTPException)
    def _werkzeug(error: HTTPException) -> Any:
        original = getattr(error, "original_exception", None)
        if isinstance(original, Exception):
            # raised where Flask calls no handler of ours (the commit in an after_request
            # hook): answered as if the view had raised it, so a failed commit is a 503
            return _crash(original)
        status = error.code or 500
        code = "csrf_failed" if "CSRF" in (error.description or "") else HTTP_CODES.get(
            status, "bad_request")
        return _with_allow(envelope(code, status), dict(error.get_headers()).get("Allow"))

    app.spec_processor(document_bodies)  # type: ignore[arg-type]  # the spec as a dict

    @app.errorhandler(Exception)
    def _crash(error: Exception) -> tuple[Any, int]:
        if _is_db_down(error):
            log.warning("database unavailable: %s", error)
            return envelope("unavailable", 503)
        if _is_out_of_range(error):
            # an id past what the database can hold (SQLite takes 64-bit integers): no such
            # row, the same answer as any unknown id
            return envelope("not_found", 404)
        if _is_bad_data(error):
            log.warning("database refused the input on %s %s: %s", request.method,
                        request.path, error)
            return envelope("bad_request", 400)
        if isinstance(error, RecursionError) and request.is_json:
            return envelope("bad_request", 400)  # a hostile, absurdly nested JSON body
        log.exception("unhandled error on %s %s", request.method, request.path)
        return envelope("internal_error", 500)


def _with_allow(answer: tuple[Any, int], allow: str | None) -> Any:
    """A 405 says which methods the URL takes (RFC 9110), also in our envelope."""
    if allow and answer[1] == 405:
        return answer[0], answer[1], {"Allow": allow}
    return answer


def _error_response(description: str, schema: str = "HTTPError") -> dict[str, Any]:
    return {"description": description,
            "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}}}


def document_bodies(spec: dict[str, Any]) -> dict[str, Any]:
    """What APIFlask leaves out of the document: a JSON body is required (an empty one gets
    400) unless its view reads an empty body as ``{}`` (``body_optional``); a body that is
    not JSON gets 415; any input (body or query) can get 422."""
    from flask import current_app

    optional = _body_optional_paths(current_app)
    for path, operations in spec.get("paths", {}).items():
        for method, operation in operations.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            responses = operation["responses"]
            body = operation.get("requestBody")
            if body is not None:
                body["required"] = (method.upper(), path) not in optional
                responses.setdefault("415", _error_response("Unsupported Media Type: the body "
                                                            "must be application/json"))
            if body is not None or any(p.get("in") == "query"
                                       for p in operation.get("parameters", [])):
                responses.setdefault("422", _error_response("Validation error", "ValidationError"))
    return spec


def _body_optional_paths(app: Any) -> set[tuple[str, str]]:
    """(METHOD, OpenAPI path) of the API views marked ``body_optional``."""
    import re

    found: set[tuple[str, str]] = set()
    for rule in app.url_map.iter_rules():
        view = app.view_functions.get(rule.endpoint)
        if getattr(view, "body_optional", False):
            path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
            found.update((m, path) for m in rule.methods or ())
    return found


def _is_db_down(error: Exception) -> bool:
    """The database cannot take the work now: down, locked, its disk full, the connection
    lost (also when the commit is what failed)."""
    from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
    from sqlalchemy.exc import TimeoutError as PoolTimeout

    if isinstance(error, DBAPIError) and error.connection_invalidated:
        return True
    return isinstance(error, OperationalError | InterfaceError | PoolTimeout)


def _is_out_of_range(error: Exception) -> bool:
    """A number from the request the driver cannot bind (``OverflowError`` from sqlite3)."""
    from sqlalchemy.exc import StatementError

    cause = error.orig if isinstance(error, StatementError) else error
    return isinstance(cause, OverflowError)


def _is_bad_data(error: Exception) -> bool:
    """Input the database cannot take (NUL in text, a number out of range): a client error."""
    from sqlalchemy.exc import DataError

    return isinstance(error, DataError)
