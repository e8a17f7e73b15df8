"""Process bodies for the "I left" race (module level, for 'spawn' children)."""

from __future__ import annotations

import time
import traceback
from typing import Any

BARRIER_TIMEOUT = 60.0
HEAD_STARTS = (0.0, 0.1, 0.005, 0.03)


def _app(config: dict[str, Any]) -> Any:
    from onestop.app import create_app

    return create_app(config)


def _done(app: Any) -> None:
    from onestop.extensions import db

    with app.app_context():  # let the process end at once (no pooled connection left)
        db.session.remove()
        db.engine.dispose()


def citizen(config: dict[str, Any], service_id: int, rounds: int, barrier: Any, results: Any,
            index: int) -> None:
    """Each round: find the head of the field's queue, then give it up at the same moment as
    the clerk calls next; report (head, status, error code)."""
    answers: list[tuple[int, int, str | None]] = []
    errors: list[str] = []
    try:
        from sqlalchemy import select

        from onestop.extensions import db
        from onestop.queueing.models import Ticket
        from onestop.tokens import ticket_token

        app = _app(config)
        client = app.test_client()
        for _ in range(rounds):
            barrier.wait(BARRIER_TIMEOUT)  # the last round is over
            with app.app_context():
                head = db.session.scalar(select(Ticket.id).where(
                    Ticket.service_id == service_id, Ticket.state == "waiting")
                    .order_by(Ticket.queue_at, Ticket.id).limit(1))
                db.session.remove()
            assert head is not None
            barrier.wait(BARRIER_TIMEOUT)  # go
            res = client.post(f"/api/v1/tickets/{head}/cancel",
                              json={"k": ticket_token(config["SECRET_KEY"], head)})
            body = res.get_json() or {}
            answers.append((head, res.status_code, (body.get("error") or {}).get("code")))
        _done(app)
    except BaseException:
        errors.append(traceback.format_exc())
        barrier.abort()
    results.put({"index": index, "answers": answers, "errors": errors})


def clerk(config: dict[str, Any], counter_id: int, rounds: int, barrier: Any, results: Any,
          index: int) -> None:
    """Each round, at the same moment as the citizen gives up: call next; report the id."""
    answers: list[tuple[int, int | None]] = []
    errors: list[str] = []
    try:
        from tests.conftest import bearer, token_for

        app = _app(config)
        client = app.test_client()
        headers = bearer(token_for(client, f"clerk{counter_id}"))
        for round_ in range(rounds):
            barrier.wait(BARRIER_TIMEOUT)
            barrier.wait(BARRIER_TIMEOUT)
            # the clerk is the quicker of the two; a head start of 0 to 100 ms for the citizen
            # in turn lets either side win some rounds (the invariant must hold for both)
            time.sleep(HEAD_STARTS[round_ % len(HEAD_STARTS)])
            res = client.post(f"/api/v1/counters/{counter_id}/call-next", headers=headers)
            answers.append((res.status_code, (res.get_json() or {}).get("id")))
        _done(app)
    except BaseException:
        errors.append(traceback.format_exc())
        barrier.abort()
    results.put({"index": index, "answers": answers, "errors": errors})


def player(role: str, config: dict[str, Any], rounds: int, barrier: Any, results: Any,
           index: int) -> None:
    """One body for ``race_processes`` (one target for every process): the citizen of field 1
    or the clerk of counter 1 (which serves field 1 only)."""
    if role == "citizen":
        citizen(config, 1, rounds, barrier, results, index)
    else:
        clerk(config, 1, rounds, barrier, results, index)
