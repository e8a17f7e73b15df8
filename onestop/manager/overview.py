"""``/manager/overview``: one live tile per unit, for supervisors and admins (issue 22 item 5).

The page is a shell: ``static/manager/overview.js`` loads ``GET /api/v1/overview`` and
draws a tile per unit, then listens on the ``/overview`` Socket.IO namespace.

``/overview`` (authenticated: supervisors and admins, by session cookie or API token) joins
the room ``o{unit_id}`` of every unit the user may see (``visible_units``) and nothing else:
a supervisor never hears of another unit. It accepts no client event. After a commit that
changed a unit's queue, counters or ratings, the unit's room gets ``overview.changed
{unit_id, at}`` at most once per ``OVERVIEW_THROTTLE_S`` seconds (default 2): the first
change at once, the ones that follow within the interval in one trailing event at its end.
The page then reloads the tiles of the units named (``?units=CODE,...``): each tile is
computed by the API in the viewer's language and permissions, never pushed as is.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from flask import Flask, abort, render_template, request
from flask_babel import gettext as _
from flask_login import current_user, login_required
from flask_socketio import ConnectionRefusedError, Namespace, join_room
from sqlalchemy import event
from sqlalchemy.orm import Session

from onestop import signals
from onestop.accounts.auth import user_for_token
from onestop.accounts.models import hash_token
from onestop.api.common import resolve_unit
from onestop.api.overview import WATCHERS, visible_units
from onestop.db import utcnow
from onestop.extensions import db, socketio
from onestop.manager import bp, texts
from onestop.queueing.state import iso
from onestop.realtime import instances
from onestop.realtime.namespaces import token_room, user_room

log = logging.getLogger(__name__)

NAMESPACE = "/overview"
CHANGED = "overview.changed"
_UNITS = "overview_units"  # session.info: the units a transaction touched
_DISOWNED = "overview_disowned"  # session.info: rooms of a disabled user or a revoked token


def unit_room(unit_id: int) -> str:
    return f"o{unit_id}"


def page_texts() -> dict[str, Any]:
    return {**texts(),
            "waiting": _("Đang chờ"), "longest": _("Chờ lâu nhất"), "counters_open": _("Quầy mở"),
            "served_today": _("Đã phục vụ hôm nay"), "satisfaction": _("Hài lòng hôm nay"),
            "alarms": _("Cảnh báo"), "late": _("Chờ quá mục tiêu"),
            "no_units": _("Tài khoản này chưa được giao đơn vị nào."),
            "unreachable": _("không phản hồi")}


@bp.get("/overview")
@login_required
def overview() -> str:
    if current_user.role not in WATCHERS:
        abort(403)
    return render_template("manager/overview.html", unit=resolve_unit(), texts=page_texts())


class OverviewNamespace(Namespace):
    """Read-only: the rooms of the units the user may see."""

    def on_connect(self, auth: Any = None) -> None:
        token = auth.get("token") if isinstance(auth, dict) and isinstance(auth.get("token"), str) else None
        user = current_user if current_user.is_authenticated else (
            user_for_token(db.session(), token[:200], utcnow()) if token else None)
        if user is None or user.role not in WATCHERS:
            db.session.rollback()
            raise ConnectionRefusedError("unauthorized")
        join_room(user_room(user.id))
        if not current_user.is_authenticated and token:
            join_room(token_room(hash_token(token[:200])))  # closed when the token is revoked
        for unit in visible_units(db.session(), user):
            join_room(unit_room(unit.id))
        db.session.rollback()
        log.debug("overview socket of user %s from %s", user.id, request.remote_addr)


class Throttle:
    """``overview.changed`` per unit: at once, then at most one per ``interval`` seconds."""

    def __init__(self, interval: float = 2.0) -> None:
        self.interval = interval
        self.last: dict[int, float] = {}
        self.pending: set[int] = set()
        self.lock = threading.Lock()
        self.generation = 0  # a new app (tests make many) forgets the old one's pending sends

    def reset(self, interval: float) -> None:
        with self.lock:
            self.interval = interval
            self.last.clear()
            self.pending.clear()
            self.generation += 1

    def touch(self, unit_ids: set[int]) -> None:
        for unit_id in unit_ids:
            with self.lock:
                if unit_id in self.pending:
                    continue
                wait = self.last.get(unit_id, float("-inf")) + self.interval - time.monotonic()
                if wait > 0:
                    self.pending.add(unit_id)
                else:
                    self.last[unit_id] = time.monotonic()
            if wait > 0:
                socketio.start_background_task(self._later, unit_id, wait, self.generation)
            else:
                self._send(unit_id)

    def _later(self, unit_id: int, wait: float, generation: int) -> None:
        socketio.sleep(wait)
        with self.lock:
            if generation != self.generation:
                return
            self.pending.discard(unit_id)
            self.last[unit_id] = time.monotonic()
        self._send(unit_id)

    @staticmethod
    def _send(unit_id: int) -> None:
        try:
            socketio.emit(CHANGED, {"unit_id": unit_id, "at": iso(utcnow())}, namespace=NAMESPACE,
                          to=unit_room(unit_id))
        except Exception:  # a message-queue hiccup: the page reloads every 30 s anyway
            log.exception("overview: could not announce unit %s", unit_id)


throttle = Throttle()


def _mark(session: Session, unit_id: int | None) -> None:
    if unit_id is not None:
        session.info.setdefault(_UNITS, set()).add(int(unit_id))


def _disowned(session: Session, user_id: int, token_hash: str | None = None, **_kwargs: Any) -> None:
    """A disabled user or a revoked token: its /overview sockets close after the commit."""
    room = token_room(token_hash) if token_hash else user_room(user_id)
    session.info.setdefault(_DISOWNED, set()).add(room)


def _after_commit(session: Session) -> None:
    if session.in_nested_transaction():  # only the outermost commit makes changes visible
        return
    units = session.info.pop(_UNITS, None)
    if units:
        throttle.touch(units)
    for room in sorted(session.info.pop(_DISOWNED, None) or ()):
        try:
            instances.disconnect_room(socketio.server, NAMESPACE, room)
        except Exception:  # the revocation stands; the socket goes at its next connect
            log.exception("overview: could not disconnect room %s", room)


def _after_rollback(session: Session) -> None:
    session.info.pop(_UNITS, None)
    session.info.pop(_DISOWNED, None)


def _touched(session: Session, **kwargs: Any) -> None:
    """A signal's unit: its ``unit_id``, or its ticket's, counter's or rating's."""
    if "unit_id" in kwargs:
        _mark(session, kwargs["unit_id"])
        return
    for key in ("ticket", "counter", "rating"):
        if kwargs.get(key) is not None:
            _mark(session, getattr(kwargs[key], "unit_id", None))
            return


_SIGNALS = (signals.ticket_issued, signals.ticket_called, signals.ticket_changed,
            signals.counter_changed, signals.queue_changed, signals.day_closed,
            signals.rating_created)


def init_app(app: Flask) -> None:
    """Listen to the engine's signals, register ``/overview`` on this app's Socket.IO server."""
    throttle.reset(float(app.config.get("OVERVIEW_THROTTLE_S", 2.0)))
    for signal in _SIGNALS:
        signal.connect(_touched, weak=False)
    signals.user_disowned.connect(_disowned, weak=False)
    if not event.contains(db.session_factory, "after_commit", _after_commit):
        event.listen(db.session_factory, "after_commit", _after_commit)
        event.listen(db.session_factory, "after_rollback", _after_rollback)
    socketio.on_namespace(OverviewNamespace(NAMESPACE))
