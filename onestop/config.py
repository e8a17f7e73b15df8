"""Settings: defaults -> instance TOML file -> ONESTOP_* environment -> test dict.

Every setting has an upper-case name. The environment variable is the name with the
``ONESTOP_`` prefix (``ONESTOP_DATABASE_URL``); the TOML file (``onestop.toml`` in the data
directory, or the file named by ``ONESTOP_CONFIG``) uses the lower-case name.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any

DEMO_SECRET = "onestop-demo-secret-do-not-use-in-production"

DEFAULTS: dict[str, Any] = {
    "DATA_DIR": ".data",
    "DATABASE_URL": None,  # default: sqlite file in DATA_DIR
    "MESSAGE_QUEUE_URL": None,
    "MESSAGE_QUEUE_CHANNEL": "onestop",  # Redis pub/sub channel shared by the instances
    "QUEUE_EVENT_INTERVAL_S": 0.25,  # queue.changed coalesced per process; 0 sends every commit
    "OVERVIEW_THROTTLE_S": 2.0,  # overview.changed: at most one per unit per interval (issue 22)
    "SECRET_KEY": DEMO_SECRET,
    "PUBLIC_BASE_URL": "http://127.0.0.1:8000",
    "ALWAYS_OPEN": False,
    "DEFAULT_UNIT": None,
    "ASYNC_MODE": None,
    "SQLITE_BUSY_TIMEOUT_MS": 10000,
    "TOKEN_TTL_HOURS": 12,
    "RATELIMIT_STORAGE_URI": "memory://",
    "LOGIN_RATE_LIMIT": "10 per minute",
    "MAX_CONTENT_LENGTH": 1024 * 1024,
    # security (onestop/security.py, onestop/accounts/lockout.py, docs/security.md)
    "UPLOAD_MAX_CONTENT_LENGTH": 5 * 1024 * 1024,  # routes marked @large_body (procedure import)
    "MEDIA_MAX_MB": 50,  # largest image or video for the hall displays (onestop/media, issue 23)
    "LOGIN_LOCKOUT_ATTEMPTS": 5,  # wrong passwords in a row that lock an account
    "LOGIN_LOCKOUT_MINUTES": 15,  # how long the lock lasts
    "TICKET_RATE_LIMIT": "30 per minute",  # tickets per kiosk (key: the device), or per address
    "TICKET_PAGE_RATE_LIMIT": "60 per minute",  # public ticket pages /t/<id> per address
    # bookings and numbers from a phone (onestop/api/bookings.py, issue 20): public requests
    # per client address and, separately, per phone number given
    "BOOKING_RATE_LIMIT": "10 per minute",
    "REMOTE_TICKET_RATE_LIMIT": "10 per minute",
    # a lost Redis must not stop the kiosks: limits then count in memory, per instance
    "RATELIMIT_SWALLOW_ERRORS": True,
    "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
    # printing (onestop/printing/dispatch.py)
    "PRINT_TIMEOUT_S": 3.0,  # longest a kiosk request waits for its printer
    "PRINT_JOB_TTL_S": 120,  # how long a job waits for an offline print agent, then expires
    "PRINT_AGENT_STALE_S": 90,  # an agent silent for this long shows as disconnected
    "PRINT_FONT": "",  # font file(s) for slips; default Be Vietnam Pro, then DejaVu Sans
    "PRINT_FONT_BOLD": "",
    # printer URIs a back-office user may set (hardware/printing/drivers.py, PrinterPolicy):
    # directories where file:// and serial:// may point besides /dev/usb/lp*, /dev/ttyUSB*,
    # /dev/ttyS*; networks of tcp:// printers (comma-separated, or a TOML list)
    "PRINTER_DIRS": "",
    "PRINTER_NETWORKS": "10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,fc00::/7",
    # heavy work off the event loop (onestop/offload.py): reports, exports, book, forms, voice
    "OFFLOAD_MODE": "auto",  # auto: worker processes under `onestop serve`, inline elsewhere; pool; inline
    "OFFLOAD_WORKERS": None,  # worker processes (jobs at once); default one less than the cores
    "OFFLOAD_QUEUE": 8,  # jobs that may wait for a worker; past it: 503 busy at once
    "OFFLOAD_TIMEOUT_S": 45,  # a job's time limit, waiting included: then 503 busy, worker killed
    # the province's TTHC information system (onestop/integrations/config.py, docs/provincial-link.md):
    # no URL = no link, nothing shown; more PROVINCE_* settings are read there
    "PROVINCE_URL": "",
    "PROVINCE_TOKEN": "",
    "PROVINCE_TIMEOUT_S": 2.0,  # the whole of one request to the province, seconds
    # operations (onestop/ops): reverse proxy, logs, metrics, backups
    "GRACEFUL_TIMEOUT_S": 5,  # a stop or restart waits at most this long for requests in flight
    # one client cannot stop the hall (onestop/realtime/guard.py, onestop/server.py, docs/security.md)
    "SOCKET_PACKET_BUDGET": 20,  # Socket.IO packets a second per connection (bursts of 2x); 0 = off
    "HEADER_TIMEOUT_S": 10.0,  # a request's line and headers must arrive within this (slowloris)
    "MAX_CONNECTIONS_PER_ADDRESS": 500,  # open connections from one client address; 0 = no cap
    "LOOP_LAG_READY_S": 0.5,  # /readyz fails when the event loop's lag stays above this
    "DISK_FREE_READY_MB": 200,  # /readyz fails when the database's disk has less free than this
    "PROXY_COUNT": 0,  # proxies in front (nginx: 1) whose X-Forwarded-* are trusted; 0 = none
    "LOG_FORMAT": "text",  # or "json": one JSON object per line (ts, level, logger, message, request_id)
    "LOG_LEVEL": "info",
    "METRICS_TOKEN": "",  # bearer token for /metrics from other hosts; loopback needs none
    "BACKUP_DIR": "",  # default: DATA_DIR/backups
    "BACKUP_KEEP": 14,  # backups kept by `onestop backup` (newest first)
}

_BOOL_KEYS = {k for k, v in DEFAULTS.items() if isinstance(v, bool)}
_INT_KEYS = {k for k, v in DEFAULTS.items() if isinstance(v, int) and not isinstance(v, bool)}


def _coerce(key: str, value: str) -> Any:
    if key in _BOOL_KEYS:
        return value.strip().lower() in {"1", "true", "yes", "on"}
    if key in _INT_KEYS:
        return int(value)
    return value


def load_settings(overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Merge the four layers and fill derived values (database URL, data dir)."""
    settings = dict(DEFAULTS)
    env = {k[len("ONESTOP_"):]: v for k, v in os.environ.items() if k.startswith("ONESTOP_")}
    data_dir = Path((overrides or {}).get("DATA_DIR") or env.get("DATA_DIR") or settings["DATA_DIR"])
    toml_path = Path(env.get("CONFIG") or data_dir / "onestop.toml")
    if toml_path.is_file():
        with toml_path.open("rb") as fh:
            settings.update({k.upper(): v for k, v in tomllib.load(fh).items()})
    for key, value in env.items():
        if key in DEFAULTS or key not in {"CONFIG"}:
            settings[key] = _coerce(key, value)
    settings.update(overrides or {})
    data_dir = Path(settings["DATA_DIR"]).resolve()
    settings["DATA_DIR"] = str(data_dir)
    if not settings.get("DATABASE_URL"):
        settings["DATABASE_URL"] = f"sqlite:///{data_dir / 'onestop.sqlite3'}"
    queue_url = str(settings.get("MESSAGE_QUEUE_URL") or "")
    if settings.get("RATELIMIT_STORAGE_URI") in (None, "", "memory://") and queue_url.startswith(
            ("redis://", "rediss://")):
        # scaled out: every instance counts in the same Redis, else a limit is per instance
        settings["RATELIMIT_STORAGE_URI"] = queue_url
    return settings
