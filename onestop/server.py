"""Run the app under gunicorn with the gevent worker, one worker per instance.

One worker keeps Socket.IO sessions in one process; scale out with several instances
sharing PostgreSQL and a Redis message queue (see systemd/ and the README).
"""

from __future__ import annotations

import os
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
        from onestop.app import create_app

        return create_app(self.app_config)


def serve(host: str, port: int, config: dict[str, Any] | None = None, access_log: bool = True,
          graceful_timeout: int = 5) -> None:
    options = {
        "bind": f"{host}:{port}",
        "workers": 1,
        "worker_class": "gevent",
        "worker_connections": 4000,
        "graceful_timeout": graceful_timeout,
        "timeout": 30,
        "keepalive": 5,
        "accesslog": "-" if access_log else None,
        "errorlog": "-",
        "loglevel": os.environ.get("ONESTOP_LOG_LEVEL", "info"),
        "proc_name": "onestop",
        "control_socket_disable": True,  # several instances may run on one host
    }
    OnestopServer(options, config).run()
