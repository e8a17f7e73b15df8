"""Status reads for the kiosk and ``/lookup``: what the province says of a dossier code,
cached, and never more than the adapter's time limit (2 s) for the citizen to wait.

A good answer (found or not) is kept ``PROVINCE_CACHE_S`` (60 s); no answer is kept
``PROVINCE_DOWN_CACHE_S`` (10 s), so that while the province is down only one reader in ten
seconds waits for the time limit and every other one reads "không kết nối được" at once.
The cache is per process (each instance asks on its own).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

from onestop.integrations.adapter import ProvinceAdapter, ProvincialStatus
from onestop.integrations.config import ProvinceConfig
from onestop.integrations.http_json import JsonHttpAdapter
from onestop.integrations.mapping import N_, portal_status

MAX_ENTRIES = 2000
NOT_CONNECTED = N_("Không kết nối được hệ thống của tỉnh")
NOT_KNOWN = N_("Hệ thống của tỉnh chưa có thông tin về hồ sơ này")

_cache: dict[tuple[str, str], tuple[float, ProvincialStatus]] = {}
_lock = threading.Lock()

#: how an adapter is made from the settings (tests may put a fake in its place)
AdapterFactory = Callable[[ProvinceConfig, ZoneInfo], ProvinceAdapter]
make_adapter: AdapterFactory = JsonHttpAdapter


def clear_cache() -> None:
    with _lock:
        _cache.clear()


def _cached(key: tuple[str, str]) -> ProvincialStatus | None:
    with _lock:
        entry = _cache.get(key)
        if entry is None or entry[0] <= time.monotonic():
            return None
        return entry[1]


def _keep(key: tuple[str, str], status: ProvincialStatus, config: ProvinceConfig) -> None:
    ttl = config.cache_s if status.reachable else config.down_cache_s
    with _lock:
        if len(_cache) >= MAX_ENTRIES:
            now = time.monotonic()
            for old in [k for k, (until, _) in _cache.items() if until <= now] or list(_cache)[:100]:
                _cache.pop(old, None)
        _cache[key] = (time.monotonic() + ttl, status)


def provincial_status(config: ProvinceConfig, code: str, tz: ZoneInfo) -> ProvincialStatus:
    """The province's status of ``code``: from the cache, else asked (within the time limit)."""
    key = (config.url, code.strip().upper())
    status = _cached(key)
    if status is None:
        try:
            status = make_adapter(config, tz).get_status(code.strip())
        except Exception as exc:  # noqa: BLE001 - a broken adapter is "not connected", never a 500
            status = ProvincialStatus(code, reachable=False, error=f"adapter_error: {exc}")
        _keep(key, status, config)
    return status


def _date(value: Any, tz: ZoneInfo) -> str:
    return value.astimezone(tz).strftime("%d/%m/%Y") if value else ""


def status_block(status: ProvincialStatus, tz: ZoneInfo) -> dict[str, Any]:
    """What a page shows of the province's answer (labels untranslated, nothing personal).

    ``state`` is ours for the answer's code (for colours), ``unknown`` when the province did
    not answer or answered a code we do not know, ``not_found`` when it has no such dossier.
    """
    block: dict[str, Any] = {"code": status.code, "reachable": status.reachable, "found": status.found,
                             "status_code": status.status_code, "state": "unknown",
                             "state_label": NOT_CONNECTED, "received_date": "", "appointment_date": "",
                             "procedure": ""}
    if not status.reachable:
        return block
    if not status.found:
        return {**block, "state": "not_found", "state_label": NOT_KNOWN}
    known = portal_status(status.status_code)
    label = known[0] if known else f"{status.status_code or '?'}"
    return {**block, "state": known[1] if known else "unknown", "state_label": label,
            "received_date": _date(status.received_at, tz),
            "appointment_date": _date(status.appointment_at, tz), "procedure": status.procedure}
