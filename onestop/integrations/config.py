"""Settings of the link to the province's system (``ONESTOP_PROVINCE_*`` in the environment,
``province_*`` in the TOML file; defaults in onestop/config.py).

=========================  ==============  ===================================================
setting                    default         meaning
=========================  ==============  ===================================================
PROVINCE_URL               (empty)         the province adapter's endpoint; empty: no link at all
                                           (no field on the workstation, no status on lookups)
PROVINCE_TOKEN             (empty)         bearer token sent in ``Authorization``
PROVINCE_TIMEOUT_S         2               the whole of one request (connect, send, answer)
PROVINCE_CODE_PATTERN      see below       what a provincial dossier code looks like (regex)
PROVINCE_PUSH              linked          which dossiers are pushed: ``linked`` (those with a
                                           provincial code), ``all``, ``none``
PROVINCE_MAX_ATTEMPTS      8               attempts before a push is ``dead``
PROVINCE_BACKOFF_S         10,30,120,600,  wait after the 1st, 2nd, ... failed attempt
                           1800,3600       (the last value repeats)
PROVINCE_CACHE_S           60              how long a status read is kept
PROVINCE_DOWN_CACHE_S      10              how long "no answer" is kept (the next reader waits
                                           no 2 s while the province is down)
PROVINCE_WORKER            true            run the push loop in the server process
PROVINCE_POLL_S            30              longest the loop sleeps between passes
PROVINCE_CA_FILE           (system)        CA bundle for an https URL (an internal CA)
=========================  ==============  ===================================================
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from onestop.webhooks.config import _backoff, _bool, _number

#: a provincial dossier code: letters, digits and . - _ / (e.g. ``G22.39-241125-0012``,
#: ``000.00.14.H56-251203-0001``), 4 to 64 characters, starting with a letter or digit
DEFAULT_CODE_PATTERN = r"[A-Za-z0-9][A-Za-z0-9.\-_/]{3,63}"
PUSH_MODES = ("linked", "all", "none")


@dataclass(frozen=True)
class ProvinceConfig:
    url: str = ""
    token: str = ""
    timeout_s: float = 2.0
    code_pattern: str = DEFAULT_CODE_PATTERN
    push: str = "linked"
    max_attempts: int = 8
    backoff_s: tuple[int, ...] = (10, 30, 120, 600, 1800, 3600)
    cache_s: float = 60.0
    down_cache_s: float = 10.0
    worker: bool = True
    poll_s: float = 30.0
    ca_file: str = ""
    batch: int = 100

    @classmethod
    def of(cls, settings: Mapping[str, Any]) -> ProvinceConfig:
        """The province settings out of the app settings (strings from the environment too)."""
        d = cls()
        get = settings.get
        push = str(get("PROVINCE_PUSH") or d.push).strip().lower()
        return cls(
            url=str(get("PROVINCE_URL") or "").strip(),
            token=str(get("PROVINCE_TOKEN") or ""),
            timeout_s=min(30.0, max(0.1, _number(get("PROVINCE_TIMEOUT_S"), d.timeout_s))),
            code_pattern=str(get("PROVINCE_CODE_PATTERN") or d.code_pattern),
            push=push if push in PUSH_MODES else d.push,
            max_attempts=max(1, int(_number(get("PROVINCE_MAX_ATTEMPTS"), d.max_attempts))),
            backoff_s=_backoff(get("PROVINCE_BACKOFF_S"), d.backoff_s),
            cache_s=max(0.0, _number(get("PROVINCE_CACHE_S"), d.cache_s)),
            down_cache_s=max(0.0, _number(get("PROVINCE_DOWN_CACHE_S"), d.down_cache_s)),
            worker=_bool(get("PROVINCE_WORKER"), d.worker),
            poll_s=max(1.0, _number(get("PROVINCE_POLL_S"), d.poll_s)),
            ca_file=str(get("PROVINCE_CA_FILE") or ""),
        )

    @property
    def enabled(self) -> bool:
        """No URL, no link: nothing is shown, queued or sent."""
        return bool(self.url)

    @property
    def lease_s(self) -> float:
        """How long a claim holds a push: well past the longest a request may take."""
        return max(30.0, self.timeout_s * 6)

    def backoff(self, attempts: int) -> int:
        """Seconds to wait after the ``attempts``-th failed attempt (1-based)."""
        return self.backoff_s[min(max(attempts, 1), len(self.backoff_s)) - 1]

    def valid_code(self, code: str) -> bool:
        """Whether ``code`` has the shape of a provincial dossier code."""
        try:
            return re.fullmatch(self.code_pattern, code) is not None
        except re.error:  # an operator's broken pattern: fall back to the default shape
            return re.fullmatch(DEFAULT_CODE_PATTERN, code) is not None
