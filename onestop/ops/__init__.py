"""Operations: what an IT officer runs and watches (see ``systemd/INSTALL.md``).

- ``health``: ``GET /readyz`` (database, schema at head, message queue);
- ``metrics``: ``GET /metrics`` for Prometheus;
- ``logs``: request ids, plain or JSON log lines;
- ``doctor``: ``onestop doctor``, a deployment check;
- ``backup``: ``onestop backup`` / ``onestop restore`` (SQLite online backup, pg_dump).

``init_app`` wires the web parts into the app, including ``ProxyFix`` for the
``ONESTOP_PROXY_COUNT`` proxies (nginx) in front.
"""

from __future__ import annotations

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix


def init_app(app: Flask) -> None:
    from onestop.ops import health, logs, metrics

    logs.init_app(app)
    count = int(app.config.get("PROXY_COUNT") or 0)
    if count > 0:
        # outermost, around Socket.IO's middleware too: every request sees the client's
        # address (rate limits, logs) and scheme as the proxy received them
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count, x_host=count,  # type: ignore[method-assign]
                                x_port=count, x_prefix=0)
    metrics.init_app(app)
    app.register_blueprint(health.bp)
    app.register_blueprint(metrics.bp)
