"""Bookings (lịch hẹn) and numbers taken from a phone (issue 20); every rule is
``onestop.bookings.engine``'s.

- ``GET /bookings/slots?service_id=&date=``: public, the day's slots with their free places.
- ``POST /bookings``: public (a citizen's phone, the provincial portal with an integration
  token; staff book on a citizen's behalf), limited per client address (per token for a
  token) and, separately, per phone number (``BOOKING_RATE_LIMIT``).
- ``GET /bookings/{code}?k=`` and ``POST /bookings/{code}/cancel {"k"}``: the key of the
  booking's manage link, or staff of its unit (who may cancel at any time). A wrong key
  and an unknown code get the same 404 ``booking_not_found``.
- ``POST /bookings/{code}/check-in {"last4"?, "outside"?}``: a kiosk (its device token) or
  staff; 201 the ticket, printed on the kiosk's printer like any kiosk ticket.
- ``POST /remote-tickets {"service_id", "phone"?}``: public, a number from the phone, with
  its page's address (``page_url``); ``REMOTE_TICKET_RATE_LIMIT`` per address and phone.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any, Literal

from flask import current_app, request
from flask_limiter.util import get_remote_address
from flask_login import current_user
from pydantic import BaseModel, Field
from sqlalchemy import select

from onestop.accounts.auth import bearer_token, current_actor, current_device
from onestop.api import bp, schemas
from onestop.api.common import always_open, now, resolve_unit
from onestop.api.counters import MAX_ID
from onestop.api.schemas import Strict, TicketOut
from onestop.bookings import engine as bookings
from onestop.bookings.models import Booking
from onestop.bookings.settings import booking_settings
from onestop.extensions import db, limiter
from onestop.phones import mask_phone
from onestop.queueing.catalog import service_info
from onestop.queueing.errors import DomainError, NotFound
from onestop.queueing.models import Service
from onestop.queueing.state import ticket_dict
from onestop.tokens import ticket_url
from onestop.units.models import Unit

STAFF = ("admin", "manager", "clerk", "reception")
CODE_PATTERN = r"^[A-Za-z0-9 -]{1,16}$"


class SlotsQuery(Strict):
    service_id: int = Field(ge=1, le=MAX_ID)
    date: dt.date


class SlotOut(BaseModel):
    start: str  # ISO 8601 with the unit's offset
    end: str
    free: int


class BookingIn(Strict):
    service_id: int = Field(ge=1, le=MAX_ID)
    start: dt.datetime  # ISO 8601 with an offset (a slot's start as the slots list gives it)
    phone: str = Field(min_length=1, max_length=32)
    name: str | None = Field(default=None, max_length=120)
    procedure_code: str | None = Field(default=None, min_length=1, max_length=40)


class BookingOut(BaseModel):
    code: str
    state: str
    service_id: int
    service: str
    start: str
    end: str
    name: str | None
    phone: str  # masked (+84 91*****78)
    procedure_code: str | None
    ticket_id: int | None
    cancel_before: str  # the latest a citizen may cancel, ISO 8601 with the unit's offset


class BookedOut(BaseModel):
    code: str
    state: str
    service_id: int
    start: str
    end: str
    manage_url: str


class KeyQuery(Strict):
    k: str | None = Field(default=None, max_length=64)


class CancelIn(Strict):
    k: str | None = Field(default=None, max_length=64)


class CheckInIn(Strict):
    last4: str | None = Field(default=None, pattern=r"^[0-9]{4}$")
    k: str | None = Field(default=None, max_length=64)
    outside: Literal["refuse", "ticket"] = "refuse"


class RemoteIn(Strict):
    service_id: int = Field(ge=1, le=MAX_ID)
    phone: str | None = Field(default=None, min_length=1, max_length=32)


class RemoteTicketOut(TicketOut):
    page_url: str


# TicketOut's field types are named in onestop.api.schemas (postponed annotations)
RemoteTicketOut.model_rebuild(_types_namespace=vars(schemas))


# --- rate limits: per caller (address or token) and per phone -----------------------------


def _caller_key() -> str:
    """A token counts for itself (the provincial portal sends everyone's bookings from one
    address); anyone else per client address. Never a cookie: a new one costs nothing."""
    token = bearer_token()
    if token:
        return "tok:" + hashlib.sha256(token.encode()).hexdigest()[:32]
    return f"ip:{get_remote_address()}"


def _phone_key() -> str:
    """The phone number of the body, by its last nine digits (0912…, +84912… are one)."""
    body = request.get_json(silent=True)
    raw = body.get("phone") if isinstance(body, dict) else None
    digits = "".join(ch for ch in str(raw or "") if ch.isdigit())[-9:]
    return f"phone:{digits}" if digits else _caller_key()


def _booking_limit() -> str:
    return str(current_app.config["BOOKING_RATE_LIMIT"])


def _remote_limit() -> str:
    return str(current_app.config["REMOTE_TICKET_RATE_LIMIT"])


# --- helpers ---------------------------------------------------------------------------


def _service(unit: Unit, service_id: int) -> Service:
    service = db.session.get(Service, service_id)
    if service is None or service.unit_id != unit.id or not service.active:
        raise NotFound("service_not_found")
    return service


def _iso(unit: Unit, when: dt.datetime) -> str:
    return unit.local(when).isoformat()


def _staff_of(unit_id: int) -> bool:
    """A signed-in member of staff of that unit (403 for another role)."""
    user = current_user._get_current_object()
    if not user.is_authenticated:
        return False
    if user.role not in STAFF:
        raise DomainError("forbidden", status=403)
    return user.unit_id in (None, unit_id)


def _booking(code: str, key: str | None) -> tuple[Unit, Booking, bool]:
    """The booking with ``code`` if the caller proves it: its key, or staff of its unit.
    ``(unit, booking, by_staff)``."""
    session = db.session()
    booking = session.scalar(select(Booking).where(Booking.code == bookings.normalise_code(code)))
    if booking is not None:
        if bookings.verify_manage_key(current_app.config["SECRET_KEY"], booking, key):
            by_staff = False
        elif _staff_of(booking.unit_id):
            by_staff = True
        else:
            booking = None
    if booking is None:
        raise NotFound("booking_not_found")
    unit = session.get(Unit, booking.unit_id)
    assert unit is not None
    return unit, booking, by_staff


def booking_dict(unit: Unit, booking: Booking) -> dict[str, Any]:
    service = db.session.get(Service, booking.service_id)
    assert service is not None
    settings = booking_settings(service) or bookings.BookingSettings()
    return {
        "code": booking.code, "state": booking.state, "service_id": booking.service_id,
        "service": service_info(db.session(), unit.id, booking.service_id).name,
        "start": _iso(unit, booking.start), "end": _iso(unit, booking.end),
        "name": booking.name, "phone": mask_phone(booking.phone),
        "procedure_code": booking.procedure_code, "ticket_id": booking.ticket_id,
        "cancel_before": _iso(unit, booking.start
                              - dt.timedelta(minutes=settings.cancel_before_minutes)),
    }


def _channel() -> str:
    user = current_user._get_current_object()
    if not user.is_authenticated:
        return "web"
    if user.role == "integration":
        return "api"
    if user.role in STAFF:
        return "staff"
    raise DomainError("forbidden", status=403)


# --- endpoints -------------------------------------------------------------------------


@bp.get("/bookings/slots")
@bp.input(SlotsQuery, location="query", arg_name="query")
@bp.output(list[SlotOut])  # type: ignore[arg-type]
@bp.doc(summary="The slots of a day a field can still be booked in, with their free places",
        description="Times in ISO 8601 with the unit's offset. An empty list for a day that takes "
        "no bookings (a holiday, a day the field does not serve, past, too far ahead). 409 "
        "not_bookable (reason bookings_off) when the field takes no bookings.",
        responses=[404, 409, 422])
def list_slots(query: SlotsQuery) -> list[dict[str, Any]]:
    unit = resolve_unit()
    service = _service(unit, query.service_id)
    if booking_settings(service) is None:
        raise DomainError("not_bookable", reason="bookings_off")
    return [{"start": _iso(unit, slot.start), "end": _iso(unit, slot.end), "free": slot.free}
            for slot in bookings.slots(db.session(), unit, service, query.date, now())]


@bp.post("/bookings")
@limiter.limit(_booking_limit, key_func=_caller_key)
@limiter.limit(_booking_limit, key_func=_phone_key)
@bp.input(BookingIn, arg_name="body")
@bp.output(BookedOut, status_code=201)
@bp.doc(summary="Book a slot (lịch hẹn)",
        description="Public, or an integration token (the provincial portal), or staff booking on "
        "a citizen's behalf. 409: slot_full (day_full when the day's share of the cap is taken), "
        "not_bookable (reason: bookings_off, closed_day, outside_windows, past, too_far_ahead), "
        "already_booked (this phone, this field, that day); 422: invalid_phone, invalid_procedure. "
        "`manage_url`: the citizen's page of the booking (cancel, the live queue on the day).",
        responses=[400, 403, 404, 409, 422, 429])
def create_booking(body: BookingIn) -> dict[str, Any]:
    channel = _channel()
    unit = resolve_unit()
    service = _service(unit, body.service_id)
    if body.start.tzinfo is None:
        raise DomainError("validation_error", status=422,
                          fields={"json": {"start": ["An offset is required (+07:00)."]}})
    booking = bookings.book(db.session(), unit, service, start=body.start, phone=body.phone,
                            name=body.name, procedure_code=body.procedure_code,
                            actor=current_actor(), now=now(), channel=channel)
    config = current_app.config
    return {"code": booking.code, "state": booking.state, "service_id": booking.service_id,
            "start": _iso(unit, booking.start), "end": _iso(unit, booking.end),
            "manage_url": bookings.manage_url(config["PUBLIC_BASE_URL"], config["SECRET_KEY"],
                                              booking)}


@bp.get("/bookings/<code>")
@limiter.limit(lambda: str(current_app.config["TICKET_PAGE_RATE_LIMIT"]))
@bp.input(KeyQuery, location="query", arg_name="query")
@bp.output(BookingOut)
@bp.doc(summary="A booking: its slot and state (the key of its manage link, or staff)",
        responses=[403, 404, 422])
def get_booking(code: str, query: KeyQuery) -> dict[str, Any]:
    unit, booking, _ = _booking(code, query.k)
    return booking_dict(unit, booking)


@bp.post("/bookings/<code>/cancel")
@limiter.limit(lambda: str(current_app.config["TICKET_PAGE_RATE_LIMIT"]))
@bp.input(CancelIn, arg_name="body")
@bp.output(BookingOut)
@bp.doc(summary="Cancel a booking: the place is free again",
        description="With the key of the manage link, until cancel_before (else 409 "
        "too_late_to_cancel); staff of the unit at any time. 409 booking_not_active when it was "
        "cancelled, checked in or missed.", responses=[400, 403, 404, 409, 422])
def cancel_booking(code: str, body: CancelIn) -> dict[str, Any]:
    unit, booking, by_staff = _booking(code, body.k)
    bookings.cancel(db.session(), booking, actor=current_actor(), now=now(), by_staff=by_staff)
    return booking_dict(unit, booking)


def _checkin_unit() -> Unit:
    device = current_device() if not current_user.is_authenticated else None
    if device is not None:
        if device.kind != "kiosk":
            raise DomainError("forbidden", status=403)
    elif not current_user.is_authenticated:
        raise DomainError("unauthorized", status=401)
    elif current_user.role not in STAFF:
        raise DomainError("forbidden", status=403)
    return resolve_unit()


@bp.post("/bookings/<code>/check-in")
@limiter.limit(lambda: str(current_app.config["TICKET_RATE_LIMIT"]), key_func=_caller_key)
@bp.input(CheckInIn, arg_name="body")
@bp.output(TicketOut, status_code=201)
@bp.doc(summary="Check a booking in at the kiosk: its ticket",
        description="A kiosk's device token (or staff). The proof that the booking is the "
        "citizen's: `k`, the key of the booking's QR (its manage link), when scanned, or "
        "`last4`, the last four digits of its phone, when the code was typed; a kiosk with "
        "neither, or a wrong one, gets 404 booking_not_found (staff need none). Within the "
        "unit's tolerance: a ticket with source booking, "
        "called after those who joined before the slot's start and before those after. 409: "
        "too_early / too_late (start, from, until in local time), booking_other_day, "
        "booking_not_active, already_checked_in (ticket_id). With `outside: ticket` and the "
        "unit's booking_outside_gets_ticket, too early or too late gets an ordinary kiosk "
        "ticket instead (source kiosk; the booking unchanged). Printed on the kiosk's printer "
        "like any kiosk ticket.", responses=[400, 401, 403, 404, 409, 422, 429])
def check_in(code: str, body: CheckInIn) -> dict[str, Any]:
    unit = _checkin_unit()
    session = db.session()
    booking = bookings.find_booking(session, unit, code, body.last4)
    # the proof that the booking is the citizen's: the key of its QR (scanned), or the last
    # digits of its phone (typed); staff at a desk check in whoever stands before them
    proven = body.last4 is not None or bookings.verify_manage_key(
        current_app.config["SECRET_KEY"], booking, body.k)
    if not proven and not current_user.is_authenticated:
        raise NotFound("booking_not_found")
    ticket = bookings.check_in(session, unit, booking, actor=current_actor(), now=now(),
                               outside=body.outside, always_open=always_open())
    out = ticket_dict(session, unit, ticket, now())
    device = current_device() if not current_user.is_authenticated else None
    if device is not None:  # printed on the kiosk's printer, after the ticket is committed
        from onestop.api.printing import print_on_issue

        out.update(print_on_issue(session, unit, ticket, device, out))
    return out


@bp.post("/remote-tickets")
@limiter.limit(_remote_limit, key_func=_caller_key)
@limiter.limit(_remote_limit, key_func=_phone_key)
@bp.input(RemoteIn, arg_name="body")
@bp.output(RemoteTicketOut, status_code=201)
@bp.doc(summary="Take a number from a phone",
        description="Public, when the unit allows numbers from the phone (else 409 remote_closed). "
        "The kiosk's rules: service_closed, outside_hours, daily_cap_reached; and its own limits "
        "per day: remote_share_reached (the field's share of its cap), remote_limit_reached "
        "(limit: phone or address). `page_url`: the ticket's live page.",
        responses=[400, 404, 409, 422, 429])
def remote_ticket(body: RemoteIn) -> dict[str, Any]:
    unit = resolve_unit()
    service = _service(unit, body.service_id)
    session = db.session()
    ticket = bookings.remote_ticket(session, unit, service, phone=body.phone, now=now(),
                                    address=get_remote_address() or "", always_open=always_open())
    config = current_app.config
    return {**ticket_dict(session, unit, ticket, now()),
            "page_url": ticket_url(config["PUBLIC_BASE_URL"], config["SECRET_KEY"], ticket.id)}
