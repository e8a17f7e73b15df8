"""Which paired device is calling: its bearer token or its page cookie.

Below both ``accounts.auth`` (sign-in, who may act) and ``audit.engine`` (which names the
actor of an entry): the audit trail needs to know the device, and signing in writes audit
entries, so this piece lives under both of them rather than in ``auth``.
"""

from __future__ import annotations

from typing import cast

from flask import g, request
from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session, contains_eager

from onestop.accounts.models import Device, hash_token
from onestop.extensions import db

DEVICE_COOKIE = "onestop_device"
DEVICE_TOKEN_PREFIX = "osd_"  # issued by accounts.engine.add_device / pair_device

# asked on nearly every device request: built once (the unit comes in the same statement)
_DEVICE_BY_HASH = (select(Device).join(Device.unit).options(contains_eager(Device.unit))
                   .where(Device.token_hash == bindparam("h")))


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    if header[:7].lower() == "bearer ":
        return header[7:].strip() or None
    return None


def device_for_token(session: Session, token: str) -> Device | None:
    if not token.startswith(DEVICE_TOKEN_PREFIX):
        return None
    device = session.scalar(_DEVICE_BY_HASH, {"h": hash_token(token)})
    if device is None or device.revoked_at is not None:
        return None
    return device


def current_device() -> Device | None:
    """The paired device making this request (bearer token or device cookie), if any."""
    if "device" not in g:
        token = bearer_token() or request.cookies.get(DEVICE_COOKIE)
        g.device = device_for_token(db.session(), token) if token else None
    return cast(Device | None, g.device)
