"""POST /auth/token (username + password -> bearer token), /auth/me, /auth/revoke."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app, request
from flask_babel import gettext
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import Session

from onestop.accounts import lockout
from onestop.accounts.auth import bearer_token, issue_api_token, require_user
from onestop.accounts.models import ApiToken, User, hash_token
from onestop.api import bp
from onestop.api.common import now
from onestop.api.schemas import OkOut, TokenIn, TokenOut, UserOut
from onestop.audit import engine as audit
from onestop.extensions import db, limiter
from onestop.queueing.errors import DomainError
from onestop.queueing.state import iso


def user_out(user: User) -> dict[str, Any]:
    return {"id": user.id, "username": user.username, "full_name": user.full_name,
            "role": user.role, "unit_id": user.unit_id}


def _login_limit() -> str:
    return str(current_app.config["LOGIN_RATE_LIMIT"])


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
    try:
        user = lockout.authenticate(
            session, username, password, now=when,
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


@bp.post("/auth/token")
@limiter.limit(_login_limit)
@bp.input(TokenIn, arg_name="body")
@bp.output(TokenOut, status_code=201)
@bp.doc(summary="Exchange a username and password for a bearer token",
        description="401 invalid_credentials (unknown user and wrong password alike); 423 "
        "account_locked with `until` after LOGIN_LOCKOUT_ATTEMPTS wrong passwords in a row.",
        responses=[401, 422, 423, 429])
def create_token(body: TokenIn) -> dict[str, Any]:
    session = db.session()
    when = now()
    user = sign_in(session, body.username, body.password, when)
    hours = int(current_app.config["TOKEN_TTL_HOURS"])
    token = issue_api_token(session, user, when, hours)
    return {"token": token, "expires_at": iso(when + dt.timedelta(hours=hours)),
            "user": user_out(user)}


@bp.get("/auth/me")
@bp.output(UserOut)
@bp.doc(summary="The signed-in user", responses=[401])
@require_user()
def me() -> dict[str, Any]:
    return user_out(current_user)


@bp.post("/auth/revoke")
@bp.output(OkOut)
@bp.doc(summary="Revoke the bearer token used for this call", responses=[401])
@require_user()
def revoke() -> dict[str, Any]:
    token = bearer_token()
    if token:
        row = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(token)))
        if row is not None:
            row.revoked_at = now()
    return {"ok": True}
