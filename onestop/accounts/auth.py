"""Who is calling: users (login session or bearer token) and paired devices (token).

A bearer token is looked up among users' API tokens first, then among device tokens.
Kiosk and display pages carry the device token in the ``onestop_device`` cookie.
"""

from __future__ import annotations

import datetime as dt
import functools
import hmac
from collections.abc import Callable
from typing import Any, TypeVar, cast
from zoneinfo import ZoneInfo

from flask import Flask, current_app, request
from flask_babel import gettext, lazy_gettext
from flask_login import current_user
from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session, contains_eager

from onestop.accounts import lockout, throttle
from onestop.accounts.identity import (  # noqa: F401 (re-exported: the web layer's name for them)
    DEVICE_COOKIE,
    DEVICE_TOKEN_PREFIX,
    bearer_token,
    current_device,
    device_for_token,
)
from onestop.accounts.models import ApiToken, User, hash_token, new_token
from onestop.audit import engine as audit
from onestop.db import utcnow
from onestop.extensions import db, login
from onestop.queueing.engine import Actor
from onestop.queueing.errors import DomainError

USER_TOKEN_PREFIX = "ost_"  # issued by issue_api_token
F = TypeVar("F", bound=Callable[..., Any])


def issue_api_token(session: Session, user: User, now: dt.datetime, ttl_hours: int) -> str:
    token = new_token("ost")
    session.add(ApiToken(user_id=user.id, token_hash=hash_token(token),
                         created_at=now, expires_at=now + dt.timedelta(hours=ttl_hours)))
    return token


def user_for_token(session: Session, token: str, now: dt.datetime) -> User | None:
    if not token.startswith(USER_TOKEN_PREFIX):  # a device token: no need to ask the database
        return None
    row = session.scalar(_TOKEN_BY_HASH, {"h": hash_token(token)})
    if row is None or row.revoked_at is not None or (row.expires_at and row.expires_at < now):
        return None
    return row.user if row.user.active else None


# Asked on nearly every request: built once. The caller's unit comes in the same statement
# (``resolve_unit`` asks for it next), held by the user or device so that it stays in the
# session (the identity map alone keeps rows only weakly).
_TOKEN_BY_HASH = (select(ApiToken).join(ApiToken.user).outerjoin(User.unit)
                  .options(contains_eager(ApiToken.user).contains_eager(User.unit))
                  .where(ApiToken.token_hash == bindparam("h")))
_USER_BY_ID = (select(User).outerjoin(User.unit).options(contains_eager(User.unit))
               .where(User.id == bindparam("id")))


def current_actor() -> Actor:
    user = current_user._get_current_object()
    user_id = int(user.id) if user.is_authenticated else None
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
        user_pk, _dot, stamp = user_id.partition(".")
        if not user_pk.isdigit():
            return None
        user = db.session.scalar(_USER_BY_ID, {"id": int(user_pk)})
        if user is None or not user.active or not hmac.compare_digest(stamp, user.session_stamp()):
            return None  # disabled, or the password changed since this session signed in
        return user

    @login.request_loader
    def _load_from_request(_request: Any) -> User | None:
        token = bearer_token()
        return user_for_token(db.session(), token, utcnow()) if token else None

    login.login_view = "web.login"
    # Flask-Login's own sentence is English; ours is said on the login page itself (which
    # shows it, so it is not left over for the page after a successful sign-in)
    login.login_message = lazy_gettext("Vui lòng đăng nhập để mở trang này.")
    login.login_message_category = "info"
    login.localize_callback = str  # the lazy text in the request's language, then stored


def lock_message(until: dt.datetime, timezone: str = "Asia/Ho_Chi_Minh") -> str:
    """The lockout sentence with the local time the lock ends."""
    local = until.astimezone(ZoneInfo(timezone))
    return gettext("Tài khoản tạm thời bị khoá vì nhập sai mật khẩu nhiều lần liên tiếp. "
                   "Vui lòng thử lại sau %(time)s ngày %(date)s.",
                   time=f"{local:%H:%M}", date=f"{local:%d/%m/%Y}")


def sign_in(session: Session, username: str, password: str, when: dt.datetime) -> User:
    """Password check with lockout (onestop/accounts/lockout.py), for the API and the login
    page. The failure count is committed even though the request is refused; a success and
    a lock are written to the audit log."""
    config = current_app.config
    address = request.remote_addr or ""
    if config.get("RATELIMIT_ENABLED", True):  # counted in the database: a restart keeps it
        throttle.spend(session, "login", address, str(config["LOGIN_RATE_LIMIT"]), when)
    try:
        user = lockout.authenticate(
            session, username, password, address=address, now=when,
            max_attempts=int(config["LOGIN_LOCKOUT_ATTEMPTS"]),
            lock_minutes=int(config["LOGIN_LOCKOUT_MINUTES"]))
    except DomainError as error:
        locked = error.details.pop("user", None)
        if error.code == "account_locked":
            if error.details.pop("just_locked", False) and isinstance(locked, User):
                audit.record(session, action="lock", entity="user", entity_id=locked.id,
                             unit_id=locked.unit_id, actor_name=locked.username,
                             ip=request.remote_addr or "", at=when)
            until = dt.datetime.fromisoformat(str(error.details["until"]))
            error.details["message"] = lock_message(until)
        session.commit()
        raise
    audit.record(session, action="login", entity="user", entity_id=user.id, unit_id=user.unit_id,
                 actor_user_id=user.id, actor_name=user.full_name or user.username,
                 ip=request.remote_addr or "", at=when)
    return user
