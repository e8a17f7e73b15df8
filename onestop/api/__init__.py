"""The JSON API under /api/v1 (APIFlask + Pydantic), one module per resource."""

from __future__ import annotations

from typing import Any

from apiflask import APIBlueprint
from flask import current_app, request

from onestop.accounts.auth import bearer_token
from onestop.extensions import csrf, db
from onestop.queueing.errors import DomainError

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


def accepts_multipart(view: Any) -> Any:
    """Mark a view that takes ``multipart/form-data`` (a file upload) besides JSON."""
    view.accepts_multipart = True
    return view


@bp.before_request
def _json_bodies_only() -> None:
    """A body the API reads is JSON, said so by its Content-Type (415 otherwise). A page of
    another site can send a form (urlencoded, multipart, or text/plain shaped like JSON)
    without any preflight, and a browser with no cookie yet has no CSRF check to fail:
    ``POST /devices/pair`` would pair it. Only JSON needs a CORS preflight, which we never
    grant. A call without a body (call-next, the heartbeat) needs no Content-Type."""
    if request.method in SAFE or request.is_json:
        return
    view = current_app.view_functions.get(request.endpoint or "")
    if request.mimetype == "multipart/form-data" and getattr(view, "accepts_multipart", False):
        return
    if request.mimetype or request.content_length or request.headers.get("Transfer-Encoding"):
        raise DomainError("unsupported_media_type", status=415)


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
def _not_cached(response: Any) -> Any:
    """API answers are live and many carry personal data (a dossier, a lookup): never kept by
    the browser or a proxy, unless the view chose its own caching."""
    response.headers.setdefault("Cache-Control", "no-store")
    return response


@bp.after_request
def _commit(response: Any) -> Any:
    """The one transaction boundary of an API request: commit what succeeded."""
    if response.status_code < 400:
        db.session.commit()
    else:
        db.session.rollback()
    return response


from onestop.api import (  # noqa: E402,F401
    applicants,
    audit,
    auth,
    bookings,
    counters,
    dashboard,
    desk,
    devices,
    display,
    dossier_docs,
    dossiers,
    integrations,
    lookup,
    media,
    notifications,
    overview,
    pickup,
    printing,
    privacy,
    procedures,
    queue,
    ratings,
    reports,
    services,
    ticket_cancel,
    tickets,
    webhooks,
)
