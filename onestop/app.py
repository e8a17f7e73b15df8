"""The application factory. Nothing happens at import time."""

from __future__ import annotations

import logging
from typing import Any

from apiflask import APIFlask
from flask import request

from onestop.config import load_settings
from onestop.extensions import babel, csrf, db, limiter, login, socketio

log = logging.getLogger(__name__)
LANGUAGES = ("vi", "en")


def select_locale() -> str:
    """``?lang=`` then the ``lang`` cookie, then Vietnamese (the citizen's language first)."""
    lang = request.args.get("lang") or request.cookies.get("lang")
    return lang if lang in LANGUAGES else "vi"


def create_app(config: dict[str, Any] | None = None) -> APIFlask:
    settings = load_settings(config)
    app = APIFlask(
        "onestop", title="onestop API", version="v1",
        spec_path="/api/v1/openapi.json", docs_path="/api/v1/docs",
    )
    app.config.update(settings)
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        RATELIMIT_STORAGE_URI=settings["RATELIMIT_STORAGE_URI"],
        WTF_CSRF_TIME_LIMIT=None,
        BABEL_DEFAULT_LOCALE="vi",
        BABEL_DEFAULT_TIMEZONE="Asia/Ho_Chi_Minh",
        VALIDATION_ERROR_STATUS_CODE=422,
        SWAGGER_UI_CSS="/static/vendor/swagger-ui/swagger-ui.css",
        SWAGGER_UI_BUNDLE_JS="/static/vendor/swagger-ui/swagger-ui-bundle.js",
        SWAGGER_UI_STANDALONE_PRESET_JS="/static/vendor/swagger-ui/swagger-ui-standalone-preset.js",
        INFO={"description": "onestop queue-ticketing API. Errors: "
              '{"error": {"code": "...", "message": "..."}}.'},
    )
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.json.sort_keys = False  # type: ignore[attr-defined]
    db.init_app(app)
    login.init_app(app)
    csrf.init_app(app)
    limiter.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    app.jinja_env.globals["get_locale"] = select_locale
    app.jinja_env.globals["paired_device"] = _paired_device
    from onestop.realtime.fanout import DirectSend
    from onestop.realtime.guard import SocketGuard
    from onestop.realtime.instances import client_manager

    socketio.init_app(
        app,
        **client_manager(settings.get("MESSAGE_QUEUE_URL") or None,
                         settings["MESSAGE_QUEUE_CHANNEL"]),
        async_mode=settings.get("ASYNC_MODE") or None,
        cors_allowed_origins=[],
    )

    DirectSend.install(socketio.server.eio)  # one frame to many displays (gevent serving)
    SocketGuard.install(socketio.server, float(settings["SOCKET_PACKET_BUDGET"]))  # floods
    _register(app)
    app.after_request(_remember_lang)
    return app


def _remember_lang(response: Any) -> Any:
    """A page opened with ``?lang=`` (the one-tap switch of the phone pages) keeps that
    language on the next pages of the flow: a cookie for the browser's session. The kiosk
    sets its own and takes Vietnamese back on idle (kiosk.js)."""
    asked = request.args.get("lang")
    if asked in LANGUAGES and response.mimetype == "text/html" and request.cookies.get("lang") != asked:
        response.set_cookie("lang", asked, path="/", samesite="Lax")
    return response


def _register(app: APIFlask) -> None:
    from counter import bp as counter_bp
    from kiosk import bp as kiosk_bp
    from onestop import lookup_pages, ops, security, web
    from onestop.accounts import auth
    from onestop.api import bp as api_bp
    from onestop.api import errors
    from onestop.backoffice import booking_desk
    from onestop.backoffice import bp as backoffice_bp
    from onestop.backoffice import notify as admin_notify
    from onestop.backoffice import printers as admin_printers
    from onestop.backoffice import province as admin_province
    from onestop.integrations import worker as province
    from onestop.manager import bp as manager_bp
    from onestop.manager import overview as manager_overview
    from onestop.media.views import bp as media_bp
    from onestop.notify import worker as notify
    from onestop.printing import dispatch as printing
    from onestop.ratings import realtime as ratings_realtime
    from onestop.realtime import desk as desk_realtime
    from onestop.realtime import hub
    from onestop.webhooks import worker as webhooks
    from queue_display import bp as display_bp

    auth.init_app(app)
    errors.init_app(app)
    security.init_app(app)  # CSP and other headers, cookie flags, body limits
    app.register_blueprint(api_bp)
    app.register_blueprint(web.bp)
    app.register_blueprint(lookup_pages.bp)
    app.register_blueprint(kiosk_bp)
    app.register_blueprint(display_bp)
    app.register_blueprint(counter_bp)
    app.register_blueprint(admin_printers.bp)
    app.register_blueprint(admin_province.bp)
    app.register_blueprint(admin_notify.bp)
    app.register_blueprint(booking_desk.bp)
    app.register_blueprint(backoffice_bp)
    app.register_blueprint(manager_bp)
    app.register_blueprint(media_bp)
    hub.init_app(app)
    desk_realtime.init_app(app)  # the manager's hall message, the wait alerts (issue 22)
    manager_overview.init_app(app)  # /overview: the supervisors' live tiles (issue 22)
    printing.init_app(app)
    ratings_realtime.init_app(app)  # rating.requested / rating.created, webhook
    webhooks.init_app(app)
    province.init_app(app)  # link to the province's dossier system (onestop/integrations)
    notify.init_app(app)  # messages to citizens: SMS, Zalo ZNS, e-mail (onestop/notify)
    ops.init_app(app)  # /readyz, /metrics, request ids, JSON logs, ProxyFix (last: outermost)


def _paired_device() -> Any:
    """The device this page is shown on (its cookie), for templates: a paired screen's page
    loads the heartbeat script."""
    from flask import request

    from onestop.accounts.auth import DEVICE_COOKIE, current_device

    return current_device() if request.cookies.get(DEVICE_COOKIE) else None
