"""Webhook settings, read from the app settings (defaults here; ``ONESTOP_WEBHOOK_*`` in the
environment, ``webhook_*`` in the TOML file).

=========================  =========================  ===============================================
setting                    default                    meaning
=========================  =========================  ===============================================
WEBHOOK_TIMEOUT_S          5                          connect / read timeout of one POST, seconds
WEBHOOK_BACKOFF_S          10,30,120,600,3600         wait after the 1st, 2nd, ... failed attempt
                                                      (the last value repeats)
WEBHOOK_MAX_ATTEMPTS       6                          attempts before a delivery is ``dead``
WEBHOOK_ALLOW_LOOPBACK     false                      allow 127.0.0.0/8, ::1, localhost targets
WEBHOOK_CA_FILE            (system store)             CA bundle for https targets (an internal CA)
WEBHOOK_WORKER             true                       run the delivery loop in the server process
WEBHOOK_POLL_S             30                         longest the loop sleeps between passes
WEBHOOK_BATCH              100                        deliveries looked at per pass
WEBHOOK_CONCURRENCY        4                          webhooks sent to in parallel within a pass
WEBHOOK_RETENTION_DAYS     90                         delivered/dead rows older than this are
                                                      deleted by the loop (0 keeps them)
=========================  =========================  ===============================================
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

TRUE = {"1", "true", "yes", "on"}


def _bool(value: Any, default: bool) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in TRUE if isinstance(value, str) else bool(value)


def _number(value: Any, default: float) -> float:
    return default if value is None or value == "" else float(value)


def _backoff(value: Any, default: tuple[int, ...]) -> tuple[int, ...]:
    if value is None or value == "":
        return default
    items = value.split(",") if isinstance(value, str) else list(value)
    steps = tuple(max(0, int(float(str(v).strip()))) for v in items if str(v).strip())
    return steps or default


@dataclass(frozen=True)
class WebhookConfig:
    timeout_s: float = 5.0
    backoff_s: tuple[int, ...] = (10, 30, 120, 600, 3600)
    max_attempts: int = 6
    allow_loopback: bool = False
    ca_file: str = ""
    worker: bool = True
    poll_s: float = 30.0
    batch: int = 100
    concurrency: int = 4
    retention_days: int = 90

    @classmethod
    def of(cls, settings: Mapping[str, Any]) -> WebhookConfig:
        """The webhook settings out of the app settings (strings from the environment too)."""
        d = cls()
        get = settings.get
        return cls(
            timeout_s=max(0.1, _number(get("WEBHOOK_TIMEOUT_S"), d.timeout_s)),
            backoff_s=_backoff(get("WEBHOOK_BACKOFF_S"), d.backoff_s),
            max_attempts=max(1, int(_number(get("WEBHOOK_MAX_ATTEMPTS"), d.max_attempts))),
            allow_loopback=_bool(get("WEBHOOK_ALLOW_LOOPBACK"), d.allow_loopback),
            ca_file=str(get("WEBHOOK_CA_FILE") or ""),
            worker=_bool(get("WEBHOOK_WORKER"), d.worker),
            poll_s=max(1.0, _number(get("WEBHOOK_POLL_S"), d.poll_s)),
            batch=max(1, int(_number(get("WEBHOOK_BATCH"), d.batch))),
            concurrency=max(1, int(_number(get("WEBHOOK_CONCURRENCY"), d.concurrency))),
            retention_days=max(0, int(_number(get("WEBHOOK_RETENTION_DAYS"), d.retention_days))),
        )

    @property
    def lease_s(self) -> float:
        """How long a claim holds a delivery: well past the longest a POST may take."""
        return max(60.0, self.timeout_s * 6)

    def backoff(self, attempts: int) -> int:
        """Seconds to wait after the ``attempts``-th failed attempt (1-based)."""
        return self.backoff_s[min(max(attempts, 1), len(self.backoff_s)) - 1]
