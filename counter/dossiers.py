"""The dossier desk (``/counter/dossiers``): find a dossier, follow its life, act on it.

``GET /counter/dossiers`` searches (the same filter as ``GET /api/v1/dossiers``);
``GET /counter/dossiers/<code>`` is one dossier's page: its timeline, documents, the
appointment in force, its forms (BM.01-04) and a form for each action its state allows.
Each action is a ``POST /counter/dossiers/<code>/<action>`` (HTML form, CSRF token) that
calls the dossier engine, commits and comes back to the page with a confirmation
(``?done=<action>``); an action the state does not allow is refused (409), bad input
re-renders the page with the message (422).
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import quote

from flask import redirect, render_template, request, url_for
from flask_babel import format_decimal
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required
from sqlalchemy import select
from werkzeug.wrappers import Response

from counter import _staff_only, bp
from onestop.accounts.auth import current_actor
from onestop.accounts.models import Device, User
from onestop.api.common import now, resolve_unit
from onestop.audit import engine as audit
from onestop.dossiers import engine, search
from onestop.dossiers.book import STATE_LABELS
from onestop.dossiers.models import DOCUMENT_FORMS, DOSSIER_STATES, Dossier, DossierEvent
from onestop.extensions import db
from onestop.queueing.errors import DomainError, NotFound
from onestop.queueing.state import services
from onestop.units.models import Unit

MAX_Q = 200
ACTIONS = ("process", "ready", "hand_over", "supplement", "supplemented", "apologise", "reject",
           "withdraw")
DONE = {
    "process": _l("Đã chuyển hồ sơ sang Đang giải quyết."),
    "ready": _l("Đã ghi nhận hồ sơ có kết quả."),
    "hand_over": _l("Đã trả kết quả; hồ sơ đã kết thúc."),
    "supplement": _l("Đã yêu cầu bổ sung hồ sơ. In phiếu yêu cầu bổ sung (BM.02) và giao cho "
                     "công dân."),
    "supplemented": _l("Đã nhận hồ sơ bổ sung; thời hạn giải quyết được tính lại. In giấy tiếp "
                       "nhận mới (BM.01) với ngày hẹn mới."),
    "apologise": _l("Đã lập phiếu xin lỗi và hẹn lại ngày trả kết quả (BM.04)."),
    "reject": _l("Đã từ chối hồ sơ. In phiếu từ chối (BM.03) và giao cho công dân."),
    "withdraw": _l("Đã ghi nhận công dân rút hồ sơ."),
}
ERRORS = {
    "action_not_allowed": _l("Trạng thái hiện tại của hồ sơ không cho phép thao tác này."),
    "invalid_transition": _l("Trạng thái hiện tại của hồ sơ không cho phép thao tác này."),
    "supplement_already_requested": _l("Hồ sơ đã được yêu cầu bổ sung một lần; không yêu cầu "
                                       "lần thứ hai."),
    "note_required": _l("Vui lòng ghi lý do."),
    "reason_required": _l("Vui lòng ghi lý do."),
    "invalid_note": _l("Nội dung quá dài hoặc có ký tự không hợp lệ."),
    "supplement:items": _l("Ghi ít nhất một giấy tờ cần bổ sung: mỗi dòng một giấy tờ, tối đa 30 "
                           "dòng, mỗi dòng tối đa 200 ký tự."),
    "supplement:reason": _l("Ghi lý do yêu cầu bổ sung."),
    "collector:name": _l("Nhập họ tên người nhận kết quả (không chứa ký tự < hoặc >)."),
    "collector:id_number": _l("Số CCCD của người nhận gồm 12 chữ số (CMND cũ: 9 chữ số)."),
    "collector:authorisation": _l("Ghi quan hệ với người nộp hồ sơ hoặc giấy ủy quyền."),
    "apology_already_given": _l("Hồ sơ đã có phiếu xin lỗi; chỉ xin lỗi một lần."),
    "apology_not_due": _l("Hồ sơ chưa quá hạn và chưa đến hạn trả kết quả."),
    "invalid_new_appointment": _l("Số ngày làm việc hẹn lại từ 1 đến 60."),
}
EVENT_LABELS = {
    "receive": _l("Tiếp nhận hồ sơ"),
    "apology": _l("Xin lỗi và hẹn lại ngày trả kết quả"),
    "supplemented": _l("Nhận hồ sơ bổ sung"),
}


def _date_arg(name: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(request.args.get(name, ""))
    except ValueError:
        return None


def request_filter() -> tuple[search.DossierFilter, int]:
    """The search form's values (what is malformed is ignored, as a page should)."""
    args = request.args
    state = args.get("state") if args.get("state") in DOSSIER_STATES else None
    due = args.get("due") if args.get("due") in ("overdue", "soon") else None
    service_id = args.get("service_id", type=int)
    flt = search.DossierFilter(q=(args.get("q") or "")[:MAX_Q], state=state,
                               service_id=service_id if service_id and 0 < service_id < 2**31 else None,
                               date_from=_date_arg("from"), date_to=_date_arg("to"),
                               due=due)  # type: ignore[arg-type]
    return flt, max(args.get("page", 1, type=int) or 1, 1)


