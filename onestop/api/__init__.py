"""The JSON API under /api/v1 (APIFlask + Pydantic), one module per resource."""

from __future__ import annotations

from typing import Any

from apiflask import APIBlueprint
from flask import request

from onestop.accounts.auth import bearer_token
from onestop.extensions import csrf, db

bp = APIBlueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)

SAFE = {"GET", "HEAD", "OPTIONS"}


@bp.record_once
def _offline_docs(state: Any) -> None:
    """The docs page must load nothing from the Internet (offline office LAN, no CDN):
    APIFlask's default favicon is on apiflask.com and Swagger UI's validator badge on
    validator.swagger.io."""
    config = state.app.config
    if str(config.get("DOCS_FAVICON", "")).startswith(("http:", "https:", "//")):
        config["DOCS_FAVICON"] = "data:,"
    config["SWAGGER_UI_CONFIG"] = {"validatorUrl": "none", **(config.get("SWAGGER_UI_CONFIG") or {})}


@bp.before_request
def _csrf_for_cookie_auth() -> None:
    """Bearer calls carry no ambient credential; cookie-authenticated changes need CSRF.
    Only a bearer token skips the check: with one, the cookies are never read (see
    ``onestop.accounts.auth``); any other Authorization header leaves them in charge."""
    if request.method in SAFE or bearer_token():
        return
    if request.cookies:
        csrf.protect()


@bp.after_request
def _commit(response: Any) -> Any:
    """The one transaction boundary of an API request: commit what succeeded."""
    if response.status_code < 400:
        db.session.commit()
    else:
        db.session.rollback()
    return response


from onestop.api import (  # noqa: E402,F401
    audit,
    auth,
    counters,
    dashboard,
    devices,
    display,
    dossier_docs,
    dossiers,
    lookup,
    printing,
    privacy,
    procedures,
    queue,
    ratings,
    reports,
    services,
    tickets,
    webhooks,
)
