"""POST /auth/token (username + password -> bearer token), /auth/me, /auth/revoke."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import current_app
from flask_login import current_user
from sqlalchemy import select

from onestop import signals
from onestop.accounts.auth import bearer_token, issue_api_token, require_user, sign_in
from onestop.accounts.models import ApiToken, User, hash_token
from onestop.api import bp
from onestop.api.common import now
from onestop.api.schemas import OkOut, TokenIn, TokenOut, UserOut
from onestop.extensions import db, limiter
from onestop.queueing.state import iso


def user_out(user: User) -> dict[str, Any]:
    return {"id": user.id, "username": user.username, "full_name": user.full_name,
            "role": user.role, "unit_id": user.unit_id}


def _login_limit() -> str:
    return str(current_app.config["LOGIN_RATE_LIMIT"])


@bp.post("/auth/token")
@limiter.limit(_login_limit)
@bp.input(TokenIn, arg_name="body")
@bp.output(TokenOut, status_code=201)
@bp.doc(summary="Exchange a username and password for a bearer token",
        description="401 invalid_credentials (unknown user and wrong password alike); 423 "
        "account_locked with `until` after LOGIN_LOCKOUT_ATTEMPTS wrong passwords in a row.",
        responses=[400, 401, 422, 423, 429])
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
            # the /counter sockets opened with this token close too
            signals.user_disowned.send(db.session(), user_id=row.user_id, token_hash=row.token_hash)
    return {"ok": True}
