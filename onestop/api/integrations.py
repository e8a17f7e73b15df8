"""The link to the province's dossier system (onestop/integrations, docs/provincial-link.md).

``POST /tickets/{id}/provincial-code {"code"}``: link mode, for the clerk at the counter
serving the ticket (managers and admins for any counter of their unit).
``GET /integrations/province``: the push outbox's counts and latest rows (admins, managers).
``POST /integrations/province/retry``: send the dead pushes again (admins).
Without ``PROVINCE_URL`` every route answers 404 ``province_link_disabled``.
"""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from pydantic import BaseModel, Field
from sqlalchemy import func, select

from onestop.accounts.auth import current_actor, require_user
from onestop.api import bp
from onestop.api.common import counter_for_action, now, resolve_unit
from onestop.api.counters import MAX_ID
from onestop.api.errors import MESSAGES
from onestop.api.schemas import Strict
from onestop.dossiers.models import Dossier
from onestop.extensions import db
from onestop.integrations import engine, outbox
from onestop.integrations.config import ProvinceConfig
from onestop.integrations.models import ProvincePush
from onestop.integrations.status import provincial_status, status_block
from onestop.queueing.errors import DomainError, NotFound
from onestop.queueing.models import Ticket

MESSAGES.update({
    "invalid_provincial_code": _l("Mã hồ sơ trên hệ thống tỉnh không đúng định dạng."),
    "provincial_code_taken": _l("Mã hồ sơ trên hệ thống tỉnh này đã gắn với một hồ sơ khác."),
    "ticket_not_at_counter": _l("Chỉ gắn mã hồ sơ của tỉnh cho số đang được phục vụ tại quầy."),
    "province_link_disabled": _l("Chưa cấu hình kết nối với hệ thống của tỉnh."),
})


def province_config() -> ProvinceConfig:
    """The settings; 404 ``province_link_disabled`` when no province is configured."""
    config = ProvinceConfig.of(current_app.config)
    if not config.enabled:
        raise DomainError("province_link_disabled", status=404)
    return config


class ProvincialCodeIn(Strict):
    code: str = Field(min_length=1, max_length=64)


class ProvincialCodeOut(BaseModel):
    ticket_id: int
    provincial_code: str
    dossiers: list[str]


@bp.post("/tickets/<int:ticket_id>/provincial-code")
@bp.input(ProvincialCodeIn, arg_name="body")
@bp.output(ProvincialCodeOut)
@bp.doc(summary="Link the ticket being served (and its dossiers) to the province's dossier code",
        responses=[400, 401, 403, 404, 409, 422])
@require_user("admin", "manager", "clerk")
def link_provincial_code(ticket_id: int, body: ProvincialCodeIn) -> dict[str, Any]:
    config = province_config()
    unit = resolve_unit()
    ticket = db.session.get(Ticket, ticket_id) if ticket_id <= MAX_ID else None
    if ticket is None or ticket.unit_id != unit.id:
        raise NotFound("ticket_not_found")
    if ticket.counter_id is None:
        raise DomainError("ticket_not_at_counter", status=409)
    counter_for_action(ticket.counter_id, unit)  # the clerk at that counter (403 otherwise)
    dossiers = engine.link_ticket(db.session(), ticket, body.code, config=config, actor=current_actor(),
                                  now=now())
    return {"ticket_id": ticket.id, "provincial_code": ticket.provincial_code,
            "dossiers": [d.code for d in dossiers]}


def push_row(push: ProvincePush, code: str) -> dict[str, Any]:
    return {"id": push.id, "dossier": code, "state": push.state, "attempts": push.attempts,
            "status": (push.payload.get("data") or [{}])[0].get("TrangThaiHoSo"),
            "created_at": push.created_at, "next_attempt_at": push.next_attempt_at,
            "last_error": push.last_error}


def latest_pushes(unit_id: int, limit: int = 50) -> list[dict[str, Any]]:
    rows = db.session.execute(
        select(ProvincePush, Dossier.code).join(Dossier, Dossier.id == ProvincePush.dossier_id)
        .where(Dossier.unit_id == unit_id).order_by(ProvincePush.id.desc()).limit(limit)).all()
    return [push_row(push, code) for push, code in rows]


@bp.get("/integrations/province")
@bp.doc(summary="Pushes to the province: counts by state and the latest 50 of this unit",
        responses=[401, 403, 404])
@require_user("admin", "manager")
def province_pushes() -> dict[str, Any]:
    province_config()
    unit = resolve_unit()
    return {"counts": outbox.counts(db.session()), "pushes": latest_pushes(unit.id)}


@bp.post("/integrations/province/retry")
@bp.doc(summary="Send the dead pushes again", responses=[401, 403, 404])
@require_user("admin")
def province_retry() -> dict[str, Any]:
    province_config()
    return {"retried": outbox.retry_dead(db.session(), now())}


# --- status reads for the kiosk and /lookup ------------------------------------------------


class ProvincialOut(BaseModel):
    code: str
    reachable: bool
    found: bool
    status_code: str | None
    state: str
    state_label: str
    received_date: str
    appointment_date: str
    procedure: str


def _block(config: ProvinceConfig, code: str, tz: Any) -> dict[str, Any]:
    block = status_block(provincial_status(config, code, tz), tz)
    block["state_label"] = gettext(block["state_label"])  # marked with N_() where defined
    return block


def linked_block(dossier: Dossier, tz: Any) -> dict[str, Any] | None:
    """The province's status of a linked dossier (None: not linked, or no province)."""
    config = ProvinceConfig.of(current_app.config)
    if not config.enabled or not dossier.provincial_code:
        return None
    return _block(config, dossier.provincial_code, tz)


def provincial_lookup(code: str, tz: Any) -> dict[str, Any] | None:
    """The public view of a code known only to the province (nothing personal), or None when
    there is no province, the code does not look provincial, or it is one of our own dossier
    codes (those need the QR key or the phone digits). 404 ``dossier_not_found`` when the
    province does not know it; "không kết nối được" (200) when it does not answer in time."""
    config = ProvinceConfig.of(current_app.config)
    code = (code or "").strip()
    if not config.enabled or len(code) > 64 or not config.valid_code(code):
        return None
    ours = db.session.scalar(select(Dossier.id).where(func.upper(Dossier.code) == code.upper()))
    if ours is not None:
        return None
    block = _block(config, code, tz)
    if block["state"] == "not_found":
        raise NotFound("dossier_not_found")
    return {"code": code, "procedure": block["procedure"], "state": block["state"],
            "state_label": block["state_label"], "received_date": block["received_date"],
            "appointment_date": block["appointment_date"], "rescheduled": False, "overdue": False,
            "missing": None, "applicant_name": "", "applicant_phone": "", "source": "province",
            "provincial": block}
