"""Who is calling: users (login session or bearer token) and paired devices (token).

A bearer token is looked up among users' API tokens first, then among device tokens.
Kiosk and display pages carry the device token in the ``onestop_device`` cookie.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from typing import Any, TypeVar, cast

from flask import Flask, g, request
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import Session

from onestop.accounts.models import ApiToken, Device, User, hash_token, new_token
from onestop.db import utcnow
from onestop.extensions import db, login
from onestop.queueing.engine import Actor
from onestop.queueing.errors import DomainError

DEVICE_COOKIE = "onestop_device"
USER_TOKEN_PREFIX = "ost_"  # issued by issue_api_token
DEVICE_TOKEN_PREFIX = "osd_"  # issued by accounts.engine.add_device / pair_device
F = TypeVar("F", bound=Callable[..., Any])


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    if header[:7].lower() == "bearer ":
        return header[7:].strip() or None
    return None


def issue_api_token(session: Session, user: User, now: dt.datetime, ttl_hours: int) -> str:
    token = new_token("ost")
    session.add(ApiToken(user_id=user.id, token_hash=hash_token(token),
                         created_at=now, expires_at=now + dt.timedelta(hours=ttl_hours)))
    return token


def user_for_token(session: Session, token: str, now: dt.datetime) -> User | None:
    if not token.startswith(USER_TOKEN_PREFIX):  # a device token: no need to ask the database
        return None
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(token)))
    if row is None or row.revoked_at is not None or (row.expires_at and row.expires_at < now):
        return None
    return row.user if row.user.active else None


def device_for_token(session: Session, token: str) -> Device | None:
    if not token.startswith(DEVICE_TOKEN_PREFIX):
        return None
    device = session.scalar(select(Device).where(Device.token_hash == hash_token(token)))
    if device is None or device.revoked_at is not None:
        return None
    return device


def current_device() -> Device | None:
    """The paired device making this request (bearer token or device cookie), if any."""
    if "device" not in g:
        token = bearer_token() or request.cookies.get(DEVICE_COOKIE)
        g.device = device_for_token(db.session(), token) if token else None
    return cast(Device | None, g.device)


def current_actor() -> Actor:
    user_id = int(current_user.id) if current_user.is_authenticated else None
    device = current_device() if user_id is None else None
    return Actor(user_id=user_id, device_id=device.id if device else None)


def require_user(*roles: str) -> Callable[[F], F]:
    """Refuse with 401 unless a user is signed in, and 403 unless it has one of ``roles``."""

    def decorator(view: F) -> F:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                raise DomainError("unauthorized", status=401)
            if roles and current_user.role not in roles:
                raise DomainError("forbidden", status=403)
            return view(*args, **kwargs)

        return cast(F, wrapper)

    return decorator


def init_app(app: Flask) -> None:
    @login.user_loader
    def _load_user(user_id: str) -> User | None:
        token = bearer_token()
        if token:
            # An explicit bearer token decides who calls, never the ambient session cookie:
            # bearer calls skip the CSRF check, so the cookie's user must not ride along.
            return user_for_token(db.session(), token, utcnow())
        user = db.session.get(User, int(user_id))
        return user if user and user.active else None

    @login.request_loader
    def _load_from_request(_request: Any) -> User | None:
        token = bearer_token()
        return user_for_token(db.session(), token, utcnow()) if token else None

    login.login_view = "web.login"
