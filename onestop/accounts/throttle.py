"""Budgets of tries kept in the database, so that a restart does not hand out a new one.

Flask-Limiter counts in memory in the embedded mode (one process, ``memory://``): a worker
restart, or a crash the attacker provokes, resets it. Two budgets guard secrets and must
not reset: the sign-in tries per client address (``LOGIN_RATE_LIMIT``) and the guesses at a
dossier's phone digits per code (``LOOKUP_CODE_RATE_LIMIT``). They are counted here, one
row per (scope, key, window), in the request's database (shared by every instance).
Flask-Limiter still counts them too (and everything else); the stricter answer wins.

``hit`` is a plain engine function; ``spend`` is the request-side wrapper (it commits: a
try counts even when the request it belongs to is refused).
"""

from __future__ import annotations

import datetime as dt
import hashlib

from limits import parse
from sqlalchemy import delete, text
from sqlalchemy.orm import Session

from onestop.accounts.models import ThrottleCount
from onestop.queueing.errors import DomainError

_HIT = text(
    "INSERT INTO throttle_counts (scope, key, bucket, hits, expires) VALUES (:s, :k, :b, 1, :e) "
    "ON CONFLICT (scope, key, bucket) DO UPDATE SET hits = throttle_counts.hits + 1 RETURNING hits")


def _key(key: str) -> str:
    return key if len(key) <= 64 else hashlib.sha256(key.encode()).hexdigest()


def hit(session: Session, scope: str, key: str, seconds: int, now: dt.datetime) -> int:
    """Count one try of ``key`` in ``scope``'s current window of ``seconds``; returns the
    tries counted in that window, this one included (one statement: concurrent tries
    never count the same number)."""
    stamp = int(now.timestamp())
    bucket = stamp - stamp % max(seconds, 1)
    hits = int(session.execute(_HIT, {"s": scope, "k": _key(key), "b": bucket,
                                      "e": bucket + seconds}).scalar_one())
    if hits == 1:  # the first try of a window: sweep the windows that are over
        session.execute(delete(ThrottleCount).where(ThrottleCount.expires < stamp)
                        .execution_options(synchronize_session=False))
    return hits


def spend(session: Session, scope: str, key: str, limit: str, now: dt.datetime) -> None:
    """Count one try against ``limit`` (Flask-Limiter's notation, "10 per minute") and commit;
    ``DomainError`` 429 ``rate_limited`` once the window's budget is spent."""
    item = parse(limit)
    hits = hit(session, scope, key, int(item.get_expiry()), now)
    session.commit()
    if hits > item.amount:
        raise DomainError("rate_limited", status=429)
