"""Run the app under gunicorn with the gevent worker, one worker per instance.

One worker keeps Socket.IO sessions in one process; scale out with several instances
sharing PostgreSQL and a Redis message queue (see systemd/ and the README).
"""

from __future__ import annotations

import contextlib
from typing import Any

from gunicorn.app.base import BaseApplication


class OnestopServer(BaseApplication):  # type: ignore[misc]
    def __init__(self, options: dict[str, Any], config: dict[str, Any] | None = None) -> None:
        self.options = options
        self.app_config = config
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        # runs in the worker, after gevent has patched the standard library
        from onestop import checkpoint
        from onestop.app import create_app
        from onestop.extensions import db
        from onestop.ops import looplag

        app = create_app(self.app_config)
        assert db.engine is not None
        checkpoint.start(db.engine)  # SQLite: WAL checkpoints off the request path
        looplag.MONITOR.start()  # the event loop's lag, for /metrics and /readyz
        proxies = int(app.config.get("PROXY_COUNT") or 0)
        if proxies > 0 and FORWARDED.per_address:
            app.wsgi_app = ForwardedAddressCap(app.wsgi_app, FORWARDED, proxies)  # type: ignore[method-assign]
        return app


# Each connection's read buffer. A display's websocket stays open all day and reads only
# pongs and the odd short message; with Python's default 8 KiB a worker holding 1,000
# displays measured 190.5 MB, with this 186.8 MB. Requests read their bodies past it.
READ_BUFFER = 2048


class ConnectionLimits:
    """Slow and idle clients (issue 18): a deadline for a request's line and headers, and a
    cap on the connections open from one address at once.

    Without them, 4,000 half-sent requests from one address held every one of the worker's
    4,000 connections (gunicorn's ``worker_connections``) and nobody else was served. The
    deadline runs from the moment the handler waits for a request line, so it also ends a
    keep-alive connection left idle. Over the cap, a connection gets a bare 503 and is
    closed before anything is read. Behind a proxy (``ONESTOP_PROXY_COUNT`` > 0) every
    connection comes from the proxy: the cap counts requests in flight per forwarded
    address instead (``ForwardedAddressCap``), nginx caps too (``limit_conn`` in
    systemd/nginx-onestop.conf) and reads the headers itself.
    """

    def __init__(self, header_timeout: float = 10.0, per_address: int = 0) -> None:
        self.header_timeout = header_timeout
        self.per_address = per_address
        self.open: dict[str, int] = {}
        self.refused = 0
        self.timed_out = 0

    def acquire(self, address: str) -> bool:
        count = self.open.get(address, 0)
        if self.per_address and count >= self.per_address:
            self.refused += 1
            return False
        self.open[address] = count + 1
        return True

    def release(self, address: str) -> None:
        count = self.open.get(address, 0) - 1
        if count > 0:
            self.open[address] = count
        else:
            self.open.pop(address, None)


class ForwardedAddressCap:
    """Behind a proxy: the per-address cap counted on the client address the proxy forwards
    (``X-Forwarded-For``, as ``ProxyFix`` reads it with ``ONESTOP_PROXY_COUNT``), over the
    requests in flight. A websocket is one request for as long as it is open, so idle
    websockets from one address count until they close."""

    def __init__(self, app: Any, limits: ConnectionLimits, proxies: int) -> None:
        self.app = app
        self.limits = limits
        self.proxies = proxies

    def address(self, environ: dict[str, Any]) -> str:
        forwarded = [a.strip() for a in environ.get("HTTP_X_FORWARDED_FOR", "").split(",") if a.strip()]
        if len(forwarded) >= self.proxies:
            return forwarded[-self.proxies]
        return str(environ.get("REMOTE_ADDR") or "")

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        address = self.address(environ)
        if not self.limits.acquire(address):
            start_response("503 Service Unavailable", [("Content-Length", "0"), ("Connection", "close")])
            return [b""]
        try:
            return self.app(environ, start_response)
        finally:
            self.limits.release(address)


#: set by ``serve`` in the master before the worker forks; read by the worker's handler
LIMITS = ConnectionLimits()
#: behind a proxy, the cap per forwarded address (``ForwardedAddressCap``)
FORWARDED = ConnectionLimits()
_REFUSED = b"HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"


class HeaderTimeout(TimeoutError):
    """A request's line and headers did not arrive in time (a socket error to pywsgi)."""


