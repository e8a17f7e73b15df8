"""Account rules: users and device registration / pairing. Plain functions, no Flask."""

from __future__ import annotations

import datetime as dt
import secrets

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from onestop import signals
from onestop.accounts.models import DEVICE_KINDS, ROLES, Device, User, hash_token, new_token
from onestop.queueing.errors import DomainError, NotFound
from onestop.queueing.models import Counter
from onestop.units.models import Unit

PAIRING_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud and typed
PAIRING_TTL = dt.timedelta(hours=24)
COUNTER_KINDS = ("counter-display", "tablet")


def add_user(session: Session, unit: Unit | None, username: str, password: str, role: str,
             full_name: str = "") -> User:
    if role not in ROLES:
        raise DomainError("invalid_role", status=422, role=role)
    if session.scalar(select(User).where(User.username == username)) is not None:
        raise DomainError("username_taken", username=username)
    if len(password) < 8:
        raise DomainError("password_too_short", status=422)
    user = User(unit_id=unit.id if unit else None, username=username, full_name=full_name,
                role=role)
    user.set_password(password)
    session.add(user)
    session.flush()
    return user


def end_sessions(session: Session, user: User) -> None:
    """End every login session of ``user`` (all copies of every session cookie): the
    generation is part of the stamp each session holds (``User.session_stamp``). One
    statement, so two sign-outs at once both count."""
    session.execute(update(User).where(User.id == user.id)
                    .values(session_generation=User.session_generation + 1)
                    .execution_options(synchronize_session=False))
    session.expire(user, ["session_generation"])


def add_device(session: Session, unit: Unit, kind: str, name: str, *, now: dt.datetime,
               counter_number: int | None = None, printer_uri: str | None = None,
               ) -> tuple[Device, str, str]:
    """Register a device; returns ``(device, token, pairing_code)`` (shown once, stored hashed)."""
    if kind not in DEVICE_KINDS:
        raise DomainError("invalid_device_kind", status=422, kind=kind)
    counter_id = None
    if counter_number is not None:
        counter = session.scalar(select(Counter).where(Counter.unit_id == unit.id,
                                                       Counter.number == counter_number))
        if counter is None:
            raise NotFound("counter_not_found", number=counter_number)
        counter_id = counter.id
    elif kind in COUNTER_KINDS:
        raise DomainError("counter_required", status=422, kind=kind)
    token = new_token("osd")
    code = "".join(secrets.choice(PAIRING_ALPHABET) for _ in range(8))
    device = Device(unit_id=unit.id, kind=kind, name=name, token_hash=hash_token(token),
                    pairing_code_hash=hash_token(code), pairing_expires_at=now + PAIRING_TTL,
                    counter_id=counter_id, printer_uri=printer_uri, settings={}, created_at=now)
    session.add(device)
    session.flush()
    return device, token, code


def pair_device(session: Session, code: str, *, now: dt.datetime) -> tuple[Device, str]:
    """Trade a one-time pairing code for a fresh device token (the old token stops working)."""
    device = session.scalar(select(Device).where(
        Device.pairing_code_hash == hash_token(code.strip().upper())))
    if (device is None or device.revoked_at is not None or device.pairing_expires_at is None
            or device.pairing_expires_at < now):
        raise DomainError("invalid_pairing_code", status=400)
    token = new_token("osd")
    device.token_hash = hash_token(token)
    device.pairing_code_hash = None
    device.pairing_expires_at = None
    device.last_seen_at = now
    session.flush()
    return device, token


#: a paired screen says it is alive this often (onestop/static/js/heartbeat.js)
HEARTBEAT_SECONDS = 60


def touch_device(device: Device, now: dt.datetime) -> None:
    """Record that ``device`` was heard from at ``now`` (its heartbeat, a socket connect).
    The manager's dashboard reports devices silent for too long."""
    device.last_seen_at = now


def _pairing_code() -> str:
    return "".join(secrets.choice(PAIRING_ALPHABET) for _ in range(8))


def update_device(session: Session, device: Device, *, name: str, counter_number: int | None,
                  printer_uri: str | None) -> Device:
    """Rename a device, move it to another counter, change its printer: its token and pairing
    stay as they are (no re-pairing at the kiosk). A revoked device is not edited
    (``device_revoked``); counter displays and tablets keep a counter (``counter_required``)."""
    if device.revoked_at is not None:
        raise DomainError("device_revoked", status=409)
    counter_id = None
    if counter_number is not None:
        counter = session.scalar(select(Counter).where(Counter.unit_id == device.unit_id,
                                                       Counter.number == counter_number))
        if counter is None:
            raise NotFound("counter_not_found", number=counter_number)
        counter_id = counter.id
    elif device.kind in COUNTER_KINDS:
        raise DomainError("counter_required", status=422, kind=device.kind)
    device.name, device.counter_id, device.printer_uri = name, counter_id, printer_uri
    session.flush()
    return device


def revoke_device(session: Session, device: Device, *, now: dt.datetime) -> Device:
    """Revoke a device for good (idempotent): its token and pending pairing code stop working."""
    if device.revoked_at is None:
        device.revoked_at = now
    device.pairing_code_hash = None
    device.pairing_expires_at = None
    session.flush()
    signals.device_disowned.send(session, device=device)
    return device


def rotate_device_token(session: Session, device: Device, *, now: dt.datetime) -> tuple[str, str]:
    """Give a device a new token and a new one-time pairing code (24 h); the old token stops
    working at once. Returns ``(token, pairing_code)``, shown once, stored hashed. A revoked
    device stays revoked (``device_revoked``)."""
    if device.revoked_at is not None:
        raise DomainError("device_revoked")
    token, code = new_token("osd"), _pairing_code()
    device.token_hash = hash_token(token)
    device.pairing_code_hash = hash_token(code)
    device.pairing_expires_at = now + PAIRING_TTL
    session.flush()
    signals.device_disowned.send(session, device=device)
    return token, code


def new_pairing_code(session: Session, device: Device, *, now: dt.datetime) -> str:
    """A fresh one-time pairing code (24 h) for ``device``; its token stays as it is, so a
    screen paired before keeps working (pairing with the code trades it for a new token).
    A revoked device gets none (``device_revoked``)."""
    if device.revoked_at is not None:
        raise DomainError("device_revoked")
    code = _pairing_code()
    device.pairing_code_hash = hash_token(code)
    device.pairing_expires_at = now + PAIRING_TTL
    session.flush()
    return code
