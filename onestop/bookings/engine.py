"""Bookings (lịch hẹn) and numbers taken from a phone: every rule, as plain functions.

Like ``onestop.queueing.engine``: each function takes the ``Session``, the acting ``Actor``
where one acts, and ``now`` (aware UTC); none commits or reads the clock. Refusals raise
``DomainError`` with a stable code; changes send ``signals.booking_changed``.

Slots
    A field takes bookings when its ``booking`` setting is set (``settings.py``). A day has
    slots when it is a working day of the unit (national holidays, Tết, make-up Saturdays,
    the unit's own days off and working days: ``onestop.units.calendar``), a weekday the
    field serves (a make-up Saturday counts as the weekday it stands in for: ``_serves``),
    and the field is active. Each of the field's windows is cut into slots of
    ``slot_minutes`` from its opening: a slot ends by the window's close and starts before
    the field's cut-off (``cutoff_minutes`` before the close). A field without windows
    takes no bookings. A slot can be booked from today up to ``days_ahead`` working days
    ahead, until ``book_before_minutes`` before it starts; it takes ``per_slot`` bookings,
    and with a daily cap the bookings of a day never exceed ``(1 - walkin_share) * cap``.

No overbooking
    ``book`` takes the field's row lock before it counts (``SELECT ... FOR NO KEY UPDATE``
    on PostgreSQL: it does not block tickets, whose foreign key only takes a key-share
    lock), so the bookings of one field are made one after the other and each counts the
    committed rows of the previous ones (READ COMMITTED takes a new snapshot per
    statement). On SQLite every transaction already starts with ``BEGIN IMMEDIATE``
    (``onestop.db``): writers are serialised before the first read. The same lock
    serialises the one-booking-per-phone-per-day rule.

Call order of a booked citizen
    A booking checked in within the unit's tolerance (``booking_checkin_early_minutes``
    before the slot to ``booking_checkin_late_minutes`` after it) gets a ticket whose
    place in the queue (``queue_at``) is the slot's start: among the normal tickets of
    its field it is called after everyone who joined the queue before the slot started and
    before everyone who joined after, whenever they checked in; priority classes keep
    their rule over both (strict or interleaved, ``onestop.queueing.policy``). The ticket
    is issued past the field's daily cap if need be (the place was promised) and outside
    the field's hours (a check-in 15 minutes before a 07:30 slot).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from onestop import signals
from onestop.bookings.models import HOLDING_STATES, Booking
from onestop.bookings.settings import BookingSettings, booking_settings, day_limit
from onestop.bookings.states import day_bounds as _day_bounds
from onestop.bookings.states import mark_no_shows as mark_no_shows
from onestop.bookings.states import move as _move
from onestop.dossiers.models import Procedure
from onestop.phones import last_digits, normalise_phone
from onestop.queueing.engine import SYSTEM, Actor, issue_ticket
from onestop.queueing.errors import DomainError, NotFound
from onestop.queueing.models import Service, Ticket
from onestop.queueing.schedule import windows
from onestop.tokens import short_mac, verify_mac
from onestop.units.calendar import NATIONAL_SWAPS, load_calendar, working_days_between
from onestop.units.models import Unit

# what a citizen types: no 0/O, no 1/I (32 symbols, 6 of them: ~10^9 codes)
CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
CODE_LENGTH = 6
OUTSIDE_CHOICES = ("refuse", "ticket")
# no booking more than this many calendar days ahead, whatever ``days_ahead`` says: a public
# query for the year 9999 must not count its working days one by one
MAX_SPAN_DAYS = 366


@dataclass(frozen=True)
class Slot:
    """A slot ``[start, end)`` (aware UTC) and the bookings it can still take."""

    start: dt.datetime
    end: dt.datetime
    free: int


# --- slots -----------------------------------------------------------------------------


def _field_settings(unit: Unit, service: Service) -> BookingSettings:
    if service.unit_id != unit.id:
        raise NotFound("service_not_found")
    settings = booking_settings(service)
    if settings is None or not service.active:
        raise DomainError("not_bookable", reason="bookings_off")
    return settings


def _closed_reason(session: Session, unit: Unit, service: Service, settings: BookingSettings,
                   day: dt.date, now: dt.datetime) -> str | None:
    """Why ``day`` takes no bookings of the field (``closed_day``, ``past``,
    ``too_far_ahead``), or None."""
    today = unit.business_date(now)
    if day < today:
        return "past"
    if (day - today).days > MAX_SPAN_DAYS:  # before counting working days one by one
        return "too_far_ahead"
    calendar = load_calendar(session, unit, since=today)
    if not calendar.is_working_day(day) or not _serves(service, day):
        return "closed_day"
    if working_days_between(calendar, today, day) > settings.days_ahead:
        return "too_far_ahead"
    return None


def _serves(service: Service, day: dt.date) -> bool:
    """Whether the field serves on ``day``, a working day of the unit. A working Saturday or
    Sunday (a make-up day) stands in for the weekday it was swapped with (the national
    swaps, ``NATIONAL_SWAPS`` and the ``holidays`` package's), else for a Monday: a field
    serving that weekday serves that day."""
    served = service.weekdays or []
    if day.isoweekday() in served:
        return True
    if day.weekday() < 5:
        return False
    stand_in = next((off for off, worked in NATIONAL_SWAPS.get(day.year, ()) if worked == day),
                    None)
    return (stand_in.isoweekday() if stand_in else 1) in served


def day_slots(unit: Unit, service: Service, settings: BookingSettings,
              day: dt.date) -> list[tuple[dt.datetime, dt.datetime]]:
    """Every slot of the field's windows on ``day`` (aware UTC), whatever the calendar."""
    length = dt.timedelta(minutes=settings.slot_minutes)
    cutoff = dt.timedelta(minutes=service.cutoff_minutes or 0)
    result = []
    for opens, closes in windows(service):
        cursor = dt.datetime.combine(day, opens, tzinfo=unit.tz)
        close = dt.datetime.combine(day, closes, tzinfo=unit.tz)
        while cursor + length <= close and cursor < close - cutoff:
            result.append((cursor.astimezone(dt.UTC), (cursor + length).astimezone(dt.UTC)))
            cursor += length
    return result


def _taken(session: Session, service: Service, since: dt.datetime,
           until: dt.datetime) -> dict[dt.datetime, int]:
    """Bookings holding a place, per slot start, in ``[since, until)``."""
    rows = session.execute(
        select(Booking.start, func.count()).where(
            Booking.service_id == service.id, Booking.start >= since, Booking.start < until,
            Booking.state.in_(HOLDING_STATES)).group_by(Booking.start)).all()
    return {start: int(count) for start, count in rows}


def slots(session: Session, unit: Unit, service: Service, day: dt.date,
          now: dt.datetime) -> list[Slot]:
    """The slots of ``day`` a citizen can still book (``free`` may be 0: full), in order;
    an empty list when the day takes no bookings (see the module's rules)."""
    settings = booking_settings(service)
    if settings is None or not service.active or service.unit_id != unit.id:
        return []
    if _closed_reason(session, unit, service, settings, day, now) is not None:
        return []
    since, until = _day_bounds(unit, day)
    taken = _taken(session, service, since, until)
    limit = day_limit(service, settings)
    day_left = math.inf if limit is None else max(0, limit - sum(taken.values()))
    latest = now + dt.timedelta(minutes=settings.book_before_minutes)
    return [Slot(start, end, int(min(max(0, settings.per_slot - taken.get(start, 0)), day_left)))
            for start, end in day_slots(unit, service, settings, day) if start >= latest]


# --- booking ---------------------------------------------------------------------------


def _check_procedure(session: Session, service: Service, code: str) -> None:
    found = session.scalar(select(Procedure.id).where(
        Procedure.unit_id == service.unit_id, Procedure.service_id == service.id,
        Procedure.code == code, Procedure.active.is_(True)))
    if found is None:
        raise DomainError("invalid_procedure", status=422, procedure_code=code)


def _lock_field(session: Session, service: Service) -> None:
    """Serialise the bookings of one field (see the module's docstring)."""
    session.execute(select(Service.id).where(Service.id == service.id)
                    .with_for_update(key_share=True))


def new_code(session: Session) -> str:
    """A booking code nobody holds (the unique index has the last word)."""
    for _ in range(10):
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        if session.scalar(select(Booking.id).where(Booking.code == code)) is None:
            return code
    raise DomainError("busy_retry", status=503)


def book(session: Session, unit: Unit, service: Service, *, start: dt.datetime, phone: str,
         name: str | None = None, procedure_code: str | None = None, actor: Actor,
         now: dt.datetime, channel: str = "web") -> Booking:
    """Book the slot of the field starting at ``start`` (aware) for ``phone``.

    Refusals: 404 ``service_not_found``; 422 ``invalid_phone``, ``invalid_procedure``;
    409 ``not_bookable`` (``reason``: ``bookings_off``, ``closed_day``, ``past``,
    ``too_far_ahead``, ``outside_windows``), ``already_booked`` (this phone holds a booking
    of the field that day: its ``code``), ``slot_full`` (``day_full`` when the day's share
    of the cap is what is full). Never more than ``per_slot`` bookings in a slot, whatever
    the concurrency (module docstring).
    """
    settings = _field_settings(unit, service)
    phone = normalise_phone(phone)
    if procedure_code:
        _check_procedure(session, service, procedure_code)
    try:
        start = start.astimezone(dt.UTC)
        day = unit.local(start).date()
    except OverflowError:  # the year 1 or 9999 in another zone
        raise DomainError("not_bookable", reason="past" if start.year < 2000 else "too_far_ahead") from None
    reason = _closed_reason(session, unit, service, settings, day, now)
    if reason is None and start < now + dt.timedelta(minutes=settings.book_before_minutes):
        reason = "past"
    ends = dict(day_slots(unit, service, settings, day))
    if reason is None and start not in ends:
        reason = "outside_windows"
    if reason is not None:
        raise DomainError("not_bookable", reason=reason)
    _lock_field(session, service)
    since, until = _day_bounds(unit, day)
    held = session.scalar(select(Booking.code).where(
        Booking.phone == phone, Booking.service_id == service.id, Booking.start >= since,
        Booking.start < until, Booking.state.in_(HOLDING_STATES)).limit(1))
    if held is not None:
        raise DomainError("already_booked", booking_code=held)
    taken = _taken(session, service, since, until)
    limit = day_limit(service, settings)
    if limit is not None and sum(taken.values()) >= limit:
        raise DomainError("slot_full", day_full=True)
    if taken.get(start, 0) >= settings.per_slot:
        raise DomainError("slot_full", day_full=False)
    booking = Booking(
        unit_id=unit.id, service_id=service.id, code=new_code(session), start=start,
        end=ends[start], phone=phone, name=(name or "").strip()[:120] or None,
        procedure_code=procedure_code or None, state="booked", channel=channel,
        created_by_user_id=actor.user_id, created_at=now)
    session.add(booking)
    session.flush()
    signals.booking_changed.send(session, booking=booking, action="booked")
    return booking


def _local_clock(unit: Unit, when: dt.datetime) -> str:
    return unit.local(when).strftime("%H:%M")


def cancel(session: Session, booking: Booking, *, actor: Actor, now: dt.datetime,
           by_staff: bool = False) -> Booking:
    """The citizen (or staff, ``by_staff``: at any time) cancels a booking: the place is free.

    Refusals 409: ``booking_not_active`` (with its ``state``), ``too_late_to_cancel`` (the
    citizen, less than ``cancel_before_minutes`` before the slot: ``latest``, local time).
    """
    if booking.state != "booked":
        raise DomainError("booking_not_active", state=booking.state)
    service = session.get(Service, booking.service_id)
    assert service is not None
    settings = booking_settings(service) or BookingSettings()
    latest = booking.start - dt.timedelta(minutes=settings.cancel_before_minutes)
    if not by_staff and now > latest:
        unit = session.get(Unit, booking.unit_id)
        assert unit is not None
        raise DomainError("too_late_to_cancel", latest=_local_clock(unit, latest))
    if not _move(session, booking, "cancelled", cancelled_at=now):
        raise DomainError("booking_not_active", state=booking.state)
    signals.booking_changed.send(session, booking=booking, action="cancelled")
    return booking


def normalise_code(code: str) -> str:
    """What was typed or scanned, as stored: upper case, without spaces or dashes."""
    return "".join(ch for ch in (code or "").upper() if ch.isalnum())[:CODE_LENGTH * 2]


def find_booking(session: Session, unit: Unit, code: str, last4: str | None = None) -> Booking:
    """The unit's booking with ``code``; with ``last4``, only if its phone ends with it.
    404 ``booking_not_found`` otherwise (the same answer: a wrong guess learns nothing)."""
    booking = session.scalar(select(Booking).where(
        Booking.unit_id == unit.id, Booking.code == normalise_code(code)))
    if booking is None or (last4 is not None and last_digits(booking.phone) != last4.strip()):
        raise NotFound("booking_not_found")
    return booking


# --- check-in --------------------------------------------------------------------------


def checkin_window(unit: Unit, booking: Booking) -> tuple[dt.datetime, dt.datetime]:
    """From when to when (aware UTC) the booking can be checked in."""
    return (booking.start - dt.timedelta(minutes=int(unit.setting("booking_checkin_early_minutes"))),
            booking.start + dt.timedelta(minutes=int(unit.setting("booking_checkin_late_minutes"))))


def _procedure_or_none(session: Session, service: Service, code: str | None) -> str | None:
    """The booking's procedure if the field still receives it (a check-in is never refused
    because a procedure was withdrawn since)."""
    if not code:
        return None
    try:
        _check_procedure(session, service, code)
    except DomainError:
        return None
    return code


def check_in(session: Session, unit: Unit, booking: Booking, *, actor: Actor, now: dt.datetime,
             outside: str = "refuse", always_open: bool = False) -> Ticket:
    """The citizen arrived: a ticket with ``source="booking"`` placed at the slot's start.

    Within the unit's tolerance (``checkin_window``) the booking becomes ``checked_in`` with
    the ticket (``queue_at`` = the slot's start: the call-order rule of the module).
    Refusals 409: ``already_checked_in`` (``ticket_id``), ``booking_not_active``
    (``state``), ``booking_other_day`` (``date``, the booking's local date), ``too_early`` /
    ``too_late`` (``start``, ``from``, ``until``: local HH:MM). Too early or too late with
    ``outside="ticket"`` and the unit's ``booking_outside_gets_ticket``: an ordinary kiosk
    ticket instead (``source="kiosk"``, the field's usual rules: ``always_open`` as at the
    kiosk), the booking left as it is.
    """
    if outside not in OUTSIDE_CHOICES:
        raise DomainError("invalid_outside", status=422, outside=outside)
    if booking.unit_id != unit.id:
        raise NotFound("booking_not_found")
    if booking.state == "checked_in":
        raise DomainError("already_checked_in", ticket_id=booking.ticket_id)
    if booking.state != "booked":
        raise DomainError("booking_not_active", state=booking.state)
    day = unit.local(booking.start).date()
    if day != unit.business_date(now):
        raise DomainError("booking_other_day", date=day.isoformat())
    service = session.get(Service, booking.service_id)
    assert service is not None
    procedure = _procedure_or_none(session, service, booking.procedure_code)
    opens, closes = checkin_window(unit, booking)
    if not opens <= now <= closes:
        if outside == "ticket" and unit.setting("booking_outside_gets_ticket"):
            return issue_ticket(session, unit, service, actor=actor, now=now, source="kiosk",
                                always_open=always_open, procedure_code=procedure,
                                phone=booking.phone)
        window: dict[str, Any] = {"start": _local_clock(unit, booking.start),
                                  "from": _local_clock(unit, opens),
                                  "until": _local_clock(unit, closes)}
        raise DomainError("too_early" if now < opens else "too_late", **window)
    if not _move(session, booking, "checked_in", checked_in_at=now):
        if booking.state == "checked_in":
            raise DomainError("already_checked_in", ticket_id=booking.ticket_id)
        raise DomainError("booking_not_active", state=booking.state)
    ticket = issue_ticket(session, unit, service, actor=actor, now=now, source="booking",
                          always_open=True, procedure_code=procedure, queue_at=booking.start,
                          over_cap=True, phone=booking.phone)
    booking.ticket_id = ticket.id
    session.flush()
    signals.booking_changed.send(session, booking=booking, action="checked_in")
    return ticket


# --- manage link -----------------------------------------------------------------------


def _code_of(booking: Booking | str) -> str:
    return booking if isinstance(booking, str) else booking.code


def manage_key(secret: str, booking: Booking | str) -> str:
    """The key of the booking's manage page (an HMAC of its code, like the ticket page);
    ``booking``: the booking or its code."""
    return short_mac(secret, "booking", _code_of(booking))


def verify_manage_key(secret: str, booking: Booking | str, key: str | None) -> bool:
    return verify_mac(secret, "booking", _code_of(booking), key)


def manage_url(base_url: str, secret: str, booking: Booking | str) -> str:
    """The citizen's page of the booking (or of its code): ``/b/<code>?k=...``."""
    return f"{base_url.rstrip('/')}/b/{_code_of(booking)}?k={manage_key(secret, booking)}"


# --- numbers taken from a phone --------------------------------------------------------


def origin_hash(address: str) -> str:
    """What is kept of the address a number was asked from: enough to count, not to read."""
    return hashlib.sha256(f"onestop-remote:{address}".encode()).hexdigest()[:16]


def remote_ticket(session: Session, unit: Unit, service: Service, *, phone: str | None = None,
                  now: dt.datetime, address: str, always_open: bool = False) -> Ticket:
    """A ticket taken from a phone (``source="remote"``), with the kiosk's rules (schedule,
    cap and their refusals) and limits of its own, all per business day:

    409 ``remote_closed`` (the unit does not allow it), ``remote_limit_reached`` (``limit``:
    ``phone`` or ``address``, ``remote_per_phone_per_day`` / ``remote_per_address_per_day``
    over every field), ``remote_share_reached`` (with a daily cap, the field's remote
    tickets take at most ``remote_share`` of it); 422 ``invalid_phone``. The phone, when
    given, is kept on the ticket (``tickets.phone``) for the citizen's messages.
    ``always_open``: as at the kiosk (the demo's setting ``ALWAYS_OPEN``).
    """
    if service.unit_id != unit.id or not service.active:
        raise NotFound("service_not_found")
    if not unit.setting("remote_tickets"):
        raise DomainError("remote_closed")
    number = normalise_phone(phone) if phone else None
    origin = origin_hash(address)
    # the unit's numbers from phones, one after the other (PostgreSQL; SQLite's writers are)
    session.execute(select(Unit.id).where(Unit.id == unit.id).with_for_update(key_share=True))
    today = unit.business_date(now)
    remote = (Ticket.unit_id == unit.id, Ticket.business_date == today, Ticket.source == "remote")

    def count(*where: Any) -> int:
        return int(session.scalar(select(func.count()).where(*remote, *where)) or 0)

    if count(Ticket.origin == origin) >= int(unit.setting("remote_per_address_per_day")):
        raise DomainError("remote_limit_reached", limit="address")
    if number and count(Ticket.phone == number) >= int(unit.setting("remote_per_phone_per_day")):
        raise DomainError("remote_limit_reached", limit="phone")
    if service.daily_cap:
        share = math.floor(service.daily_cap * float(unit.setting("remote_share")) + 1e-9)
        if count(Ticket.issued_service_id == service.id) >= share:
            raise DomainError("remote_share_reached", share=share)
    return issue_ticket(session, unit, service, actor=SYSTEM, now=now, source="remote",
                        always_open=always_open, phone=number, origin=origin)
