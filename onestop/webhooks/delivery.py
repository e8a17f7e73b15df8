"""Sending webhook deliveries: the signed POST, the claim, retries with backoff.

What an integrator receives
---------------------------
``POST <url>`` with ``Content-Type: application/json; charset=utf-8`` and the body::

    {"id": 123, "event": "dossier.received", "at": "2026-11-23T02:00:00Z",
     "unit": "H56.12.3", "data": {...}}

``id`` is the delivery's id (the same on every retry of it), ``at`` when the event
happened (UTC), ``unit`` the code of the unit whose webhook it is. Headers:

=====================  =========================================================
X-Onestop-Event        the event name (``ticket.called``, ``dossier.received`` ...)
X-Onestop-Delivery     the delivery id
X-Onestop-Timestamp    Unix time (seconds) of this attempt
X-Onestop-Signature    ``sha256=`` + hex HMAC-SHA256(secret, timestamp + "." + body)
=====================  =========================================================

Verifying (the secret is the whole string shown once at creation, ``whsec_...``, used as
UTF-8 bytes; the body is the raw bytes received, before any JSON parsing)::

    import hashlib, hmac, time

    def verify(secret: str, headers, body: bytes, tolerance: int = 300) -> bool:
        timestamp = headers["X-Onestop-Timestamp"]
        signed = timestamp.encode() + b"." + body
        expected = "sha256=" + hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
        return (hmac.compare_digest(expected, headers["X-Onestop-Signature"])
                and abs(time.time() - int(timestamp)) <= tolerance)

Answer any 2xx (quickly; the timeout is 5 s) once the event is stored. Anything else (an
error status, a redirect, a timeout, a refused connection) is retried with backoff (10 s,
30 s, 2 min, 10 min, 1 h by default) up to 6 attempts, then the delivery is ``dead`` (an
administrator can send it again). Delivery is at least once and not ordered: deduplicate
on ``id`` and order by ``at`` (a dossier's ``state`` in the data is its state at ``at``).

How sending works
-----------------
Rows are claimed one at a time with a compare-and-set ``UPDATE ... WHERE state IN
('pending', 'failed') AND next_attempt_at <= now``, which also moves ``next_attempt_at`` to
the end of a lease (``WebhookConfig.lease_s``) and counts the attempt; only the worker whose
update changed the row sends it, so two passes (threads, processes, instances) never send
the same due delivery twice. If the sender dies mid-way, the delivery is due again when the
lease ends. The result is written back only if the row still carries the claimed attempt.
No transaction is open while a POST is in flight.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import http.client
import json
import logging
import socket
import ssl
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from onestop.db import utcnow
from onestop.queueing.state import iso
from onestop.units.models import Unit
from onestop.webhooks.config import WebhookConfig
from onestop.webhooks.models import MAX_ERROR, RETRY_STATES, Webhook, WebhookDelivery
from onestop.webhooks.netguard import BlockedAddress, resolve

log = logging.getLogger(__name__)
USER_AGENT = "onestop-webhooks/1"
MAX_RESPONSE_READ = 512


@dataclass(frozen=True)
class Claimed:
    """A delivery this worker holds, with what it needs to send it."""

    id: int
    webhook_id: int
    event: str
    url: str
    secret: str
    unit_code: str
    payload: dict[str, Any]
    created_at: dt.datetime
    attempts: int


@dataclass(frozen=True)
class Attempt:
    """What one POST gave: the HTTP status (None without an answer) and an error text."""

    status: int | None
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


@dataclass
class PassResult:
    delivered: int = 0
    failed: int = 0
    dead: int = 0
    skipped: int = 0
    ids: list[int] = field(default_factory=list)

    def add(self, state: str, delivery_id: int) -> None:
        setattr(self, state, getattr(self, state) + 1)
        self.ids.append(delivery_id)


Sender = Callable[[str, bytes, dict[str, str], WebhookConfig], Attempt]


# --- the message --------------------------------------------------------------------------


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """``sha256=`` + hex HMAC-SHA256 of ``timestamp + "." + body`` under ``secret``."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def body_of(claimed: Claimed) -> bytes:
    message = {"id": claimed.id, "event": claimed.event, "at": iso(claimed.created_at),
               "unit": claimed.unit_code, "data": claimed.payload}
    return json.dumps(message, ensure_ascii=False, separators=(",", ":")).encode()


def headers_for(claimed: Claimed, body: bytes, now: dt.datetime) -> dict[str, str]:
    timestamp = str(int(now.timestamp()))
    return {"Content-Type": "application/json; charset=utf-8", "User-Agent": USER_AGENT,
            "X-Onestop-Event": claimed.event, "X-Onestop-Delivery": str(claimed.id),
            "X-Onestop-Timestamp": timestamp,
            "X-Onestop-Signature": signature(claimed.secret, timestamp, body)}


