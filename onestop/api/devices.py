"""POST /devices/pair: a kiosk or display browser trades its pairing code for a token."""

from __future__ import annotations

from typing import Any

from flask import current_app, jsonify
from flask_login import current_user
from pydantic import BaseModel, Field

from onestop.accounts import engine as accounts
from onestop.accounts.auth import DEVICE_COOKIE, current_device, require_user
from onestop.api import bp
from onestop.api.common import now
from onestop.api.schemas import Strict
from onestop.extensions import db, limiter


class PairIn(Strict):
    code: str = Field(min_length=4, max_length=16)


@bp.post("/devices/pair")
@limiter.limit("20 per minute")
@bp.input(PairIn, arg_name="body")
@bp.doc(summary="Pair this browser as a device; the token is also set in a cookie",
        responses=[400, 422, 429])
def pair(body: PairIn) -> Any:
    device, token = accounts.pair_device(db.session(), body.code, now=now())
    response = jsonify(token=token, device={"id": device.id, "kind": device.kind,
                                            "name": device.name, "unit_id": device.unit_id,
                                            "counter_id": device.counter_id})
    response.set_cookie(DEVICE_COOKIE, token, max_age=10 * 365 * 86400, httponly=True,
                        samesite="Lax", secure=current_app.config["PUBLIC_BASE_URL"].startswith("https"))
    return response


class HeartbeatOut(BaseModel):
    id: int
    kind: str
    last_seen_at: str | None
    every_seconds: int


@bp.post("/devices/heartbeat")
@limiter.limit("30 per minute")
@bp.output(HeartbeatOut)
@bp.doc(summary="A paired device says it is alive (its pages do, once a minute)",
        description="The manager's dashboard raises an alarm for a device of the kinds in the "
        "unit's `device_heartbeat_kinds` silent for more than `device_stale_minutes`.",
        responses=[401, 403, 429])
def device_heartbeat() -> Any:
    from onestop.queueing.errors import DomainError
    from onestop.queueing.state import iso

    device = current_device()
    if device is None:
        if current_user.is_authenticated:  # a person, not a paired screen
            raise DomainError("forbidden", status=403)
        raise DomainError("unauthorized", status=401)
    accounts.touch_device(device, now())
    return {"id": device.id, "kind": device.kind, "last_seen_at": iso(device.last_seen_at),
            "every_seconds": accounts.HEARTBEAT_SECONDS}


# -- admin: revoke a device, or rotate its token (docs/backoffice.md) -----------------------


class DeviceRotatedOut(BaseModel):
    id: int
    token: str
    pairing_code: str
    pairing_expires_at: str | None


class DeviceRevokedOut(BaseModel):
    id: int
    revoked_at: str | None


def _admin_device(device_id: int) -> Any:
    from onestop.accounts.models import Device
    from onestop.api.common import resolve_unit
    from onestop.queueing.errors import NotFound

    device = db.session.get(Device, device_id) if 0 < device_id < 2**31 else None
    if device is None or device.unit_id != resolve_unit().id:
        raise NotFound("device_not_found")
    return device


@bp.post("/devices/<int:device_id>/revoke")
@require_user("admin")
@bp.output(DeviceRevokedOut)
@bp.doc(summary="Revoke a device: its token and pairing code stop working (admin)",
        responses=[401, 403, 404])
def device_revoke(device_id: int) -> Any:
    from onestop.audit.engine import record_change, snapshot
    from onestop.queueing.state import iso

    device = _admin_device(device_id)
    before = snapshot(device)
    accounts.revoke_device(db.session(), device, now=now())
    record_change(db.session(), "revoke", "device", device.id, before, snapshot(device),
                  unit_id=device.unit_id)
    return {"id": device.id, "revoked_at": iso(device.revoked_at)}


@bp.post("/devices/<int:device_id>/rotate")
@require_user("admin")
@bp.output(DeviceRotatedOut)
@bp.doc(summary="A new token and a new one-time pairing code, shown once; the old token "
        "stops working (admin)", description="409 device_revoked.", responses=[401, 403, 404, 409])
def device_rotate(device_id: int) -> Any:
    from onestop.audit.engine import record_request
    from onestop.queueing.state import iso

    device = _admin_device(device_id)
    token, code = accounts.rotate_device_token(db.session(), device, now=now())
    record_request(db.session(), action="rotate_token", entity="device", entity_id=device.id,
                   before=None, after={"token": "(mới / new)", "pairing_code": "(mới / new)"},
                   unit_id=device.unit_id)
    return {"id": device.id, "token": token, "pairing_code": code,
            "pairing_expires_at": iso(device.pairing_expires_at)}
