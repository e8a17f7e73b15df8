"""Sign-in with lockout: the one path for the login page and ``POST /api/v1/auth/token``.

After ``max_attempts`` wrong passwords in a row *from one client address* the account is
locked *for that address* for ``lock_minutes``; each further lock from the same address in a
row lasts twice as long (at most a day). A right password from the address ends its series.
While locked, even the right password is refused from that address, and the refusal says
until when (``account_locked``, with ``until``); the clerk at the counter, on another
address, still signs in: knowing a user name is not enough to lock its owner out
(docs/security.md, "Login"). An admin sees and lifts locks in the back office
(``/admin/users``), and a new password lifts every lock of the account.

An unknown user name, an inactive account and a wrong password all get the same
``invalid_credentials`` answer, and the unknown name still pays for one password hash, so
neither the answer nor its timing tells which names exist. The lock message is shown only
for a real account locked for this address, i.e. after ``max_attempts`` wrong tries on it.

Plain functions: the caller passes the session, the address and the clock, and commits
(also on failure, so that the count survives the refused request).
"""

from __future__ import annotations

import datetime as dt
import functools
from typing import NoReturn

from sqlalchemy import bindparam, delete, select, text
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from onestop.accounts.models import LoginLock, User
from onestop.db import UTCDateTime
from onestop.queueing.errors import DomainError

MAX_LOCK = dt.timedelta(days=1)
# a series of locks from one address is forgotten after this long without a wrong password
FORGET_AFTER = dt.timedelta(days=1)

_FAIL = text(
    "INSERT INTO login_locks (user_id, address, failures, locks, last_failure_at) "
    "VALUES (:u, :a, 1, 0, :now) ON CONFLICT (user_id, address) DO UPDATE SET "
    "failures = login_locks.failures + 1, last_failure_at = :now RETURNING failures, locks"
).bindparams(bindparam("now", type_=UTCDateTime()))


@functools.cache
def _dummy_hash() -> str:
    return generate_password_hash("onestop-no-such-user")


def locked_until(lock: LoginLock | None, now: dt.datetime) -> dt.datetime | None:
    """The end of the lock, if it holds at ``now``."""
    if lock is None or lock.locked_until is None or lock.locked_until <= now:
        return None
    return lock.locked_until


def lock_length(lock_minutes: int, locks: int) -> dt.timedelta:
    """The ``locks``-th lock in a row from one address: twice the one before, at most a day."""
    return min(dt.timedelta(minutes=lock_minutes) * 2 ** min(max(locks - 1, 0), 16), MAX_LOCK)


def authenticate(session: Session, username: str, password: str, *, address: str,
                 now: dt.datetime, max_attempts: int, lock_minutes: int) -> User:
    """The user whose password this is; else ``DomainError`` 401 ``invalid_credentials``, or
    423 ``account_locked`` (with ``until``, ISO 8601) while the account is locked for
    ``address``. The failure that sets the lock also carries ``user`` and ``just_locked``
    (for the audit log; the caller removes them before answering)."""
    user = session.scalar(select(User).where(User.username == username)) if username else None
    if user is None or not user.active:
        check_password_hash(_dummy_hash(), password)  # same work as a real check
        raise DomainError("invalid_credentials", status=401)
    address = address[:64]
    lock = session.get(LoginLock, (user.id, address))
    until = locked_until(lock, now)
    if until is not None:
        raise DomainError("account_locked", status=423, until=until.isoformat())
    if user.check_password(password):
        if lock is not None:
            session.delete(lock)
        session.flush()
        return user
    _failed(session, user, lock, address, now, max_attempts, lock_minutes)


def _failed(session: Session, user: User, lock: LoginLock | None, address: str, now: dt.datetime,
            max_attempts: int, lock_minutes: int) -> NoReturn:
    """Count a wrong password from ``address`` (one statement: two at once both count)."""
    if lock is not None and lock.last_failure_at is not None and now - lock.last_failure_at > FORGET_AFTER:
        lock.failures, lock.locks = 0, 0  # an old series: start again at the shortest lock
    session.flush()
    failures, locks = session.execute(_FAIL, {"u": user.id, "a": address, "now": now}).one()
    if max_attempts > 0 and failures >= max_attempts:
        lock = session.get(LoginLock, (user.id, address), populate_existing=True)
        assert lock is not None
        lock.failures, lock.locks = 0, locks + 1  # a fresh series of tries once the lock is over
        lock.locked_until = now + lock_length(lock_minutes, lock.locks)
        session.flush()
        raise DomainError("account_locked", status=423, until=lock.locked_until.isoformat(),
                          user=user, just_locked=True)
    session.flush()
    raise DomainError("invalid_credentials", status=401)


def active_locks(session: Session, now: dt.datetime, *, unit_id: int | None = None,
                 user_id: int | None = None) -> list[LoginLock]:
    """The locks holding at ``now`` (of one unit's accounts, or one account's, when given),
    the latest ending first."""
    query = (select(LoginLock).join(User, User.id == LoginLock.user_id)
             .where(LoginLock.locked_until > now)
             .order_by(LoginLock.locked_until.desc(), User.username))
    if unit_id is not None:
        query = query.where(User.unit_id == unit_id)
    if user_id is not None:
        query = query.where(LoginLock.user_id == user_id)
    return list(session.scalars(query))


def unlock(session: Session, user: User) -> None:
    """Lift the account's locks and forget its wrong tries, from every address (the back
    office's "Gỡ khoá", a new password)."""
    session.execute(delete(LoginLock).where(LoginLock.user_id == user.id)
                    .execution_options(synchronize_session="fetch"))
    session.flush()