# --- the wire -----------------------------------------------------------------------------


def _connect_any(addresses: list[str], port: int, timeout: float) -> socket.socket:
    """The first of the checked addresses that answers (dual-stack names: ::1 and 127.0.0.1)."""
    error: OSError = OSError("no address")
    for address in addresses:
        try:
            return socket.create_connection((address, port), timeout)
        except OSError as exc:
            error = exc
    raise error


class _PinnedHTTP(http.client.HTTPConnection):
    """Connects only to addresses checked beforehand; ``Host`` stays the URL's host."""

    def __init__(self, host: str, port: int, addresses: list[str], timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self.addresses, self.seconds = addresses, timeout

    def connect(self) -> None:
        self.sock = _connect_any(self.addresses, self.port, self.seconds)


class _PinnedHTTPS(http.client.HTTPSConnection):
    def __init__(self, host: str, port: int, addresses: list[str], timeout: float,
                 context: ssl.SSLContext) -> None:
        super().__init__(host, port, timeout=timeout, context=context)
        self.addresses, self.seconds, self.tls = addresses, timeout, context

    def connect(self) -> None:
        raw = _connect_any(self.addresses, self.port, self.seconds)
        self.sock = self.tls.wrap_socket(raw, server_hostname=self.host)


def _connection(url: str, config: WebhookConfig) -> tuple[http.client.HTTPConnection, str]:
    parts = urlsplit(url)
    host = parts.hostname or ""
    https = parts.scheme.lower() == "https"
    port = parts.port or (443 if https else 80)
    addresses = resolve(host, port, config.allow_loopback)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    if https:
        context = ssl.create_default_context(cafile=config.ca_file or None)
        return _PinnedHTTPS(host, port, addresses, config.timeout_s, context), target
    return _PinnedHTTP(host, port, addresses, config.timeout_s), target


def _error_text(exc: BaseException) -> str:
    if isinstance(exc, BlockedAddress):
        return f"blocked_address: {exc}"
    if isinstance(exc, socket.gaierror):
        return f"dns_error: {exc}"
    if isinstance(exc, TimeoutError | socket.timeout):
        return "timeout"
    if isinstance(exc, ConnectionRefusedError):
        return "connection_refused"
    if isinstance(exc, ssl.SSLError | ssl.CertificateError):
        return f"tls_error: {exc}"
    if isinstance(exc, http.client.HTTPException):
        return f"bad_response: {type(exc).__name__} {exc}"
    return f"connection_error: {type(exc).__name__} {exc}"


def post(url: str, body: bytes, headers: dict[str, str], config: WebhookConfig) -> Attempt:
    """POST ``body`` to ``url`` (no redirects, ``config.timeout_s`` per network operation)."""
    conn: http.client.HTTPConnection | None = None
    try:
        conn, target = _connection(url, config)
        conn.request("POST", target, body=body, headers={**headers, "Connection": "close"})
        response = conn.getresponse()
        snippet = response.read(MAX_RESPONSE_READ)
    except Exception as exc:  # noqa: BLE001 - every failure is recorded on the delivery
        return Attempt(None, _error_text(exc))
    finally:
        if conn is not None:
            conn.close()
    if 200 <= response.status < 300:
        return Attempt(response.status)
    text = snippet.decode("utf-8", "replace").strip()
    return Attempt(response.status, f"http_{response.status}" + (f": {text}" if text else ""))


# --- claim, record ------------------------------------------------------------------------


def _due_query(now: dt.datetime) -> Any:
    active = select(Webhook.id).where(Webhook.active.is_(True))
    return (WebhookDelivery.state.in_(RETRY_STATES), WebhookDelivery.next_attempt_at <= now,
            WebhookDelivery.webhook_id.in_(active))


def due(factory: sessionmaker[Session], now: dt.datetime, limit: int) -> list[tuple[int, int]]:
    """``(delivery_id, webhook_id)`` of deliveries due at ``now``, oldest first."""
    with factory() as session:
        rows = session.execute(select(WebhookDelivery.id, WebhookDelivery.webhook_id)
                               .where(*_due_query(now)).order_by(WebhookDelivery.id).limit(limit)).all()
        session.commit()
    return [(int(r[0]), int(r[1])) for r in rows]


def next_due_at(factory: sessionmaker[Session]) -> dt.datetime | None:
    """When the next delivery falls due (None when nothing waits)."""
    with factory() as session:
        when = session.scalar(select(func.min(WebhookDelivery.next_attempt_at))
                              .where(WebhookDelivery.state.in_(RETRY_STATES)))
        session.commit()
    return when if isinstance(when, dt.datetime) else None


def claim(factory: sessionmaker[Session], delivery_id: int, now: dt.datetime,
          config: WebhookConfig) -> Claimed | None:
    """Take the delivery for one attempt (compare-and-set), or None if it is not due any
    more (another worker took it, it was sent, its webhook was deactivated)."""
    lease = now + dt.timedelta(seconds=config.lease_s)
    with factory() as session:
        result = session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.id == delivery_id, *_due_query(now))
            .values(attempts=WebhookDelivery.attempts + 1, next_attempt_at=lease, last_attempt_at=now)
            .execution_options(synchronize_session=False))
        if result.rowcount != 1:  # type: ignore[attr-defined]
            session.rollback()
            return None
        row = session.execute(
            select(WebhookDelivery, Webhook.url, Webhook.secret, Unit.code)
            .join(Webhook, Webhook.id == WebhookDelivery.webhook_id).join(Unit, Unit.id == Webhook.unit_id)
            .where(WebhookDelivery.id == delivery_id)).one()
        d = row[0]
        claimed = Claimed(id=d.id, webhook_id=d.webhook_id, event=d.event, url=row[1], secret=row[2],
                          unit_code=row[3], payload=dict(d.payload or {}), created_at=d.created_at,
                          attempts=d.attempts)
        session.commit()
    return claimed


