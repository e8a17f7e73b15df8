"""Message settings, read from the app settings (``ONESTOP_*`` in the environment, the
lower-case names in the TOML file). A channel without its URL is off.

=====================  ======================  =============================================
setting                default                 meaning
=====================  ======================  =============================================
SMS_URL                (off)                   the SMS gateway: POST {"to": "+84…", "text"}
SMS_TOKEN                                      its bearer token
SMS_ASCII              true                    strip diacritics (brandname gateways often
                                               require unaccented text)
SMS_MAX_CHARS          160                     longest text (one GSM-7 SMS); 0: no limit
ZNS_URL                (off)                   Zalo ZNS template API (POST, header
                                               ``access_token``); SMS is the fallback
ZNS_TOKEN                                      the Official Account's access token
ZNS_TEMPLATES                                  ``event=template_id,...`` (templates approved
                                               by Zalo); an event without one goes by SMS
SMTP_URL               (off)                   ``smtp://user:pass@host:port?starttls=1``
                                               (``smtps://`` for TLS from the start)
MAIL_FROM              onestop@localhost       the sender address
NOTIFY_TIMEOUT_S       5                       connect / read timeout of one send
NOTIFY_BACKOFF_S       10,30,120,600           wait after the 1st, 2nd, ... failed attempt
NOTIFY_MAX_ATTEMPTS    5                       attempts before a message is ``dead``
NOTIFY_WORKER          true                    run the sending loop in the server process
NOTIFY_POLL_S          30                      longest the loop sleeps between passes
NOTIFY_BATCH           100                     messages looked at per pass
NOTIFY_SETTLE_S        0.5                     once woken, wait this long for more messages,
                                               to send them in one pass
=====================  ======================  =============================================
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from onestop.webhooks.config import _backoff, _bool, _number


def _templates(value: Any) -> dict[str, str]:
    if isinstance(value, Mapping):
        return {str(k): str(v) for k, v in value.items()}
    pairs = (item.split("=", 1) for item in str(value or "").split(",") if "=" in item)
    return {k.strip(): v.strip() for k, v in pairs if k.strip() and v.strip()}


@dataclass(frozen=True)
class NotifyConfig:
    sms_url: str = ""
    sms_token: str = ""
    sms_ascii: bool = True
    sms_max_chars: int = 160
    zns_url: str = ""
    zns_token: str = ""
    zns_templates: dict[str, str] = field(default_factory=dict)
    smtp_url: str = ""
    mail_from: str = "onestop@localhost"
    timeout_s: float = 5.0
    backoff_s: tuple[int, ...] = (10, 30, 120, 600)
    max_attempts: int = 5
    worker: bool = True
    poll_s: float = 30.0
    batch: int = 100
    settle_s: float = 0.5

    @classmethod
    def of(cls, settings: Mapping[str, Any]) -> NotifyConfig:
        """The message settings out of the app settings (strings from the environment too)."""
        d, get = cls(), settings.get
        return cls(
            sms_url=str(get("SMS_URL") or ""), sms_token=str(get("SMS_TOKEN") or ""),
            sms_ascii=_bool(get("SMS_ASCII"), d.sms_ascii),
            sms_max_chars=max(0, int(_number(get("SMS_MAX_CHARS"), d.sms_max_chars))),
            zns_url=str(get("ZNS_URL") or ""), zns_token=str(get("ZNS_TOKEN") or ""),
            zns_templates=_templates(get("ZNS_TEMPLATES")),
            smtp_url=str(get("SMTP_URL") or ""), mail_from=str(get("MAIL_FROM") or d.mail_from),
            timeout_s=max(0.1, _number(get("NOTIFY_TIMEOUT_S"), d.timeout_s)),
            backoff_s=_backoff(get("NOTIFY_BACKOFF_S"), d.backoff_s),
            max_attempts=max(1, int(_number(get("NOTIFY_MAX_ATTEMPTS"), d.max_attempts))),
            worker=_bool(get("NOTIFY_WORKER"), d.worker),
            poll_s=max(1.0, _number(get("NOTIFY_POLL_S"), d.poll_s)),
            batch=max(1, int(_number(get("NOTIFY_BATCH"), d.batch))),
            settle_s=max(0.0, _number(get("NOTIFY_SETTLE_S"), d.settle_s)),
        )

    @property
    def phone_enabled(self) -> bool:
        return bool(self.sms_url or self.zns_url)

    @property
    def enabled(self) -> bool:
        return self.phone_enabled or bool(self.smtp_url)

    @property
    def lease_s(self) -> float:
        """How long a claim holds a message: past the longest a send (and its fallback) takes."""
        return max(60.0, self.timeout_s * 6)

    def backoff(self, attempts: int) -> int:
        return self.backoff_s[min(max(attempts, 1), len(self.backoff_s)) - 1]

    def status(self) -> dict[str, bool]:
        """Which channels are configured (the back office, ``onestop doctor``)."""
        return {"sms": bool(self.sms_url), "zns": bool(self.zns_url), "email": bool(self.smtp_url)}
