"""Process body for the out-of-order race (module level, for 'spawn' children)."""

from __future__ import annotations

import traceback
from typing import Any

BARRIER_TIMEOUT = 60.0


def call_worker(config: dict[str, Any], username: str, counter_id: int, ticket_ids: list[int],
                barrier: Any, results: Any, index: int) -> None:
    """Sign in as ``username`` and, for each ticket, call it at ``counter_id`` at the same
    moment as the other process (one barrier per round); report each answer's status/code."""
    answers: list[tuple[int, int, str | None]] = []
    errors: list[str] = []
    try:
        from onestop.app import create_app
        from onestop.extensions import db
        from tests.conftest import bearer, token_for

        app = create_app(config)
        client = app.test_client()
        headers = bearer(token_for(client, username))
        for ticket_id in ticket_ids:
            barrier.wait(BARRIER_TIMEOUT)
            res = client.post(f"/api/v1/counters/{counter_id}/call", headers=headers,
                              json={"ticket_id": ticket_id, "reason": f"quầy {counter_id}"})
            body = res.get_json() or {}
            answers.append((ticket_id, res.status_code, (body.get("error") or {}).get("code")))
        with app.app_context():  # let the process end at once (no pooled connection left)
            db.session.remove()
            db.engine.dispose()
    except BaseException:
        errors.append(traceback.format_exc())
        barrier.abort()
    results.put({"index": index, "answers": answers, "errors": errors})