def outcome(attempt: Attempt, attempts: int, now: dt.datetime, config: WebhookConfig) -> dict[str, Any]:
    """The columns after an attempt: delivered, failed (with the next time), or dead."""
    values: dict[str, Any] = {"last_status_code": attempt.status, "last_error": attempt.error[:MAX_ERROR]}
    if attempt.ok:
        return {**values, "state": "delivered", "delivered_at": now, "next_attempt_at": None}
    if attempts >= config.max_attempts:
        return {**values, "state": "dead", "next_attempt_at": None}
    return {**values, "state": "failed",
            "next_attempt_at": now + dt.timedelta(seconds=config.backoff(attempts))}


def record(factory: sessionmaker[Session], claimed: Claimed, attempt: Attempt, now: dt.datetime,
           config: WebhookConfig) -> str | None:
    """Write the attempt's outcome; None if the claim was lost meanwhile (lease over)."""
    values = outcome(attempt, claimed.attempts, now, config)
    with factory() as session:
        result = session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.id == claimed.id, WebhookDelivery.attempts == claimed.attempts,
                   WebhookDelivery.state.in_(RETRY_STATES))
            .values(**values).execution_options(synchronize_session=False))
        session.commit()
    if result.rowcount != 1:  # type: ignore[attr-defined]
        log.warning("webhook delivery %s: result of attempt %s not recorded (claim lost)",
                    claimed.id, claimed.attempts)
        return None
    return str(values["state"])


# --- a pass -------------------------------------------------------------------------------


def send_one(factory: sessionmaker[Session], delivery_id: int, now: dt.datetime, config: WebhookConfig,
             sender: Sender = post) -> str | None:
    """Claim, POST, record one delivery: its new state, or None if it was not claimed."""
    claimed = claim(factory, delivery_id, now, config)
    if claimed is None:
        return None
    body = body_of(claimed)
    attempt = sender(claimed.url, body, headers_for(claimed, body, now), config)
    if not attempt.ok:
        log.info("webhook %s delivery %s (%s) attempt %s failed: %s", claimed.webhook_id, claimed.id,
                 claimed.event, claimed.attempts, attempt.error)
    return record(factory, claimed, attempt, now, config)


def _send_group(factory: sessionmaker[Session], ids: list[int], now: dt.datetime, config: WebhookConfig,
                sender: Sender) -> list[tuple[int, str]]:
    """One webhook's due deliveries in order; after a failure the rest wait for a later pass
    (a receiver that is down costs one timeout per pass, not one per delivery)."""
    done: list[tuple[int, str]] = []
    for delivery_id in ids:
        state = send_one(factory, delivery_id, now, config, sender)
        done.append((delivery_id, state or "skipped"))
        if state in ("failed", "dead"):
            done.extend((rest, "skipped") for rest in ids[len(done):])
            break
    return done


def run_pass(factory: sessionmaker[Session], config: WebhookConfig, now: dt.datetime | None = None,
             sender: Sender = post) -> PassResult:
    """Send every delivery due at ``now`` (default: the clock) once; safe to run from several
    threads, processes or instances at the same time (``claim``)."""
    now = now or utcnow()
    groups: dict[int, list[int]] = defaultdict(list)
    for delivery_id, webhook_id in due(factory, now, config.batch):
        groups[webhook_id].append(delivery_id)
    result = PassResult()
    if not groups:
        return result
    workers = min(config.concurrency, len(groups))
    if workers == 1:
        for ids in groups.values():
            for delivery_id, state in _send_group(factory, ids, now, config, sender):
                result.add(state, delivery_id)
        return result
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="webhook") as pool:
        futures = [pool.submit(_send_group, factory, ids, now, config, sender) for ids in groups.values()]
        for future in futures:
            for delivery_id, state in future.result():
                result.add(state, delivery_id)
    return result
