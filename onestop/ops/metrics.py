"""Prometheus metrics at ``GET /metrics`` (``prometheus-client``), one set per process.

Each instance (``onestop@PORT``) is scraped on its own port; nothing is shared between
processes. Counted only for committed work (a rolled-back issue counts nothing):

- ``onestop_tickets_issued_total{unit, service}`` and ``onestop_calls_total{unit, service,
  recall}`` (unit code, service code);
- ``onestop_call_emit_seconds``: from the engine's call (the ``at`` of ``ticket.called``) to
  its Socket.IO emit on ``/display`` after the commit (a hook in ``realtime/hub.py``);
- ``onestop_http_errors_total{status_class}``: answers with a 4xx or 5xx status;
- read at scrape time: ``onestop_display_clients`` (clients on ``/display`` of this instance)
  and ``onestop_printer_state{unit, device, name, kind, state}`` (1 per printing device, its
  last known state from ``Device.settings["printer_status"]``; an agent not connected is
  ``offline``);
- ``onestop_province_pushes{state}``: pushes to the province's system ``pending`` and
  ``dead`` (one grouped count per scrape; only with ``PROVINCE_URL``);
- ``onestop_event_loop_lag_seconds`` / ``_max_seconds`` (under ``onestop serve``),
  ``onestop_socket_guard_total{action}`` and ``onestop_connections_refused_total{reason}``:
  whether one client is holding the worker, and what was done about it;
- the process collector (CPU, memory, open files) and Python's GC.

Access: from the loopback address without proxy headers (scrape each instance's port, not
nginx), or anywhere with ``Authorization: Bearer $ONESTOP_METRICS_TOKEN``.
"""

from __future__ import annotations

import datetime as dt
import hmac
import ipaddress
import logging
from collections.abc import Iterator
from typing import Any

from flask import Blueprint, Flask, Response, current_app, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    gc_collector,
    generate_latest,
    platform_collector,
    process_collector,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from onestop import signals
from onestop.accounts.models import Device
from onestop.extensions import db, socketio
from onestop.notify import delivery
from onestop.queueing.catalog import service_info
from onestop.realtime import events as ev
from onestop.realtime import fanout, guard
from onestop.units.models import Unit

log = logging.getLogger(__name__)
bp = Blueprint("ops_metrics", __name__)

REGISTRY = CollectorRegistry()
process_collector.ProcessCollector(registry=REGISTRY)
platform_collector.PlatformCollector(registry=REGISTRY)
gc_collector.GCCollector(registry=REGISTRY)

TICKETS_ISSUED = Counter("onestop_tickets_issued", "Tickets issued (committed), by unit and service code",
                         ["unit", "service"], registry=REGISTRY)
CALLS = Counter("onestop_calls", "Tickets called (committed), by unit and service code; recall=true "
                "for a call again", ["unit", "service", "recall"], registry=REGISTRY)
CALL_EMIT_SECONDS = Histogram(
    "onestop_call_emit_seconds", "From the engine's call to the ticket.called emit on /display",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0), registry=REGISTRY)
DISPLAY_CLIENTS = Gauge("onestop_display_clients", "Socket.IO clients connected to /display here",
                        registry=REGISTRY)
PRINTER_STATE = Gauge("onestop_printer_state", "1 per printing device, labelled with its last known "
                      "printer state", ["unit", "device", "name", "kind", "state"], registry=REGISTRY)
HTTP_ERRORS = Counter("onestop_http_errors", "HTTP answers with a 4xx or 5xx status, by class",
                      ["status_class"], registry=REGISTRY)
for _class in ("4xx", "5xx"):
    HTTP_ERRORS.labels(_class)
PROVINCE_PUSHES = Gauge("onestop_province_pushes", "Pushes to the province's dossier system waiting "
                        "(pending) or given up (dead); only with PROVINCE_URL", ["state"], registry=REGISTRY)

