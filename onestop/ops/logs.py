"""Logs: a request id on every request, plain text or JSON lines (``ONESTOP_LOG_FORMAT=json``).

The request id comes from the ``X-Request-ID`` header when a proxy sets a sane one (nginx:
``proxy_set_header X-Request-ID $request_id``), else it is made here; it is echoed in the
response header and kept in the WSGI environ, so the access log (:data:`ACCESS_FORMAT`)
and every log line written while the request runs carry the same id.

JSON: one object per line with ``ts`` (UTC, ISO 8601), ``level``, ``logger``, ``message``,
``request_id`` (null outside a request) and ``exc`` for a traceback; gunicorn's access lines
add ``http`` (method, path, status, duration_ms, remote, forwarded_for, user_agent).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import logging.config
import re
import uuid
from typing import Any

from flask import Flask, Response, g, has_request_context, request
from gunicorn.glogging import Logger

REQUEST_ID_HEADER = "X-Request-ID"
_SANE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
TEXT_FORMAT = "%(asctime)s [%(process)d] [%(levelname)s] %(name)s: %(message)s"
ENVIRON_KEY = "onestop.request_id"
# the id is read from the WSGI environ: under gevent, gunicorn cannot match response headers
# (gevent keeps them as bytes, so %({x-request-id}o)s would always print "-")
ACCESS_FORMAT = ('%(h)s "%({x-forwarded-for}i)s" "%(r)s" %(s)s %(b)s %(M)sms "%(a)s" '
                 'rid=%({' + ENVIRON_KEY + '}e)s')


# query parameters whose values never reach a log line: lookup and ticket tokens, the last
# digits of a phone, bearer tokens, ID numbers (docs/security.md, "Privacy")
SECRET_PARAMS = ("k", "phone4", "token", "id_number", "phone", "password")
_NAMES = "|".join(SECRET_PARAMS)
# ... also inside another parameter's value, URL-encoded once or more: a scanned receipt QR
# typed into the /lookup/ form arrives as code=http%3A%2F%2F...%2Flookup%2FX%3Fk%3Dabc
_SEP = r"(?:[?&]|%(?:25)*(?:3F|26))"
_EQ = r"(?:=|%(?:25)*3D)"
_END = r"(?:[&\s\"#]|%(?:25)*(?:26|23))"
_SECRET_QUERY = re.compile(rf"({_SEP}(?:{_NAMES}){_EQ})(?:(?!{_END}).)*", re.IGNORECASE)
_BARE_QUERY = re.compile(rf"((?:^|{_SEP})(?:{_NAMES}){_EQ})(?:(?!{_END}).)*", re.IGNORECASE)


def redact(text: str) -> str:
    """``/lookup/X?k=abc&lang=en`` -> ``/lookup/X?k=***&lang=en``, and
    ``/lookup/?code=...%3Fk%3Dabc`` -> ``/lookup/?code=...%3Fk%3D***``."""
    return _SECRET_QUERY.sub(r"\1***", text) if ("=" in text or "%" in text) else text


class RedactFilter(logging.Filter):
    """Masks secret query values in gunicorn's access atoms and in string arguments."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, dict):
            for key in ("r", "U", "{raw_uri}e", "{raw_uri}"):
                if isinstance(args.get(key), str):
                    args[key] = redact(args[key])
            if isinstance(args.get("q"), str):
                args["q"] = _BARE_QUERY.sub(r"\1***", args["q"])
        elif isinstance(args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in args)
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        return True


def current_request_id() -> str | None:
    if has_request_context():
        return g.get("request_id")
    return None


def _request_id(given: str) -> str:
    return given if _SANE_ID.match(given) else uuid.uuid4().hex


class RequestIdMiddleware:
    """Sets the id in the server's own environ dict, outside Socket.IO's middleware (which
    hands Flask a copy): gunicorn's access log reads that dict."""

    def __init__(self, app: Any) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        environ[ENVIRON_KEY] = _request_id(environ.get("HTTP_X_REQUEST_ID", ""))
        return self.app(environ, start_response)


def _assign_request_id() -> None:
    g.request_id = request.environ.get(ENVIRON_KEY) or _request_id(
        request.headers.get(REQUEST_ID_HEADER, ""))


def _echo_request_id(response: Response) -> Response:
    rid = g.get("request_id")
    if rid:
        response.headers[REQUEST_ID_HEADER] = rid
    return response


