"""Shared pages: the home page linking every surface, health, sign in and out."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from flask_login import current_user, login_user, logout_user
from sqlalchemy import text

from onestop.accounts.auth import bearer_token, sign_in  # lockout and audit: as the API
from onestop.accounts.engine import end_sessions
from onestop.api.errors import MESSAGES
from onestop.db import utcnow
from onestop.extensions import db, limiter
from onestop.queueing.errors import DomainError

bp = Blueprint("web", __name__)


@bp.get("/")
def home() -> str:
    return render_template("home.html")


@bp.get("/healthz")
def healthz() -> tuple[dict[str, Any], int]:
    """200 when the database answers; 503 otherwise."""
    try:
        db.session.execute(text("SELECT 1"))
        db.session.commit()
    except Exception:  # noqa: BLE001 - any failure means "not healthy"
        current_app.logger.warning("healthz: database did not answer", exc_info=True)
        return {"status": "error", "database": "unavailable"}, 503
    return {"status": "ok"}, 200


def _safe_next(target: str | None) -> str:
    """``next=`` if it is a path on this site, else the home page. Browsers drop tabs and
    newlines from a URL and read ``\\`` as ``/``: ``/%09/evil.example`` would be
    ``//evil.example``, another site. So any control character, space or backslash refuses it."""
    if target and _local_path(target):
        return target
    return url_for("web.home")


def _local_path(target: str) -> bool:
    if "\\" in target or any(ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7F for ch in target):
        return False
    if not target.startswith("/") or target.startswith("//"):
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: str(current_app.config["LOGIN_RATE_LIMIT"]), methods=["POST"])
def login() -> Any:
    error = None
    status = 200
    if request.method == "POST":
        username = request.form.get("username", "")[:64]
        try:
            user = sign_in(db.session(), username, request.form.get("password", "")[:200], utcnow())
        except DomainError as failure:
            status = failure.status
            error = str(failure.details.get("message")
                        or MESSAGES.get(failure.code, MESSAGES["invalid_credentials"]))
        else:
            db.session.commit()
            login_user(user)
            return redirect(_safe_next(request.args.get("next")))
    return render_template("login.html", error=error), status


@bp.post("/logout")
def logout() -> Any:
    """Sign out: every copy of this user's session cookie (another tab's, another PC's, a
    copied one) stops working, not only this browser's."""
    user = current_user._get_current_object()
    if user.is_authenticated:
        if not bearer_token():  # a bearer call has no session to end (its token: /auth/revoke)
            end_sessions(db.session(), user)
            db.session.commit()
        logout_user()
    return redirect(url_for("web.home"))
