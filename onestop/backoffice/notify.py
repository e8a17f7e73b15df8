"""``/admin/notifications``: messages to citizens (issue 21), for admins and managers.

- the channels and whether each is configured (the settings live in the environment);
- today's messages of the unit with their state, channel, attempts and last error (addresses
  masked), counts by channel and state, and "Gửi lại" for the dead ones (admins, audited);
- ``/admin/notifications/templates`` (admins): each event's Vietnamese and English text, a
  preview with sample values ("Xem trước", as the citizen's SMS and as the full text), and
  "Lưu" into the unit's settings (``notify_templates``; an empty text falls back to the
  default), audited.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy.orm.attributes import flag_modified

from onestop.api.common import now, resolve_unit
from onestop.audit.engine import record_request
from onestop.backoffice.forms import ConfirmForm
from onestop.extensions import db
from onestop.notify import delivery, engine, templates
from onestop.notify.config import NotifyConfig
from onestop.notify.models import EVENTS
from onestop.notify.wakeup import wake
from onestop.units.models import Unit

bp = Blueprint("admin_notify", __name__, url_prefix="/admin")

ROLES = ("admin", "manager")
EVENT_LABELS = {
    "ticket.near": _l("Sắp đến lượt (còn N người)"), "ticket.called": _l("Được mời đến quầy"),
    "ticket.transferred": _l("Được chuyển lĩnh vực"), "booking.confirmed": _l("Đặt lịch hẹn thành công"),
    "booking.reminder": _l("Nhắc lịch hẹn"), "booking.cancelled": _l("Lịch hẹn đã hủy"),
    "dossier.ready": _l("Hồ sơ đã có kết quả"), "dossier.supplement_requested": _l("Hồ sơ cần bổ sung"),
}


def _allow(roles: tuple[str, ...]) -> None:
    if current_user.role not in roles:
        abort(403)


def _today_start(unit: Unit, at: dt.datetime) -> dt.datetime:
    local = unit.local(at)
    return local.replace(hour=0, minute=0, second=0, microsecond=0).astimezone(dt.UTC)


@bp.get("/notifications")
@login_required
def notifications() -> Any:
    _allow(ROLES)
    unit = resolve_unit()
    session = db.session()
    since = _today_start(unit, now())
    rows = [engine.message_dict(m, unit) for m in engine.messages_since(session, unit.id, since)]
    return render_template("backoffice/notifications.html", unit=unit, bo_unit=unit, rows=rows,
                           channels=NotifyConfig.of(current_app.config).status(), labels=EVENT_LABELS,
                           counts=engine.counts_since(session, unit.id, since), when=_local(unit),
                           can_retry=current_user.role == "admin", confirm_form=ConfirmForm())


@bp.post("/notifications/retry")
@login_required
def retry() -> Any:
    """Send the unit's dead messages of the last day again (their moment is checked again)."""
    _allow(("admin",))
    if not ConfirmForm().validate_on_submit():
        abort(400)
    session = db.session()
    unit = resolve_unit()
    retried = delivery.retry_dead(session, unit.id, now())
    record_request(session, action="retry", entity="notify_message", after={"retried": retried},
                   unit_id=unit.id)
    session.commit()
    wake()
    flash(str(_l("Đã đưa %(n)s tin nhắn vào hàng chờ gửi lại.", n=retried)), "ok")
    return redirect(url_for("admin_notify.notifications"))


def _texts_from_form(unit: Unit) -> tuple[dict[str, dict[str, str]], list[str]]:
    chosen: dict[str, dict[str, str]] = {}
    wrong = []
    for event in EVENTS:
        chosen[event] = {}
        for lang in ("vi", "en"):
            text = (request.form.get(f"{event}.{lang}") or "").strip().replace("\r\n", "\n")
            if text and templates.check(text):
                wrong.append(f"{event}.{lang}")
            chosen[event][lang] = text
    return chosen, wrong


def _preview(unit: Unit, chosen: dict[str, dict[str, str]],
             config: NotifyConfig) -> dict[str, dict[str, Any]]:
    shown = Unit(name=unit.name, settings={**(unit.settings or {}), templates.SETTING: chosen})
    out: dict[str, dict[str, Any]] = {}
    for event in EVENTS:
        out[event] = {}
        for lang in ("vi", "en"):
            sms = templates.sms_text(shown, event, lang, templates.SAMPLE, ascii_only=config.sms_ascii,
                                     max_chars=config.sms_max_chars)
            out[event][lang] = {"text": templates.text_for(shown, event, lang, templates.SAMPLE), "sms": sms,
                                "sms_length": templates.gsm7_length(sms)}
    return out


@bp.route("/notifications/templates", methods=["GET", "POST"])
@login_required
def edit_templates() -> Any:
    _allow(("admin",))
    unit = resolve_unit()
    config = NotifyConfig.of(current_app.config)
    form = ConfirmForm()
    own = dict((unit.settings or {}).get(templates.SETTING) or {})
    chosen = {e: {lang: str((own.get(e) or {}).get(lang) or "") for lang in ("vi", "en")} for e in EVENTS}
    wrong: list[str] = []
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        chosen, wrong = _texts_from_form(unit)
        if request.form.get("action") == "save" and not wrong:
            stored = {e: {k: v for k, v in t.items() if v} for e, t in chosen.items() if any(t.values())}
            unit.settings = {**(unit.settings or {}), templates.SETTING: stored}
            flag_modified(unit, "settings")
            record_request(db.session(), action="update", entity="notify_templates", after=stored,
                           unit_id=unit.id)
            db.session.commit()
            flash(str(_l("Đã lưu nội dung tin nhắn.")), "ok")
            return redirect(url_for("admin_notify.edit_templates"))
        if wrong:
            flash(str(_l("Nội dung có dấu ngoặc nhọn không hợp lệ hoặc quá dài.")), "error")
    return render_template("backoffice/notify_templates.html", unit=unit, bo_unit=unit, events=EVENTS,
                           labels=EVENT_LABELS, chosen=chosen, defaults=templates.DEFAULTS, wrong=wrong,
                           preview=_preview(unit, chosen, config), form=form,
                           active_section="admin_notify.notifications", config_sms=config)


def _local(unit: Unit) -> Any:
    def fmt(value: str | None) -> str:
        if not value:
            return "—"
        return unit.local(dt.datetime.fromisoformat(value.replace("Z", "+00:00"))).strftime("%H:%M:%S")

    return fmt
