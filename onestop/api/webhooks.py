"""Outgoing webhooks (admin): subscribe a URL to engine events, read the delivery log, retry.

``POST /webhooks`` -> 201 with the ``secret`` (shown this once: keep it, it verifies the
``X-Onestop-Signature`` of every delivery; the recipe is in ``onestop.webhooks.delivery``).
Targets: http(s) only; private LAN addresses are allowed (the provincial system lives
there), link-local and the server's own loopback are not (``onestop.webhooks.netguard``).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from pydantic import BaseModel, Field
from sqlalchemy import select

from onestop.accounts.auth import require_user
from onestop.api import bp
from onestop.api.common import now, resolve_unit
from onestop.api.schemas import Strict
from onestop.audit import engine as audit
from onestop.extensions import db
from onestop.queueing.state import iso
from onestop.webhooks import engine
from onestop.webhooks.config import WebhookConfig
from onestop.webhooks.models import EVENTS, MAX_URL, Webhook, WebhookDelivery

ADMIN = ("admin",)
DeliveryState = Literal["pending", "delivered", "failed", "dead"]

# what the admin reads next to the technical ``last_error`` of a delivery
ERROR_LABELS: dict[str, Any] = {
    "timeout": _l("Hệ thống nhận không phản hồi kịp thời."),
    "connection_refused": _l("Hệ thống nhận từ chối kết nối."),
    "connection_error": _l("Không kết nối được tới hệ thống nhận."),
    "dns_error": _l("Không phân giải được tên máy chủ của hệ thống nhận."),
    "tls_error": _l("Lỗi chứng chỉ hoặc kết nối bảo mật (TLS)."),
    "bad_response": _l("Hệ thống nhận trả lời không đúng giao thức HTTP."),
    "blocked_address": _l("Địa chỉ đích không được phép (link-local hoặc loopback)."),
    "webhook_inactive": _l("Webhook đã bị vô hiệu hoá; lần gửi bị huỷ."),
    "http": _l("Hệ thống nhận trả về mã lỗi HTTP."),
}
STATE_LABELS: dict[str, Any] = {
    "pending": _l("Chờ gửi"), "delivered": _l("Đã gửi"), "failed": _l("Gửi lỗi, sẽ thử lại"),
    "dead": _l("Đã ngừng gửi"),
}


class WebhookIn(Strict):
    url: str = Field(min_length=8, max_length=MAX_URL, description="http:// or https://")
    events: list[Annotated[str, Field(max_length=64)]] = Field(min_length=1, max_length=len(EVENTS),
                                                               description=", ".join(EVENTS))


class DeliveryQuery(Strict):
    state: DeliveryState | None = None
    limit: int = Field(default=50, ge=1, le=200)
    before_id: int | None = Field(default=None, ge=1, le=2**31 - 1)


class WebhookOut(BaseModel):
    id: int
    url: str
    events: list[str]
    active: bool
    created_at: str
    deactivated_at: str | None
    secret_hint: str
    deliveries: dict[str, int]


class WebhookCreatedOut(WebhookOut):
    secret: str


class WebhookList(BaseModel):
    webhooks: list[WebhookOut]
    events: list[str]


class DeliveryOut(BaseModel):
    id: int
    webhook_id: int
    event: str
    state: str
    state_label: str
    attempts: int
    last_status_code: int | None
    last_error: str
    error_code: str | None
    error_label: str | None
    created_at: str
    last_attempt_at: str | None
    next_attempt_at: str | None
    delivered_at: str | None
    payload: dict[str, Any]


class DeliveryList(BaseModel):
    deliveries: list[DeliveryOut]
    next_before_id: int | None


def _webhook_out(webhook: Webhook, counts: dict[str, int]) -> dict[str, Any]:
    return {"id": webhook.id, "url": webhook.url, "events": list(webhook.events or []),
            "active": webhook.active, "created_at": iso(webhook.created_at),
            "deactivated_at": iso(webhook.deactivated_at),
            "secret_hint": "…" + webhook.secret[-4:], "deliveries": counts}


def _error_code(error: str) -> str | None:
    if not error:
        return None
    head = error.split(":", 1)[0].strip()
    return "http" if head.startswith("http_") else head


def _delivery_out(d: WebhookDelivery) -> dict[str, Any]:
    code = _error_code(d.last_error)
    label = ERROR_LABELS.get(code or "")
    return {"id": d.id, "webhook_id": d.webhook_id, "event": d.event, "state": d.state,
            "state_label": str(STATE_LABELS.get(d.state, d.state)), "attempts": d.attempts,
            "last_status_code": d.last_status_code, "last_error": d.last_error, "error_code": code,
            "error_label": str(label) if label is not None else None,
            "created_at": iso(d.created_at), "last_attempt_at": iso(d.last_attempt_at),
            "next_attempt_at": iso(d.next_attempt_at), "delivered_at": iso(d.delivered_at),
            "payload": dict(d.payload or {})}


def _webhook(webhook_id: int) -> Webhook:
    return engine.find_webhook(db.session(), webhook_id, resolve_unit().id)


@bp.get("/webhooks")
@require_user(*ADMIN)
@bp.output(WebhookList)
@bp.doc(summary="The unit's webhooks (secrets are never shown again) and the events on offer",
        responses=[401, 403])
def list_webhooks() -> dict[str, Any]:
    session = db.session()
    hooks = list(session.scalars(select(Webhook).where(Webhook.unit_id == resolve_unit().id)
                                 .order_by(Webhook.id)))
    counts = engine.delivery_counts(session, [h.id for h in hooks])
    return {"webhooks": [_webhook_out(h, counts[h.id]) for h in hooks], "events": list(EVENTS)}


@bp.post("/webhooks")
@require_user(*ADMIN)
@bp.input(WebhookIn, arg_name="body")
@bp.output(WebhookCreatedOut, status_code=201)
@bp.doc(summary="Subscribe a URL to events; the answer holds the signing secret, shown only once",
        description="422 invalid_webhook_url (reason), invalid_webhook_events (unknown); "
        "409 webhook_limit_reached.", responses=[400, 401, 403, 409, 422])
def create_webhook(body: WebhookIn) -> dict[str, Any]:
    allow_loopback = WebhookConfig.of(current_app.config).allow_loopback
    webhook = engine.create_webhook(db.session(), resolve_unit(), body.url, body.events, now=now(),
                                    allow_loopback=allow_loopback, created_by_id=int(current_user.id))
    audit.record_change(db.session(), "create", "webhook", webhook.id, None, audit.snapshot(webhook),
                        unit_id=webhook.unit_id)
    return {**_webhook_out(webhook, {}), "secret": webhook.secret}


@bp.delete("/webhooks/<int:webhook_id>")
@require_user(*ADMIN)
@bp.output(WebhookOut)
@bp.doc(summary="Deactivate a webhook (its log stays; waiting deliveries are dropped)",
        responses=[401, 403, 404])
def delete_webhook(webhook_id: int) -> dict[str, Any]:
    session = db.session()
    webhook = _webhook(webhook_id)
    before = audit.snapshot(webhook)
    engine.deactivate_webhook(session, webhook, now=now())
    audit.record_change(session, "deactivate", "webhook", webhook.id, before, audit.snapshot(webhook),
                        unit_id=webhook.unit_id)
    return _webhook_out(webhook, engine.delivery_counts(session, [webhook.id])[webhook.id])


@bp.get("/webhooks/<int:webhook_id>/deliveries")
@require_user(*ADMIN)
@bp.input(DeliveryQuery, location="query", arg_name="query")
@bp.output(DeliveryList)
@bp.doc(summary="The delivery log of a webhook, newest first (page back with before_id)",
        responses=[401, 403, 404])
def list_deliveries(webhook_id: int, query: DeliveryQuery) -> dict[str, Any]:
    rows = engine.deliveries(db.session(), _webhook(webhook_id), state=query.state, limit=query.limit,
                             before_id=query.before_id)
    more = len(rows) == query.limit
    return {"deliveries": [_delivery_out(d) for d in rows], "next_before_id": rows[-1].id if more else None}


@bp.post("/webhooks/<int:webhook_id>/deliveries/<int:delivery_id>/retry")
@require_user(*ADMIN)
@bp.output(DeliveryOut, status_code=202)
@bp.doc(summary="Send a delivery again now (dead, failed, or even delivered)",
        description="409 webhook_inactive.", responses=[401, 403, 404, 409])
def retry_delivery(webhook_id: int, delivery_id: int) -> dict[str, Any]:
    session = db.session()
    webhook = _webhook(webhook_id)
    delivery = engine.find_delivery(session, webhook, delivery_id)
    return _delivery_out(engine.retry_delivery(session, webhook, delivery, now=now()))