def _fmt(when: dt.datetime | None, unit: Unit) -> str:
    return unit.local(when).strftime("%d/%m/%Y %H:%M") if when else ""


@bp.get("/dossiers")
@login_required
def dossier_desk() -> str:
    """Search the unit's dossiers; one page of results, newest received first."""
    from onestop.api.dossiers import audit_search

    _staff_only()
    unit = resolve_unit()
    at = now()
    flt, page = request_filter()
    found = search.search(db.session(), unit, flt, at, page=min(page, 100000))
    audit_search(unit.id, flt, found.total, found.capped)
    fields = services(db.session(), unit)
    db.session.commit()
    keep = {k: v for k, v in request.args.items() if k != "page" and v}
    return render_template("counter/dossiers.html", unit=unit, found=found, flt=flt, fields=fields,
                           states=DOSSIER_STATES, state_labels=STATE_LABELS, keep=keep,
                           number=format_decimal,
                           fmt=lambda w: _fmt(w, unit), overdue=lambda d: engine.is_overdue(d, at))


def _dossier(unit: Unit, code: str) -> Dossier:
    if len(code) > 64:
        raise NotFound("dossier_not_found")
    return engine.find_dossier(db.session(), code, unit.id)


def _who(event: DossierEvent) -> str:
    if event.actor_user_id:
        user = db.session.get(User, event.actor_user_id)
        return (user.full_name or user.username) if user else ""
    if event.actor_device_id:
        device = db.session.get(Device, event.actor_device_id)
        return device.name if device else ""
    return ""


def _event_label(event: DossierEvent) -> str:
    if event.action == "state" and (event.from_state, event.to_state) == ("supplement_requested",
                                                                         "processing"):
        return str(EVENT_LABELS["supplemented"])
    if event.action == "state":
        return _(STATE_LABELS.get(event.to_state, event.to_state))
    label = EVENT_LABELS.get(event.action)
    return str(label) if label else event.action


def timeline(dossier: Dossier, unit: Unit) -> list[dict[str, Any]]:
    """Every event of the dossier, oldest first, as the page shows it."""
    rows = db.session.scalars(select(DossierEvent).where(DossierEvent.dossier_id == dossier.id)
                              .order_by(DossierEvent.id))
    out = []
    for event in rows:
        details = event.details or {}
        moved = {k: _fmt(dt.datetime.fromisoformat(v), unit) for k, v in details.items()
                 if k in ("previous_appointment_at", "appointment_at", "new_appointment_at") and v}
        out.append({"at": _fmt(event.at, unit), "who": _who(event), "label": _event_label(event),
                    "action": event.action, "note": event.note, "details": details, "moved": moved})
    return out


def forms_of(dossier: Dossier) -> list[tuple[str, str, str]]:
    """The printed forms the dossier has: (id, label, URL of the PDF)."""
    base = f"/api/v1/dossiers/{quote(dossier.code, safe='')}"
    out = [("receipt", _("Giấy tiếp nhận và hẹn trả kết quả (BM.01)"))]
    if dossier.supplement_count:
        out.append(("supplement", _("Phiếu yêu cầu bổ sung, hoàn thiện hồ sơ (BM.02)")))
    if dossier.state == "rejected":
        out.append(("refusal", _("Phiếu từ chối tiếp nhận giải quyết hồ sơ (BM.03)")))
    if dossier.apology_count and dossier.new_appointment_at:
        out.append(("apology", _("Phiếu xin lỗi và hẹn lại ngày trả kết quả (BM.04)")))
    return [(form, label, f"{base}/{form}.pdf") for form, label in out]


