"""Socket.IO namespaces: /display (public, read-only) and /counter (authenticated).

Neither namespace accepts a state-changing event: actions go through the HTTP API, where
permissions, CSRF and the transaction boundary live.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from flask import Flask, current_app, request
from flask_login import current_user
from flask_socketio import ConnectionRefusedError, Namespace, SocketIO, emit, join_room
from sqlalchemy import select

from onestop.accounts.auth import device_for_token, user_for_token
from onestop.accounts.engine import touch_device
from onestop.accounts.models import Device, hash_token
from onestop.db import utcnow
from onestop.extensions import db
from onestop.queueing.state import display_state
from onestop.realtime import events as ev
from onestop.realtime.guard import session_snapshot
from onestop.units.models import Unit

log = logging.getLogger(__name__)

MAX_ZONES = 20
DISPLAY_KINDS = ("display", "counter-display")
_DISPLAY_ROOM = re.compile(r"^u(\d+)(?:z(.+))?$")


def user_room(user_id: int) -> str:
    """Every /counter socket of one user: closed when the account is disabled or its
    tokens are revoked (a password reset)."""
    return f"s{user_id}"


def token_room(token_hash: str) -> str:
    """The /counter sockets opened with one API token: closed when it is revoked."""
    return f"k{token_hash[:32]}"


def _arg(auth: Any, key: str) -> str | None:
    if isinstance(auth, dict) and isinstance(auth.get(key), str):
        return str(auth[key])[:200]
    value = request.args.get(key)
    return value[:200] if value else None


def _unit(code: str | None) -> Unit | None:
    code = code or current_app.config.get("DEFAULT_UNIT")
    query = select(Unit).where(Unit.code == code) if code else select(Unit).order_by(Unit.id)
    return db.session.scalars(query.limit(1)).first()


def _device(auth: Any) -> Device | None:
    token = _arg(auth, "token") or request.cookies.get("onestop_device")
    return device_for_token(db.session(), token) if token else None


class DisplayNamespace(Namespace):
    """Public and read-only: what the hall already sees. A snapshot on every (re)connect."""

    def on_connect(self, auth: Any = None) -> None:
        device = _device(auth)
        unit = db.session.get(Unit, device.unit_id) if device else _unit(_arg(auth, "unit"))
        if device is not None and device.kind not in DISPLAY_KINDS:
            device = None  # a kiosk or tablet watches its unit like anyone, without display settings
        if unit is None:
            raise ConnectionRefusedError("unit_not_found")
        zones = [z.strip() for z in (_arg(auth, "zone") or "").split(",") if z.strip()][:MAX_ZONES]
        if device and device.settings.get("zones"):
            zones = list(device.settings["zones"])
        if device:
            touch_device(device, utcnow())
            join_room(ev.device_room(device.id))
        for room in [ev.zone_room(unit.id, z) for z in zones] or [ev.unit_room(unit.id)]:
            join_room(room)
        # a repeated connect on one engine.io session reuses its snapshot (a connect flood
        # costs no query per packet: onestop/realtime/guard.py)
        snapshot = session_snapshot(request.environ, (unit.id, tuple(zones)),
                                    lambda: display_state(db.session(), unit, utcnow(), zones or None))
        if device:
            snapshot["device"] = {"id": device.id, "name": device.name,
                                  "settings": device.settings}
        db.session.commit()
        emit(ev.STATE, snapshot)  # to this client only


class CounterNamespace(Namespace):
    """Staff and counter-bound devices only; pushes queue and counter changes of the unit."""

    def on_connect(self, auth: Any = None) -> None:
        unit_id: int | None
        counter_id: int | None = None
        token = _arg(auth, "token")
        user = current_user if current_user.is_authenticated else (
            user_for_token(db.session(), token, utcnow()) if token else None)
        if user is not None and user.role in ("admin", "manager", "clerk"):
            unit_id = user.unit_id or getattr(_unit(None), "id", None)
            join_room(user_room(user.id))
            if not current_user.is_authenticated and token:
                join_room(token_room(hash_token(token)))
        else:
            device = _device(auth)
            if device is None or device.kind not in ("tablet", "counter-display"):
                raise ConnectionRefusedError("unauthorized")
            unit_id, counter_id = device.unit_id, device.counter_id
            touch_device(device, utcnow())
            join_room(ev.device_room(device.id))
        if unit_id is None:
            raise ConnectionRefusedError("unit_not_found")
        join_room(ev.unit_room(unit_id))
        if counter_id:
            join_room(ev.counter_room(counter_id))
        db.session.commit()


def _display_scope(rooms: list[str]) -> tuple[int, tuple[str, ...]] | None:
    """The unit and zones a /display socket watches, read from the rooms it joined."""
    unit_id, zones = None, []
    for room in rooms:
        match = _DISPLAY_ROOM.match(room or "")
        if match:
            unit_id = int(match.group(1))
            if match.group(2) is not None:
                zones.append(match.group(2))
    return (unit_id, tuple(sorted(zones))) if unit_id is not None else None


def resync_displays(app: Flask, server: Any) -> None:
    """Send every /display socket of this instance a fresh ``state`` snapshot, as on a
    reconnect: after a message-queue outage, the calls made on other instances meanwhile
    never reached them. One snapshot per unit and zones, sent to its sockets only."""
    manager = server.manager
    groups: dict[tuple[int, tuple[str, ...]], list[str]] = {}
    for sid, _eio_sid in list(manager.get_participants(ev.DISPLAY_NS, None)):
        scope = _display_scope(list(manager.get_rooms(sid, ev.DISPLAY_NS)))
        if scope is not None:
            groups.setdefault(scope, []).append(sid)
    with app.app_context():
        try:
            for (unit_id, zones), sids in groups.items():
                unit = db.session.get(Unit, unit_id)
                if unit is not None:
                    snapshot = display_state(db.session(), unit, utcnow(), list(zones) or None)
                    server.emit(ev.STATE, snapshot, to=sids, namespace=ev.DISPLAY_NS,
                                ignore_queue=True)
        except Exception:  # the database may be down too: the displays resync on reconnect
            log.exception("could not resynchronise the displays")
        finally:
            db.session.remove()
    log.info("resynchronised %d display socket(s)", sum(len(s) for s in groups.values()))


def register(socketio: SocketIO) -> None:
    """Register once per process: init_app re-applies stored handlers to a new server."""
    from onestop.printing.agent_ns import register as register_agent_namespace

    register_agent_namespace(socketio)  # /agent: print agents (idempotent)
    if any(h.namespace == ev.DISPLAY_NS for h in socketio.namespace_handlers):
        return
    socketio.on_namespace(DisplayNamespace(ev.DISPLAY_NS))
    socketio.on_namespace(CounterNamespace(ev.COUNTER_NS))