NOTIFY_MESSAGES = Counter("onestop_notify_messages", "Messages to citizens by channel (sms, zns, email; "
                          "- when dropped before sending) and outcome (sent, failed, dead, dropped, "
                          "fallback: ZNS failed, SMS tried)", ["channel", "outcome"], registry=REGISTRY)

delivery.OBSERVERS.append(lambda channel, outcome: NOTIFY_MESSAGES.labels(channel, outcome).inc())

_PENDING = "ops_metrics"  # session.info key: counts waiting for the commit


# -- committed counts ---------------------------------------------------------------------------


def _labels(session: Session, ticket: Any) -> tuple[str, str]:
    unit = session.get(Unit, ticket.unit_id)  # in the identity map: the engine just used it
    service = service_info(session, ticket.unit_id, ticket.service_id)
    return (unit.code if unit else str(ticket.unit_id)), service.code


def _on_issued(session: Session, ticket: Any, **_: Any) -> None:
    session.info.setdefault(_PENDING, []).append(
        (TICKETS_ISSUED, _labels(session, ticket)))


def _on_called(session: Session, ticket: Any, recall: bool = False, **_: Any) -> None:
    unit, service = _labels(session, ticket)
    session.info.setdefault(_PENDING, []).append((CALLS, (unit, service, "true" if recall else "false")))


def _after_commit(session: Session) -> None:
    if session.in_nested_transaction():
        return
    for metric, labels in session.info.pop(_PENDING, None) or ():
        metric.labels(*labels).inc()


def _after_rollback(session: Session) -> None:
    if not session.in_nested_transaction():
        session.info.pop(_PENDING, None)


def observe_emit(name: str, payload: dict[str, Any]) -> None:
    """Hook of ``realtime.hub``: a ``ticket.called`` has just been handed to Socket.IO."""
    if name != ev.TICKET_CALLED or not isinstance(payload.get("at"), str):
        return
    called_at = dt.datetime.fromisoformat(payload["at"].replace("Z", "+00:00"))
    CALL_EMIT_SECONDS.observe(max(0.0, (dt.datetime.now(dt.UTC) - called_at).total_seconds()))


def _count_http_error(response: Response) -> Response:
    if response.status_code >= 400:
        HTTP_ERRORS.labels(f"{response.status_code // 100}xx").inc()
    return response


# -- read at scrape time ------------------------------------------------------------------------


class _FramesSent:
    """Socket.IO frames sent by this process, by path: ``direct`` (written by the emitting
    greenlet), ``queued`` (engine.io's queue and writer), ``partial`` (direct frames the
    kernel took in part, their rest sent first by the writer; onestop/realtime/fanout.py)."""

    def collect(self) -> Iterator[CounterMetricFamily]:
        family = CounterMetricFamily("onestop_socket_frames", "Socket.IO frames sent, by path",
                                     labels=["path"])
        for path, count in fanout.TOTALS.items():
            family.add_metric([path], count)
        yield family


REGISTRY.register(_FramesSent())


class _LoopAndGuards:
    """The event loop's lag (``onestop/ops/looplag.py``: the last sample and the worst of the
    last minute) and what protects the loop from one client: Socket.IO packets dropped or
    connections cut by the guard (``onestop/realtime/guard.py``), HTTP connections refused
    over the per-address cap or closed for sending their headers too slowly
    (``onestop/server.py``)."""

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        from onestop import server
        from onestop.ops.looplag import MONITOR

        if MONITOR.running:
            yield GaugeMetricFamily("onestop_event_loop_lag_seconds", "How late the event loop "
                                    "woke a 0.25 s sleep, last sample", value=MONITOR.latest())
            yield GaugeMetricFamily("onestop_event_loop_lag_max_seconds", "Worst event loop lag "
                                    "of the last minute", value=MONITOR.worst())
        guard_family = CounterMetricFamily("onestop_socket_guard", "Socket.IO packets dropped "
                                           "(events to public namespaces), connections cut over "
                                           "the packet budget, snapshots reused", labels=["action"])
        for action, count in guard.TOTALS.items():
            guard_family.add_metric([action], count)
        yield guard_family
        limits = CounterMetricFamily("onestop_connections_refused", "HTTP connections refused "
                                     "over the per-address cap or closed for slow headers",
                                     labels=["reason"])
        limits.add_metric(["per_address_cap"], server.LIMITS.refused + server.FORWARDED.refused)
        limits.add_metric(["header_timeout"], server.LIMITS.timed_out)
        yield limits


