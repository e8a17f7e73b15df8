"""Sign-in with lockout: the one path for the login page and ``POST /api/v1/auth/token``.

After ``max_attempts`` wrong passwords in a row an account is locked for ``lock_minutes``;
a right password resets the count. While locked, even the right password is refused, and
the refusal says until when (``account_locked``, with ``until``). An unknown user name, an
inactive account and a wrong password all get the same ``invalid_credentials`` answer, and
the unknown name still pays for one password hash, so neither the answer nor its timing
tells which names exist. The lock message is shown only for a real account that is locked,
i.e. after ``max_attempts`` wrong tries on it (see docs/security.md, "Login").

Plain functions: the caller passes the session and the clock, and commits (also on failure,
so that the count survives the refused request).
"""

from __future__ import annotations

import datetime as dt
import functools

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from onestop.accounts.models import User
from onestop.queueing.errors import DomainError


@functools.cache
def _dummy_hash() -> str:
    return generate_password_hash("onestop-no-such-user")


def locked_until(user: User, now: dt.datetime) -> dt.datetime | None:
    """The end of the user's lock, if it is locked at ``now``."""
    return user.locked_until if user.locked_until is not None and user.locked_until > now else None


def authenticate(session: Session, username: str, password: str, *, now: dt.datetime,
                 max_attempts: int, lock_minutes: int) -> User:
    """The user whose password this is; else ``DomainError`` 401 ``invalid_credentials``, or
    423 ``account_locked`` (with ``until``, ISO 8601) while the account is locked. The
    failure that sets the lock also carries ``user`` and ``just_locked`` (for the audit log;
    the caller removes them before answering)."""
    user = session.scalar(select(User).where(User.username == username)) if username else None
    if user is None or not user.active:
        check_password_hash(_dummy_hash(), password)  # same work as a real check
        raise DomainError("invalid_credentials", status=401)
    until = locked_until(user, now)
    if until is not None:
        raise DomainError("account_locked", status=423, until=until.isoformat())
    if user.check_password(password):
        user.failed_logins = 0
        user.locked_until = None
        session.flush()
        return user
    user.failed_logins = (user.failed_logins or 0) + 1
    if max_attempts > 0 and user.failed_logins >= max_attempts:
        user.failed_logins = 0  # a fresh series of tries once the lock is over
        user.locked_until = now + dt.timedelta(minutes=lock_minutes)
        session.flush()
        raise DomainError("account_locked", status=423, until=user.locked_until.isoformat(),
                          user=user, just_locked=True)
    session.flush()
    raise DomainError("invalid_credentials", status=401)


def unlock(user: User) -> None:
    """Lift a lock (the back office's "unlock" button, or a password reset)."""
    user.failed_logins = 0
    user.locked_until = None
