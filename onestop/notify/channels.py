"""The wire of each channel: one call sends one message and says how it went.

- SMS: ``POST SMS_URL`` with ``Authorization: Bearer SMS_TOKEN`` and the JSON body
  ``{"to": "+84…", "text": "…"}``; any 2xx answer is a success.
- Zalo ZNS: ``POST ZNS_URL`` (Zalo's ``https://business.openapi.zalo.me/message/template``)
  with the header ``access_token: ZNS_TOKEN`` and the JSON body ``{"phone": "84…",
  "template_id", "template_data": {…}, "tracking_id"}``; Zalo answers HTTP 200 with
  ``{"error": 0, "message": "Success", "data": {"msg_id", "sent_time", …}}``, or a negative
  ``error`` and its ``message`` when it refuses (no Zalo account on the number, template not
  approved, quota, token): a refusal, and the message goes by SMS instead.
- e-mail: SMTP (``smtplib``) at ``SMTP_URL``: ``smtp://user:pass@host:port`` with
  ``?starttls=1`` to upgrade the connection, ``smtps://`` for TLS from the start.

Every call has ``NOTIFY_TIMEOUT_S`` at most and never raises: a failure is an ``Outcome``.
Addresses never go to the log.
"""

from __future__ import annotations

import json
import re
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from onestop.integrations.http_json import post_json
from onestop.notify.config import NotifyConfig

USER_AGENT = "onestop-notify/1"
PHONE_LIKE = re.compile(r"\+?\d[\d .-]{6,}\d")


@dataclass(frozen=True)
class Outcome:
    """What one send gave: ``ok``, or an ``error`` text; ``refused``: the far end answered
    and said no (retrying the same channel will not help)."""

    ok: bool
    error: str = ""
    refused: bool = False


def _http_outcome(status: int | None, answer: bytes, error: str) -> Outcome:
    if status is None:
        return Outcome(False, error)
    if 200 <= status < 300:
        return Outcome(True)
    text = _no_numbers(answer[:120].decode("utf-8", "replace").strip())
    return Outcome(False, f"http_{status}" + (f": {text}" if text else ""), refused=400 <= status < 500)


def _no_numbers(text: str) -> str:
    """A far end's error text without anything shaped like a phone number (it goes to the
    log and the back office; a gateway may echo the number it refused)."""
    return PHONE_LIKE.sub("…", text)


def send_sms(config: NotifyConfig, to: str, text: str) -> Outcome:
    if not config.sms_url:
        return Outcome(False, "sms_not_configured", refused=True)
    headers = {"Authorization": f"Bearer {config.sms_token}"} if config.sms_token else {}
    return _http_outcome(*post_json(config.sms_url, {"to": to, "text": text}, headers,
                                    timeout_s=config.timeout_s, user_agent=USER_AGENT))


def send_zns(config: NotifyConfig, phone: str, template_id: str, data: dict[str, Any],
             tracking_id: str) -> Outcome:
    """A ZNS template message; ``phone`` in ``+84…`` form is sent as ``84…``."""
    if not config.zns_url:
        return Outcome(False, "zns_not_configured", refused=True)
    body = {"phone": phone.lstrip("+"), "template_id": template_id,
            "template_data": {k: str(v) for k, v in data.items()}, "tracking_id": tracking_id}
    status, answer, error = post_json(config.zns_url, body, {"access_token": config.zns_token},
                                      timeout_s=config.timeout_s, user_agent=USER_AGENT)
    if status is None or not 200 <= status < 300:
        return _http_outcome(status, answer, error)
    try:
        value = json.loads(answer.decode("utf-8"))
        code = int(value.get("error"))
    except (UnicodeDecodeError, ValueError, TypeError, AttributeError):
        return Outcome(False, "bad_response: not a ZNS answer")
    if code != 0:
        message = _no_numbers(str(value.get("message") or "")[:120])
        return Outcome(False, f"zns_error {code}: {message}", refused=True)
    return Outcome(True)


def _smtp(config: NotifyConfig) -> smtplib.SMTP:
    parts = urlsplit(config.smtp_url)
    query = parse_qs(parts.query)
    host, secure = parts.hostname or "localhost", parts.scheme.lower() == "smtps"
    port = parts.port or (465 if secure else 25)
    context = ssl.create_default_context()
    server: smtplib.SMTP
    if secure:
        server = smtplib.SMTP_SSL(host, port, timeout=config.timeout_s, context=context)
    else:
        server = smtplib.SMTP(host, port, timeout=config.timeout_s)
        if (query.get("starttls") or ["0"])[0].lower() in ("1", "true", "yes"):
            server.starttls(context=context)
    if parts.username:
        server.login(unquote(parts.username), unquote(parts.password or ""))
    return server


def send_email(config: NotifyConfig, to: str, subject: str, text: str) -> Outcome:
    if not config.smtp_url:
        return Outcome(False, "email_not_configured", refused=True)
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = config.mail_from, to, subject
    message["Message-ID"] = make_msgid(domain=config.mail_from.rpartition("@")[2] or None)
    message.set_content(text)
    try:
        server = _smtp(config)
        try:
            server.send_message(message)
        finally:
            try:
                server.quit()
            except (smtplib.SMTPException, OSError):
                server.close()
    except smtplib.SMTPRecipientsRefused:
        return Outcome(False, "smtp_recipient_refused", refused=True)
    except smtplib.SMTPResponseException as exc:
        return Outcome(False, f"smtp_{exc.smtp_code}", refused=500 <= exc.smtp_code < 600)
    except (smtplib.SMTPException, OSError) as exc:
        return Outcome(False, f"smtp_error: {type(exc).__name__}")
    return Outcome(True)
