"""The first adapter: JSON over HTTP to the province's adapter endpoint (``PROVINCE_URL``).

Every request is ``POST PROVINCE_URL`` with ``Content-Type: application/json`` and
``Authorization: Bearer PROVINCE_TOKEN``; the body names the service, as in the national
portal's guide:

- status read: ``{"service": "TraCuuHoSo", "mahoso": CODE}`` -> ``{"error_code": 0,
  "result": [{"MaHoSo", "TrangThaiHoSo", "NgayTiepNhan", "NgayHenTra", "TenTTHC", ...}]}``
  (an empty ``result``: unknown code);
- push: ``{"service": "DongBoHoSoMC", "isUpdating": "True"|"False", "data": [record]}`` ->
  ``{"error_code": 0, ...}``.

Success is a 2xx answer whose JSON ``error_code`` is 0 (``0``, ``"0"`` or ``"00"``).
The whole exchange (connect, send, headers, body) has ``PROVINCE_TIMEOUT_S`` (2 s) at most:
the socket's timeout is set to what is left before each step. The connection is made by the
webhooks' pinned connection (onestop/webhooks/delivery.py): link-local, multicast and
unspecified addresses are refused; loopback and private addresses are allowed, because the
URL is set by the operator, not through the API (docs/provincial-link.md). No redirects.
"""

from __future__ import annotations

import http.client
import json
import logging
import time
from typing import Any
from zoneinfo import ZoneInfo

from onestop.integrations.adapter import ProvincialStatus, PushAnswer
from onestop.integrations.config import ProvinceConfig
from onestop.integrations.mapping import parse_portal_date
from onestop.webhooks.config import WebhookConfig
from onestop.webhooks.delivery import _connection, _error_text

log = logging.getLogger(__name__)
USER_AGENT = "onestop-province/1"
MAX_ANSWER = 256 * 1024  # a status answer is a few hundred bytes; more is not read


class DeadlineExceeded(TimeoutError):
    """The whole exchange took longer than its time limit."""


def _left(deadline: float) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise DeadlineExceeded("timeout")
    return left


def _read_all(conn: http.client.HTTPConnection, response: http.client.HTTPResponse, deadline: float) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while size <= MAX_ANSWER:
        if conn.sock is not None:
            conn.sock.settimeout(_left(deadline))
        chunk = response.read(8192)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


def exchange(config: ProvinceConfig, body: dict[str, Any]) -> tuple[int | None, bytes, str]:
    """POST ``body`` as JSON: ``(status, answer bytes, error)``; status None without an answer."""
    headers = {"Authorization": f"Bearer {config.token}"} if config.token else {}
    return post_json(config.url, body, headers, timeout_s=config.timeout_s, ca_file=config.ca_file,
                     user_agent=USER_AGENT)


def post_json(url: str, body: dict[str, Any], headers: dict[str, str], *, timeout_s: float,
              ca_file: str = "", user_agent: str = USER_AGENT) -> tuple[int | None, bytes, str]:
    """POST ``body`` as JSON to an operator-set URL within ``timeout_s`` in all: ``(status,
    answer bytes, error)``; status None without an answer (also the SMS and ZNS channels)."""
    deadline = time.monotonic() + timeout_s
    wire = WebhookConfig(timeout_s=timeout_s, allow_loopback=True, ca_file=ca_file)
    data = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
    headers = {"Content-Type": "application/json; charset=utf-8", "Accept": "application/json",
               "User-Agent": user_agent, "Connection": "close", **headers}
    conn: http.client.HTTPConnection | None = None
    try:
        conn, target = _connection(url, wire)
        conn.connect()
        assert conn.sock is not None
        conn.sock.settimeout(_left(deadline))
        conn.request("POST", target, body=data, headers=headers)
        conn.sock.settimeout(_left(deadline))
        response = conn.getresponse()
        return response.status, _read_all(conn, response, deadline), ""
    except Exception as exc:  # noqa: BLE001 - every failure is an answer: "no answer"
        return None, b"", _error_text(exc)
    finally:
        if conn is not None:
            conn.close()


def _json(answer: bytes) -> dict[str, Any] | None:
    try:
        value = json.loads(answer.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def _error_code_ok(value: Any) -> bool:
    try:
        return int(str(value).strip()) == 0
    except ValueError:
        return False


def _checked(status: int | None, answer: bytes, error: str) -> tuple[dict[str, Any] | None, str]:
    """The answer's JSON object when the province said yes, else None and why."""
    if status is None:
        return None, error
    if not 200 <= status < 300:
        text = answer[:200].decode("utf-8", "replace").strip()
        return None, f"http_{status}" + (f": {text}" if text else "")
    value = _json(answer)
    if value is None:
        return None, "bad_response: not a JSON object"
    if not _error_code_ok(value.get("error_code")):
        message = str(value.get("message") or value.get("error_message") or "")[:200]
        return None, f"error_code {value.get('error_code')!r}" + (f": {message}" if message else "")
    return value, ""


class JsonHttpAdapter:
    """``ProvinceAdapter`` speaking the national portal's JSON over HTTP."""

    def __init__(self, config: ProvinceConfig, tz: ZoneInfo) -> None:
        self.config, self.tz = config, tz

    def get_status(self, code: str) -> ProvincialStatus:
        value, error = _checked(*exchange(self.config, {"service": "TraCuuHoSo", "mahoso": code}))
        if value is None:
            return ProvincialStatus(code, reachable=False, error=error)
        result = value.get("result")
        if not isinstance(result, list):
            return ProvincialStatus(code, reachable=False, error="bad_response: no result list")
        rows = [r for r in result if isinstance(r, dict)]
        row = next((r for r in rows if str(r.get("MaHoSo", "")).strip().upper() == code.upper()),
                   rows[0] if rows else None)
        if row is None:
            return ProvincialStatus(code, reachable=True, found=False)
        status = row.get("TrangThaiHoSo")
        return ProvincialStatus(
            code, reachable=True, found=True,
            status_code=None if status is None else str(status).strip()[:8],
            procedure=str(row.get("TenTTHC") or "")[:500],
            received_at=parse_portal_date(row.get("NgayTiepNhan"), self.tz),
            appointment_at=parse_portal_date(row.get("NgayHenTra"), self.tz))

    def push(self, body: dict[str, Any]) -> PushAnswer:
        status, answer, error = exchange(self.config, body)
        value, error = _checked(status, answer, error)
        if value is None:
            return PushAnswer(False, status, error, answered=status is not None)
        return PushAnswer(True, status)
