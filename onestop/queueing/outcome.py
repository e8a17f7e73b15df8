"""How a call ended, as the hall display labels it in its recent calls.

A call ends when the ticket leaves its counter: ``finish`` (done), ``skip`` (missed, also
when the counter closes on it), ``park`` (held at the counter) or ``transfer`` (back in a
queue as ``waiting``: only the action tells it from a new ticket). While the citizen is
still called or served there is no outcome.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from onestop.queueing.models import Ticket, TicketEvent

LEAVING = {"finish": "done", "skip": "missed", "park": "parked", "transfer": "transferred"}
ENDED = ("done", "missed", "parked", "expired", "cancelled")


def call_outcome(state: str, last_leave: str | None) -> str | None:
    """``done``, ``missed``, ``parked``, ``transferred``, ``expired``, ``cancelled`` or None
    (still at the counter) from the ticket's state and the last action that took it away."""
    if state in ("called", "serving"):
        return None
    if state == "waiting":
        # back in a queue: after a transfer, or after coming back from "missed"
        return LEAVING.get(last_leave or "") if last_leave in ("transfer", "skip") else None
    return state if state in ENDED else None


def call_outcomes(session: Session, tickets: Iterable[Ticket]) -> dict[int, str | None]:
    """``call_outcome`` of each ticket (one query for the last leaving action of them all)."""
    ticket_list = list(tickets)
    last: dict[int, str] = {}
    if ticket_list:
        rows = session.execute(
            select(TicketEvent.ticket_id, TicketEvent.action)
            .where(TicketEvent.ticket_id.in_([t.id for t in ticket_list]),
                   TicketEvent.action.in_(list(LEAVING)))
            .order_by(TicketEvent.id))
        last = {int(tid): str(action) for tid, action in rows}  # the latest one wins
    return {t.id: call_outcome(t.state, last.get(t.id)) for t in ticket_list}
