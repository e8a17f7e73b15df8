"""``/agent``: the Socket.IO namespace print agents (:mod:`hardware.agent`) connect to.

Only a device of kind ``agent`` gets in (``auth={"token": ...}``, its device token). On
every connect the server expires overdue jobs, then sends each pending job of that agent
(``job.print``); new jobs follow as they are queued (room ``a{device_id}``). The agent
answers ``job.ack`` per job, recorded once (compare-and-set; a repeated ack is answered
``{"recorded": false}``), and reports ``agent.status`` periodically. Every event checks
that the device is still valid: a revoked agent is disconnected.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from flask import request
from flask_socketio import ConnectionRefusedError, Namespace, SocketIO, disconnect, emit, join_room

from hardware.printing import PrinterState
from onestop.accounts.auth import device_for_token
from onestop.accounts.models import Device
from onestop.db import utcnow
from onestop.extensions import db
from onestop.printing import service
from onestop.realtime import events as ev

log = logging.getLogger(__name__)
STATES = {s.value for s in PrinterState}


def _text(value: Any, limit: int) -> str:
    return value[:limit] if isinstance(value, str) else ""


class AgentNamespace(Namespace):
    """Print agents: authenticated by device token; jobs out, acks and status in."""

    def __init__(self, namespace: str) -> None:
        super().__init__(namespace)
        self._agents: dict[str, int] = {}  # sid -> device id (connections live in this process)
        self._lock = threading.Lock()

    def trigger_event(self, event: str, *args: Any) -> Any:
        # event names are noun.verb: "job.ack" is handled by on_job_ack
        return super().trigger_event(event.replace(".", "_") if event else event, *args)

    def _agent(self) -> Device | None:
        with self._lock:
            device_id = self._agents.get(request.sid)  # type: ignore[attr-defined]
        device = db.session.get(Device, device_id) if device_id else None
        if device is None or device.revoked_at is not None or device.kind != "agent":
            disconnect()
            return None
        return device

    def on_connect(self, auth: Any = None) -> None:
        token = auth.get("token") if isinstance(auth, dict) else None
        device = device_for_token(db.session(), token[:200]) if isinstance(token, str) and token else None
        if device is None or device.kind != "agent":
            db.session.rollback()
            raise ConnectionRefusedError("unauthorized")
        now = utcnow()
        with self._lock:
            self._agents[request.sid] = device.id  # type: ignore[attr-defined]
        join_room(ev.agent_room(device.id))
        join_room(ev.device_room(device.id))
        service.set_agent_connected(db.session(), device, True, now)
        messages = service.pending_for_agent(db.session(), device, now)
        db.session.commit()
        for message in messages:  # to this client only, after the commit
            emit(ev.JOB_PRINT, message)
        log.info("print agent %s connected, %d job(s) waiting", device.id, len(messages))

    def on_disconnect(self, reason: Any = None) -> None:
        with self._lock:
            device_id = self._agents.pop(request.sid, None)  # type: ignore[attr-defined]
        device = db.session.get(Device, device_id) if device_id else None
        if device is None:
            return
        still = self._connected_elsewhere(device.id)
        if not still:
            service.set_agent_connected(db.session(), device, False, utcnow())
        db.session.commit()

    def _connected_elsewhere(self, device_id: int) -> bool:
        with self._lock:
            return device_id in self._agents.values()

    def on_job_ack(self, data: Any = None) -> dict[str, Any]:
        """``{job_id, state, error?, detail?}`` -> ``{recorded}``: True only the first time."""
        agent = self._agent()
        if agent is None:
            return {"recorded": False, "error": "unauthorized"}
        if not isinstance(data, dict) or not isinstance(data.get("job_id"), int) \
                or data.get("state") not in service.ACK_STATES:
            return {"recorded": False, "error": "bad_request"}
        error = _text(data.get("error"), 40) or None
        job = service.ack(db.session(), agent, int(data["job_id"]), str(data["state"]), utcnow(),
                          error=error, detail=_text(data.get("detail"), 300))
        db.session.commit()
        return {"recorded": job is not None}

    def on_agent_status(self, data: Any = None) -> dict[str, Any]:
        """``{state, detail}``: the agent's printer as it last answered."""
        agent = self._agent()
        if agent is None:
            return {"ok": False, "error": "unauthorized"}
        state = data.get("state") if isinstance(data, dict) else None
        if state not in STATES:
            return {"ok": False, "error": "bad_request"}
        now = utcnow()
        if not service.agent_online(agent, now, stale_s=None):  # e.g. its disconnect was seen by
            service.set_agent_connected(db.session(), agent, True, now)  # another instance
        service.store_status(db.session(), agent, str(state), _text(data.get("detail"), 200), now)
        service.expire_due(db.session(), now, unit_id=agent.unit_id)
        db.session.commit()
        return {"ok": True}


def register(socketio: SocketIO) -> None:
    """Add the ``/agent`` namespace once per process."""
    if not any(h.namespace == ev.AGENT_NS for h in socketio.namespace_handlers):
        socketio.on_namespace(AgentNamespace(ev.AGENT_NS))

