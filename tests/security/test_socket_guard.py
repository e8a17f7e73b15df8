"""The Socket.IO guard's two decisions, packet by packet (the flood itself is
``tests/system/test_floods.py``, against a real server)."""

from __future__ import annotations

import pytest

from onestop.realtime.guard import SNAPSHOT_REUSE_S, TOTALS, PacketBudget, public_event, session_snapshot


@pytest.mark.parametrize("data,dropped", [
    ('2/display,["state",{}]', True),             # an event to /display
    ('2/display,17["x"]', True),                  # ... asking for an ack
    ('51-/display,["x",{"_placeholder":true,"num":0}]', True),  # a binary event
    ("0/display,", False),                        # connect: answered with the snapshot
    ("1/display,", False),                        # disconnect
    ('2/agent,["job.ack",{}]', False),            # print agents talk on their namespace
    ('2/counter,["x"]', False),                   # authenticated: the namespace decides
    ('2["x"]', False),                            # the main namespace is not public
    ("3/display,1[]", False),                     # an ack
    (b"\x00binary", False),
    ("", False),
])
def test_events_to_public_namespaces_are_dropped(data: object, dropped: bool) -> None:
    assert public_event(data) is dropped


def test_the_budget_allows_a_burst_then_its_rate() -> None:
    budget = PacketBudget(10, now=0.0)
    assert sum(budget.take(0.0) for _ in range(100)) == 20  # a burst of twice the rate
    assert not budget.take(0.05)
    assert sum(budget.take(1.05) for _ in range(100)) == 10  # then the rate
    assert budget.take(10.0)  # a quiet client gets its burst back


def test_a_repeated_connect_on_one_session_reuses_the_snapshot() -> None:
    environ: dict = {}
    queries: list[int] = []

    def compute() -> dict:
        queries.append(1)
        return {"counters": [], "n": len(queries)}

    before = TOTALS["snapshot_reused"]
    first = session_snapshot(environ, (1, ()), compute, now=100.0)
    again = session_snapshot(environ, (1, ()), compute, now=100.5)
    assert first == again and len(queries) == 1
    assert TOTALS["snapshot_reused"] == before + 1
    later = session_snapshot(environ, (1, ()), compute, now=100.0 + SNAPSHOT_REUSE_S + 0.1)
    assert later["n"] == 2  # a connect seconds later queries again (it may have missed calls)
    assert session_snapshot({}, (1, ()), compute, now=100.5)["n"] == 3  # a new session always does
    assert session_snapshot(environ, (1, ("A",)), compute, now=100.0 + SNAPSHOT_REUSE_S + 0.2)["n"] == 4