def websocket_worker() -> type:
    """gunicorn's gevent (pywsgi) worker with gevent-websocket's handler.

    engine.io uses gevent-websocket whenever it is installed, and then needs its handler:
    under the plain ``gevent`` worker every websocket upgrade got a 500 and clients fell
    back to long-polling. Mixing in gunicorn's handler keeps gunicorn's access log.
    """
    import gevent
    from geventwebsocket.handler import WebSocketHandler
    from gunicorn.workers.ggevent import GeventPyWSGIWorker, PyWSGIHandler

    class Handler(WebSocketHandler, PyWSGIHandler):  # type: ignore[misc]
        log_request = PyWSGIHandler.log_request  # not gevent-websocket's silent logger

        def __init__(self, sock: Any, address: Any, server: Any) -> None:
            super().__init__(sock, address, server)
            self.rfile = sock.makefile("rb", READ_BUFFER)
            self.header_timer: Any = None

        def handle(self) -> None:
            address = _peer(self.client_address)
            if not LIMITS.acquire(address):
                with contextlib.suppress(OSError):
                    self.socket.send(_REFUSED)  # a few bytes, once: the kernel takes them
                self.socket.close()
                return
            try:
                super().handle()
            finally:
                LIMITS.release(address)

        def handle_one_request(self) -> Any:
            if LIMITS.header_timeout > 0:
                self.header_timer = gevent.Timeout.start_new(LIMITS.header_timeout, HeaderTimeout())
            try:
                return super().handle_one_request()
            except HeaderTimeout:  # raised outside the reads pywsgi guards
                LIMITS.timed_out += 1
                return None
            finally:
                self._headers_read()

        def read_requestline(self) -> Any:
            try:
                return super().read_requestline()
            except HeaderTimeout:
                LIMITS.timed_out += 1
                raise

        def read_request(self, raw_requestline: Any) -> Any:
            try:
                return super().read_request(raw_requestline)
            finally:
                self._headers_read()  # the application's time is not limited here

        def _handle_client_error(self, ex: Exception) -> Any:
            if isinstance(ex, HeaderTimeout):  # late headers: closed without an answer or a traceback
                LIMITS.timed_out += 1
                return None
            return super()._handle_client_error(ex)

        def _headers_read(self) -> None:
            if self.header_timer is not None:
                self.header_timer.close()
                self.header_timer = None

    class Worker(GeventPyWSGIWorker):  # type: ignore[misc]
        wsgi_handler = Handler

    return Worker


def _peer(address: Any) -> str:
    """The client's IP address (a UNIX socket has none: one shared key)."""
    return str(address[0]) if isinstance(address, tuple) and address else "unix"


def serve(host: str, port: int, config: dict[str, Any] | None = None, access_log: bool = True) -> None:
    """Short graceful timeout (``ONESTOP_GRACEFUL_TIMEOUT_S``, 5 s): a restart (systemd stop,
    deploy) waits at most that long for requests in flight; displays and counters reconnect
    by themselves. Open websockets count as requests in flight, so a stop with displays
    connected takes the whole timeout."""
    from onestop.config import load_settings
    from onestop.ops.logs import ACCESS_FORMAT, AccessLogger, logging_config

    settings = load_settings(config)
    per_address = int(settings["MAX_CONNECTIONS_PER_ADDRESS"])
    behind_proxy = int(settings.get("PROXY_COUNT") or 0) > 0
    LIMITS.header_timeout = float(settings["HEADER_TIMEOUT_S"])
    # behind a proxy every connection comes from it: counted per forwarded address instead
    LIMITS.per_address = 0 if behind_proxy else per_address
    FORWARDED.per_address = per_address if behind_proxy else 0
    level = str(settings.get("LOG_LEVEL") or "info").lower()  # ONESTOP_LOG_LEVEL
    options = {
        "bind": f"{host}:{port}",
        "workers": 1,
        "worker_class": websocket_worker,
        "worker_connections": 4000,
        "graceful_timeout": int(settings["GRACEFUL_TIMEOUT_S"]),
        "timeout": 30,
        "keepalive": 5,
        "accesslog": "-" if access_log else None,
        "access_log_format": ACCESS_FORMAT,
        "logger_class": AccessLogger,
        "errorlog": "-",
        "loglevel": level,
        # one root handler (text or JSON lines, stderr) for gunicorn's and the app's loggers
        "logconfig_dict": logging_config(str(settings.get("LOG_FORMAT") or "text").lower(), level),
        "proc_name": "onestop",
        "control_socket_disable": True,  # several instances may run on one host
    }
    OnestopServer(options, config).run()