class AccessLogger(Logger):  # type: ignore[misc]
    """gunicorn's logger (``onestop serve`` sets it as ``logger_class``), with an access line
    built from the fields :data:`ACCESS_FORMAT` and the JSON ``http`` object read, and no
    others: gunicorn's own ``atoms`` also copies every request header, response header and
    WSGI environ entry on every request."""

    def atoms(self, resp: Any, req: Any, environ: dict[str, Any] | None,
              request_time: dt.timedelta) -> dict[str, Any]:
        status = resp.status
        if isinstance(status, str):
            status = status.split(None, 1)[0]
        sent = getattr(resp, "sent", None)
        environ = environ or {}  # None when pywsgi refused the request line itself (414, 400)
        method = environ.get("REQUEST_METHOD")
        return {
            "h": environ.get("REMOTE_ADDR", "-"),
            "r": f"{method} {environ.get('RAW_URI')} {environ.get('SERVER_PROTOCOL')}",
            "s": status, "m": method, "U": environ.get("PATH_INFO"),
            "q": environ.get("QUERY_STRING"),
            "b": str(sent) if sent is not None else "-", "B": sent,
            "a": environ.get("HTTP_USER_AGENT", "-"),
            "M": request_time.seconds * 1000 + request_time.microseconds // 1000,
            "{x-forwarded-for}i": environ.get("HTTP_X_FORWARDED_FOR", "-"),
            "{" + ENVIRON_KEY + "}e": environ.get(ENVIRON_KEY, "-"),
        }


def _access_fields(record: logging.LogRecord) -> dict[str, Any] | None:
    """gunicorn passes its atoms (a dict) as the access record's args."""
    atoms = record.args
    if record.name != "gunicorn.access" or not isinstance(atoms, dict):
        return None

    def atom(key: str) -> Any:
        value = atoms.get(key, "-")
        return None if value in ("-", "", None) else value

    duration, status = atom("M"), atom("s")
    if isinstance(status, str) and status.isdigit():
        status = int(status)
    return {"method": atom("m"), "path": atom("U"), "query": atom("q"), "status": status,
            "duration_ms": int(duration) if duration is not None else None, "remote": atom("h"),
            "forwarded_for": atom("{x-forwarded-for}i"), "user_agent": atom("a"),
            "bytes": atom("B")}


class JsonFormatter(logging.Formatter):
    """One JSON object per line; never raises on odd arguments."""

    def format(self, record: logging.LogRecord) -> str:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a bad format string must not lose the line
            message = str(record.msg)
        out: dict[str, Any] = {
            "ts": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": message,
            "request_id": current_request_id(),
            "pid": record.process,
        }
        access = _access_fields(record)
        if access is not None:
            out["request_id"] = _atom_rid(record)
            out["http"] = access
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        elif record.exc_text:
            out["exc"] = record.exc_text
        return json.dumps(out, ensure_ascii=False, default=str)


def _atom_rid(record: logging.LogRecord) -> str | None:
    atoms = record.args
    if not isinstance(atoms, dict):
        return None
    for key in ("{" + ENVIRON_KEY + "}e", "{x-request-id}o"):
        value = atoms.get(key)
        if isinstance(value, str) and value != "-":
            return value
    return None


class TextFormatter(logging.Formatter):
    """The usual line, with ``[rid ...]`` appended while a request runs."""

    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        rid = current_request_id()
        return f"{line} [rid {rid}]" if rid else line


def logging_config(fmt: str, level: str) -> dict[str, Any]:
    """A ``dictConfig`` for the root logger (gunicorn's loggers propagate to it)."""
    level = (level or "info").upper()
    formatter = "onestop.ops.logs.JsonFormatter" if fmt == "json" else "onestop.ops.logs.TextFormatter"
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "root": {"level": level, "handlers": ["onestop"]},
        "loggers": {
            "gunicorn.error": {"level": level, "handlers": [], "propagate": True},
            "gunicorn.access": {"level": "INFO", "handlers": [], "propagate": True},
            "alembic": {"level": "WARNING"},  # /readyz reads the revision: no INFO chatter
            # a level set here keeps Socket.IO from adding a plain stderr handler of its own
            "socketio.server": {"level": "ERROR"},
            "engineio.server": {"level": "ERROR"},
        },
        "handlers": {"onestop": {"class": "logging.StreamHandler", "formatter": "onestop",
                                 "filters": ["redact"], "stream": "ext://sys.stderr"}},
        "formatters": {"onestop": {"()": formatter}},
        "filters": {"redact": {"()": "onestop.ops.logs.RedactFilter"}},
    }


def configure(fmt: str, level: str) -> None:
    """Install the root handler, unless one of ours is there already (gunicorn set it up)."""
    wanted = JsonFormatter if fmt == "json" else TextFormatter
    if any(isinstance(h.formatter, wanted) for h in logging.getLogger().handlers):
        return
    logging.config.dictConfig(logging_config(fmt, level))


def init_app(app: Flask) -> None:
    app.wsgi_app = RequestIdMiddleware(app.wsgi_app)  # type: ignore[method-assign]
    app.before_request(_assign_request_id)
    app.after_request(_echo_request_id)
    if str(app.config.get("LOG_FORMAT", "text")).lower() == "json":
        configure("json", str(app.config.get("LOG_LEVEL", "info")))
