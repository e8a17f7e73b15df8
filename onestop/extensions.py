"""Flask extensions, created unbound; ``create_app`` binds them with ``init_app``."""

from flask import session
from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
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
