"""Engine signals -> pushes to the province, queued in the transaction of the change.

``dossier_received``: a dossier received under a ticket the clerk linked gets the ticket's
provincial code (link mode at intake), then its first push; ``dossier_changed`` (a state
change, an apology's new date): a push. The settings come from the app the signal is sent
in; outside an app (a bare script) nothing is queued.
"""

from __future__ import annotations

from typing import Any

from blinker import NamedSignal
from flask import current_app, has_app_context
from sqlalchemy.orm import Session

from onestop import signals
from onestop.db import utcnow
from onestop.dossiers.models import Dossier
from onestop.extensions import db
from onestop.integrations import wakeup
from onestop.integrations.config import ProvinceConfig
from onestop.integrations.engine import QUEUED, queue_push
from onestop.outbox_loop import ring_after_commit
from onestop.queueing.models import Ticket


def _config() -> ProvinceConfig | None:
    return ProvinceConfig.of(current_app.config) if has_app_context() else None


def on_dossier_received(session: Session, dossier: Dossier) -> None:
    if dossier.ticket_id and not dossier.provincial_code:
        ticket = session.get(Ticket, dossier.ticket_id)
        if ticket is not None and ticket.provincial_code:
            dossier.provincial_code = ticket.provincial_code
    config = _config()
    if config is not None:
        queue_push(session, dossier, config=config, now=utcnow())


def on_dossier_changed(session: Session, dossier: Dossier, action: str, from_state: str) -> None:
    config = _config()
    if config is not None:
        queue_push(session, dossier, config=config, now=utcnow())


RECEIVERS: list[tuple[NamedSignal, Any]] = [
    (signals.dossier_received, on_dossier_received), (signals.dossier_changed, on_dossier_changed),
]


def connect() -> None:
    """Subscribe to the signals and wake the loop after a commit that queued (idempotent)."""
    for signal, receiver in RECEIVERS:
        signal.connect(receiver, weak=False)
    ring_after_commit(db.session_factory, QUEUED, lambda: wakeup.wake())