REGISTRY.register(_LoopAndGuards())


def display_clients() -> int:
    server = getattr(socketio, "server", None)
    if server is None:
        return 0
    manager = server.manager
    return sum(1 for sid, _ in manager.get_participants(ev.DISPLAY_NS, None)
               if manager.is_connected(sid, ev.DISPLAY_NS))


def printer_states(session: Session) -> list[tuple[str, Device]]:
    """(unit code, device) of every device that prints: kiosks, agents, any with a printer URI."""
    rows = session.execute(
        select(Unit.code, Device).join(Unit, Unit.id == Device.unit_id).where(
            Device.revoked_at.is_(None),
            Device.kind.in_(("kiosk", "agent")) | Device.printer_uri.is_not(None)).order_by(Device.id))
    return [(code, device) for code, device in rows]


def _device_state(device: Device) -> str:
    settings = device.settings or {}
    if device.kind == "agent" and not (settings.get("agent") or {}).get("connected"):
        return "offline"
    return str((settings.get("printer_status") or {}).get("state") or "unknown")


def _refresh_gauges() -> None:
    DISPLAY_CLIENTS.set(display_clients())
    PRINTER_STATE.clear()
    try:
        for unit_code, device in printer_states(db.session()):
            PRINTER_STATE.labels(unit_code, str(device.id), device.name, device.kind,
                                 _device_state(device)).set(1)
        db.session.commit()
    except Exception:  # noqa: BLE001 - counters still go out when the database is down
        db.session.rollback()
        log.warning("metrics: printer states unavailable", exc_info=True)
    _refresh_province()


def _refresh_province() -> None:
    """Pending and dead pushes to the province: one grouped count, nothing without a province."""
    from onestop.integrations.config import ProvinceConfig
    from onestop.integrations.outbox import counts

    PROVINCE_PUSHES.clear()
    if not ProvinceConfig.of(current_app.config).enabled:
        return
    try:
        found = counts(db.session())
        db.session.commit()
    except Exception:  # noqa: BLE001 - counters still go out when the database is down
        db.session.rollback()
        log.warning("metrics: province pushes unavailable", exc_info=True)
        return
    for state in ("pending", "dead"):
        PROVINCE_PUSHES.labels(state).set(found[state])


def _allowed() -> bool:
    token = str(current_app.config.get("METRICS_TOKEN") or "")
    given = request.headers.get("Authorization", "")
    if token and given.startswith("Bearer ") and hmac.compare_digest(given[7:].strip(), token):
        return True
    if any(h in request.headers for h in ("X-Forwarded-For", "Forwarded", "X-Real-IP")):
        return False  # came through a proxy: the peer address says nothing about the client
    try:
        return ipaddress.ip_address(request.remote_addr or "").is_loopback
    except ValueError:
        return False


@bp.get("/metrics")
def metrics() -> Any:
    """Prometheus text format; loopback or the metrics bearer token only."""
    if not _allowed():
        from onestop.api.errors import envelope

        return envelope("forbidden", 403)
    _refresh_gauges()
    return Response(generate_latest(REGISTRY), mimetype=CONTENT_TYPE_LATEST)


def init_app(app: Flask) -> None:
    from onestop.realtime import hub

    signals.ticket_issued.connect(_on_issued, weak=False)
    signals.ticket_called.connect(_on_called, weak=False)
    if not event.contains(db.session_factory, "after_commit", _after_commit):
        event.listen(db.session_factory, "after_commit", _after_commit)
        event.listen(db.session_factory, "after_rollback", _after_rollback)
    if observe_emit not in hub.emit_hooks:
        hub.emit_hooks.append(observe_emit)
    app.after_request(_count_http_error)
