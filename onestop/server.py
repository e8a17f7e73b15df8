"""Run the app under gunicorn with the gevent worker, one worker per instance.

One worker keeps Socket.IO sessions in one process; scale out with several instances
sharing PostgreSQL and a Redis message queue (see systemd/ and the README).
"""

from __future__ import annotations

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

        app = create_app(self.app_config)
        assert db.engine is not None
        checkpoint.start(db.engine)  # SQLite: WAL checkpoints off the request path
        return app


# Each connection's read buffer. A display's websocket stays open all day and reads only
# pongs and the odd short message; with Python's default 8 KiB a worker holding 1,000
# displays measured 190.5 MB, with this 186.8 MB. Requests read their bodies past it.
READ_BUFFER = 2048


def websocket_worker() -> type:
    """gunicorn's gevent (pywsgi) worker with gevent-websocket's handler.

    engine.io uses gevent-websocket whenever it is installed, and then needs its handler:
    under the plain ``gevent`` worker every websocket upgrade got a 500 and clients fell
    back to long-polling. Mixing in gunicorn's handler keeps gunicorn's access log.
    """
    from geventwebsocket.handler import WebSocketHandler
    from gunicorn.workers.ggevent import GeventPyWSGIWorker, PyWSGIHandler

    class Handler(WebSocketHandler, PyWSGIHandler):  # type: ignore[misc]
        log_request = PyWSGIHandler.log_request  # not gevent-websocket's silent logger

        def __init__(self, sock: Any, address: Any, server: Any) -> None:
            super().__init__(sock, address, server)
            self.rfile = sock.makefile("rb", READ_BUFFER)

    class Worker(GeventPyWSGIWorker):  # type: ignore[misc]
        wsgi_handler = Handler

    return Worker


def serve(host: str, port: int, config: dict[str, Any] | None = None, access_log: bool = True) -> None:
    """Short graceful timeout (``ONESTOP_GRACEFUL_TIMEOUT_S``, 5 s): a restart (systemd stop,
    deploy) waits at most that long for requests in flight; displays and counters reconnect
    by themselves. Open websockets count as requests in flight, so a stop with displays
    connected takes the whole timeout."""
    from onestop.config import load_settings
    from onestop.ops.logs import ACCESS_FORMAT, AccessLogger, logging_config

    settings = load_settings(config)
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
