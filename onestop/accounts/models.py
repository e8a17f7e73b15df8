"""Users, devices and API tokens. Secrets are stored only as SHA-256 hashes."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from typing import TYPE_CHECKING, Any

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from onestop.db import Base, UTCDateTime, utcnow

if TYPE_CHECKING:
    from onestop.units.models import Unit

# "reception": the desk at the entrance (issues tickets for citizens); "supervisor": watches
# the units of ``user_units`` (issue 22)
ROLES = ("admin", "manager", "clerk", "integration", "reception", "supervisor")
# "printer": a desk printer (the reception desk prints on it)
DEVICE_KINDS = ("kiosk", "display", "counter-display", "tablet", "agent", "printer")


def _in(values: tuple[str, ...]) -> str:
    return "(" + ", ".join(f"'{v}'" for v in values) + ")"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token(prefix: str) -> str:
    return f"{prefix}_{secrets.token_urlsafe(32)}"


class User(Base):
    __tablename__ = "users"
    __table_args__ = (CheckConstraint(f"role IN {_in(ROLES)}", name="role"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    username: Mapped[str] = mapped_column(String(64), unique=True)
    full_name: Mapped[str] = mapped_column(String(120), default="")
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[str] = mapped_column(String(16))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    password_changed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # raised by signing out: every login session (each copy of its cookie) signed in before
    # ends with it (``session_stamp``)
    session_generation: Mapped[int] = mapped_column(default=0, server_default="0")
    # loaded with the user when it signs a request in (onestop/accounts/auth.py)
    unit: Mapped[Unit | None] = relationship(lazy="select", viewonly=True)

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    # Flask-Login protocol
    is_authenticated = True
    is_anonymous = False

    @property
    def is_active(self) -> bool:
        return self.active

    def get_id(self) -> str:
        """What the login session stores: the id and a fingerprint of the password hash, so
        that a new password (a reset by an admin, a stolen cookie suspected) ends every
        session signed in with the old one."""
        return f"{self.id}.{self.session_stamp()}"

    def session_stamp(self) -> str:
        """A fingerprint of the password hash and the session generation: a new password or
        a sign-out changes it. (Generation 0 keeps the stamp sessions had before it existed.)"""
        base = self.password_hash
        if self.session_generation:
            base = f"{base}|{self.session_generation}"
        return hashlib.sha256(base.encode()).hexdigest()[:16]

    def has_role(self, *roles: str) -> bool:
        return self.role in roles


class UserUnit(Base):
    """A unit a supervisor watches (``onestop user add NAME --role supervisor --units A,B``)."""

    __tablename__ = "user_units"
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), primary_key=True)


class ApiToken(Base):
    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    user: Mapped[User] = relationship(lazy="joined")


class Device(Base):
    __tablename__ = "devices"
    __table_args__ = (CheckConstraint(f"kind IN {_in(DEVICE_KINDS)}", name="kind"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(120))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    pairing_code_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    pairing_expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    counter_id: Mapped[int | None] = mapped_column(ForeignKey("counters.id"))
    printer_uri: Mapped[str | None] = mapped_column(String(300))
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # loaded with the device when its token is checked (onestop/accounts/auth.py)
    unit: Mapped[Unit] = relationship(lazy="select", viewonly=True)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class LoginLock(Base):
    """Wrong passwords for one account from one client address (onestop/accounts/lockout.py).

    The lock holds only for that address: someone who knows a clerk's user name can lock
    themselves out, not the clerk at the counter. ``locks`` counts the locks in a row from
    the address, each twice as long as the one before.
    """

    __tablename__ = "login_locks"
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    address: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(default=0, server_default="0")
    locks: Mapped[int] = mapped_column(default=0, server_default="0")
    locked_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_failure_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    user: Mapped[User] = relationship(lazy="joined", viewonly=True)


class ThrottleCount(Base):
    """Tries counted per (scope, key) in a fixed window of time, in the database so that the
    count survives a restart (onestop/accounts/throttle.py): the sign-in tries of an address,
    the phone-digit guesses at one dossier code."""

    __tablename__ = "throttle_counts"
    scope: Mapped[str] = mapped_column(String(16), primary_key=True)
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    # the window's start and end, in seconds since the epoch
    bucket: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hits: Mapped[int] = mapped_column(default=0)
    expires: Mapped[int] = mapped_column(BigInteger, index=True)
