"""Flask extensions, created unbound; ``create_app`` binds them with ``init_app``."""

from flask import current_app, request, session
from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_qualified_name, get_remote_address
from flask_login import LoginManager
from flask_socketio import SocketIO
from flask_wtf import CSRFProtect

from onestop.db import Database


class _LoginManager(LoginManager):
    """Flask-Login, without its session check on requests that have no session.

    The library first hashes the client's address and agent (sha512) on every request, then
    compares it only when the session holds something; an API call with a bearer token (every
    kiosk ticket, every counter action) has an empty session."""

    def _session_protection_failed(self) -> bool:
        if not session:
            return False
        return bool(super()._session_protection_failed())


db = Database()
socketio = SocketIO()
login = _LoginManager()
csrf = CSRFProtect()
limiter = Limiter(key_func=get_remote_address, default_limits=[])
babel = Babel()


# Limits some routes declare (``@limiter.limit``); none by default. Default or application-wide
# limits, were they ever configured, apply to every route: then nothing is skipped.
_GLOBAL_LIMITS = ("RATELIMIT_DEFAULT", "RATELIMIT_APPLICATION", "RATELIMIT_META")


@limiter.request_filter
def _no_limit_declared() -> bool:
    """Skip Flask-Limiter for routes that declare no limit (every counter action, display
    and dashboard call): it would otherwise resolve the route's limits on every request,
    only to find none (~40 us of each call-next). A route counts as limited exactly as
    Flask-Limiter itself tells (its decorators mark the view by its qualified name)."""
    config = current_app.config
    if any(config.get(key) for key in _GLOBAL_LIMITS):
        return False
    endpoint = request.endpoint or ""
    known: dict[str, bool] = current_app.extensions.setdefault("onestop_unlimited", {})
    unlimited = known.get(endpoint)
    if unlimited is None:
        view = current_app.view_functions.get(endpoint)
        marked = getattr(limiter, "_marked_for_limiting", None)
        unlimited = known[endpoint] = bool(
            view is not None and marked is not None
            and get_qualified_name(view) not in marked
            and not limiter.limit_manager.has_hints(endpoint))
    return unlimited