def _page(unit: Unit, dossier: Dossier, *, error: str = "", form: dict[str, str] | None = None,
          failed: str = "", status: int = 200) -> tuple[str, int]:
    at = now()
    audit.record_request(db.session(), action="read", entity="dossier", entity_id=dossier.code,
                         unit_id=dossier.unit_id)
    done = request.args.get("done") if not error else None
    page = render_template(
        "counter/dossiers_one.html", unit=unit, d=dossier, events=timeline(dossier, unit),
        actions=engine.actions_for(db.session(), dossier, at), forms=forms_of(dossier),
        overdue=engine.is_overdue(dossier, at), fmt=lambda w: _fmt(w, unit),
        state_labels=STATE_LABELS, document_forms=DOCUMENT_FORMS, error=error, form=form or {}, failed=failed,
        done=DONE.get(done or "") and str(DONE[done or ""]), done_action=done)
    db.session.commit()
    return page, status


@bp.get("/dossiers/<code>")
@login_required
def dossier_page(code: str) -> tuple[str, int]:
    _staff_only()
    unit = resolve_unit()
    return _page(unit, _dossier(unit, code))


def _lines(text: str) -> list[str]:
    return [line.strip(" -•*\t") for line in (text or "").splitlines() if line.strip(" -•*\t")]


def _act(action: str, dossier: Dossier, form: Any) -> None:
    """Run one desk action through the engine (the same functions as the API)."""
    session, actor, at = db.session(), current_actor(), now()
    if action in ("process", "supplemented"):
        engine.change_state(session, dossier, "processing", actor=actor, now=at)
    elif action == "ready":
        engine.mark_ready(session, dossier, form.get("place", ""), actor=actor, now=at)
    elif action == "hand_over":
        by_applicant = form.get("collector") != "other"
        engine.hand_over(session, dossier, engine.Collector(
            by_applicant=by_applicant, name=form.get("name", ""), id_number=form.get("id_number", ""),
            authorisation=form.get("authorisation", "")), actor=actor, now=at)
    elif action == "supplement":
        engine.request_supplement(session, dossier, _lines(form.get("items", "")), form.get("reason", ""),
                                  actor=actor, now=at)
    elif action == "apologise":
        days = form.get("working_days", type=int) or 0
        new_date = engine.apology_date(session, dossier, days, at)
        engine.apologise(session, dossier, new_date, form.get("reason", ""), actor=actor, now=at)
    elif action == "reject":
        engine.change_state(session, dossier, "rejected", actor=actor, now=at, note=form.get("reason", ""))
    elif action == "withdraw":
        engine.change_state(session, dossier, "withdrawn", actor=actor, now=at, note=form.get("reason", ""))


def _message(refused: DomainError) -> str:
    field = refused.details.get("field")
    prefix = {"invalid_supplement": "supplement", "invalid_collector": "collector"}.get(refused.code)
    key = f"{prefix}:{field}" if prefix else refused.code
    text = ERRORS.get(key)
    return str(text) if text else _("Không thực hiện được thao tác (%(code)s).", code=refused.code)


@bp.post("/dossiers/<code>/<action>")
@login_required
def dossier_action(code: str, action: str) -> Response | tuple[str, int]:
    """One action on the dossier; refused (409) when its state does not allow it."""
    _staff_only()
    unit = resolve_unit()
    dossier = _dossier(unit, code)
    form = {k: v for k, v in request.form.items() if k != "csrf_token"}
    if action not in ACTIONS or action not in engine.actions_for(db.session(), dossier, now()):
        db.session.rollback()
        return _page(unit, _dossier(unit, code), error=str(ERRORS["action_not_allowed"]), status=409)
    try:
        _act(action, dossier, request.form)
    except DomainError as refused:
        db.session.rollback()
        return _page(unit, _dossier(unit, code), error=_message(refused), form=form,
                     failed=action, status=refused.status)
    db.session.commit()
    return redirect(url_for("counter.dossier_page", code=dossier.code, done=action), code=303)
