"""Shared pages: the home page linking every surface, health, sign in and out."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from flask_login import current_user, login_user, logout_user
from sqlalchemy import select, text

from onestop.accounts.models import User
from onestop.extensions import db, limiter

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
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return url_for("web.home")


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: str(current_app.config["LOGIN_RATE_LIMIT"]), methods=["POST"])
def login() -> Any:
    error = None
    if request.method == "POST":
        username = request.form.get("username", "")[:64]
        user = db.session.scalar(select(User).where(User.username == username))
        if user and user.active and user.check_password(request.form.get("password", "")[:200]):
            login_user(user)
            return redirect(_safe_next(request.args.get("next")))
        error = True
    return render_template("login.html", error=error), (401 if error else 200)


@bp.post("/logout")
def logout() -> Any:
    if current_user.is_authenticated:
        logout_user()
    return redirect(url_for("web.home"))
