"""The citizen's phone pages of issue 20: book a time, manage the booking, take a number.

One question per screen, each step a plain GET whose answers ride in the query string, so
that the back button and a cheap phone without much script both work; the one change at
the end is a server-side form (Flask-WTF's CSRF token) that calls the bookings engine, so
every rule and refusal is the engine's (``onestop.bookings.engine``), said in plain words
from the API's messages on the same screen with what was typed kept.

- ``/book/``                         fields that take bookings
- ``/book/<id>/``                    optional procedure (and its documents to bring)
- ``/book/<id>/day?p=``              the next bookable working days
- ``/book/<id>/slot?p=&d=``          the day's slots, free places shown, full ones disabled
- ``/book/<id>/contact?p=&d=&s=``    phone and name; POST books, then the confirmation
- ``/b/<code>?k=``                   the booking (confirmation and manage page): code, QR,
                                     date and time, documents, cancel, the live queue on the
                                     day, the ticket once checked in
- ``/b/<code>/cancel?k=``            "cancel this booking?" (POST cancels)
- ``/b/<code>/qr.svg?k=``            the QR of the manage link (the kiosk's scanner reads it)
- ``/b/<code>/calendar.ics?k=``      "Thêm vào lịch": the slot as an iCalendar event
- ``/q/``, ``/q/<id>``               a number from the phone (unit setting ``remote_tickets``)

A wrong key and an unknown code get the same 404 page.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Response, current_app, redirect, render_template, request, url_for
from flask_limiter.util import get_remote_address
from limits import parse as parse_limit
from sqlalchemy import select

from kiosk import bp
from kiosk.pages import MAX_ID, lang, qr_svg, service_name
from kiosk.texts import number, weekday_date
from onestop.accounts.auth import current_actor
from onestop.api import common
from onestop.api.errors import MESSAGES
from onestop.bookings import engine as bookings
from onestop.bookings.models import Booking
from onestop.bookings.settings import booking_settings
from onestop.dossiers.models import Procedure
from onestop.extensions import db, limiter
from onestop.queueing.engine import CANCELLABLE
from onestop.queueing.errors import DomainError, NotFound
from onestop.queueing.models import Service, Ticket
from onestop.queueing.state import service_list, waiting_by_service
from onestop.textsort import vi_key
from onestop.tokens import ticket_token, ticket_url
from onestop.units.models import Unit

CALENDAR_SCAN = 62  # calendar days looked at for the next bookable working days
MAX_TEXT = 120


def _private(response: Any) -> Any:
    """Keys ride in these URLs: out of caches and of other sites' Referer headers."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Robots-Tag"] = "noindex"
    return response


def phone_page(view: Callable[..., Any]) -> Callable[..., Any]:
    """A phone page: never the kiosk's screens for an unknown thing (its own 404 page), and
    private headers."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            response = current_app.make_response(view(*args, **kwargs))
        except NotFound:
            db.session.rollback()
            response = current_app.make_response(
                (render_template("kiosk/phone/missing.html", lang=lang()), 404))
        return _private(response)

    return wrapper


@bp.context_processor
def _phone_links() -> dict[str, Any]:
    def phone_lang_url() -> str:
        """This page in the other language (the other ``?lang=``, every other argument kept)."""
        args: dict[str, Any] = request.args.to_dict()
        args["lang"] = "vi" if lang() == "en" else "en"
        return url_for(str(request.endpoint), **(request.view_args or {}), **args)

    return {"phone_lang_url": phone_lang_url}


def _message(error: DomainError) -> str:
    return str(MESSAGES.get(error.code) or MESSAGES["bad_request"])


def _unit_args() -> dict[str, Any]:
    """The ``?unit=`` a page was opened with (the poster's QR of one unit), kept on every link."""
    code = request.args.get("unit", "")[:40]
    return {"unit": code} if code else {}


def _page(template: str, unit: Unit, **context: Any) -> str:
    """A phone page: the unit's header, the language link, ``?unit=`` kept on every link."""
    return render_template(template, unit=unit, unit_args=_unit_args(), lang=lang(), **context)


# --- booking: field -> procedure -> day -> slot -> phone and name ----------------------------


def _bookable_services(unit: Unit) -> list[Service]:
    rows = db.session.scalars(select(Service).where(Service.unit_id == unit.id, Service.active.is_(True))
                              .order_by(Service.sort_order, Service.id))
    return [s for s in rows if booking_settings(s) is not None]


def _service(unit: Unit, service_id: int) -> Service:
    service = db.session.get(Service, service_id) if service_id <= MAX_ID else None
    if service is None or service.unit_id != unit.id or not service.active \
            or booking_settings(service) is None:
        raise NotFound("service_not_found")
    return service


def _procedures(unit: Unit, service: Service) -> list[Procedure]:
    rows = db.session.scalars(select(Procedure).where(
        Procedure.unit_id == unit.id, Procedure.service_id == service.id, Procedure.active.is_(True)))
    return sorted(rows, key=lambda p: (vi_key(p.name), p.id))  # Vietnamese order: Đ after D


def _procedure(unit: Unit, service: Service, raw: Any) -> Procedure | None:
    """The chosen procedure (``p``, an id), or None; one of another field is ignored."""
    try:
        proc_id = int(raw)
    except (TypeError, ValueError):
        return None
    proc = db.session.get(Procedure, proc_id) if 0 < proc_id <= MAX_ID else None
    if proc is None or proc.unit_id != unit.id or proc.service_id != service.id or not proc.active:
        return None
    return proc


def _procedure_by_code(unit: Unit, code: str | None) -> Procedure | None:
    if not code:
        return None
    return db.session.scalars(select(Procedure).where(Procedure.unit_id == unit.id,
                                                      Procedure.code == code)).first()


def _day(raw: str | None) -> dt.date:
    try:
        return dt.date.fromisoformat(str(raw or "")[:10])
    except ValueError:
        raise NotFound("day_not_found") from None


def _slots(unit: Unit, service: Service, day: dt.date) -> list[Any]:
    try:
        return list(bookings.slots(db.session(), unit, service, day, common.now()))
    except DomainError:
        return []


def bookable_days(unit: Unit, service: Service) -> list[dict[str, Any]]:
    """The next working days a citizen may book in ``service`` (today counts), each with how
    many places are left; the engine's slots decide (no slots: not a bookable day)."""
    settings = booking_settings(service)
    assert settings is not None
    today = unit.local(common.now()).date()
    out: list[dict[str, Any]] = []
    for offset in range(CALENDAR_SCAN):
        day = today + dt.timedelta(days=offset)
        found = _slots(unit, service, day)
        if found:
            free = sum(max(0, int(s.free)) for s in found)
            out.append({"date": day, "iso": day.isoformat(), "text": weekday_date(day), "free": free,
                        "free_text": number(free), "today": day == today,
                        "tomorrow": day == today + dt.timedelta(days=1)})
        if len(out) > settings.days_ahead:
            break
    return out


def _slot_rows(unit: Unit, slots: list[Any]) -> list[dict[str, Any]]:
    """The day's slots in local time, grouped by morning and afternoon (``part``)."""
    return [{"hm": f"{unit.local(s.start):%H:%M}", "end": f"{unit.local(s.end):%H:%M}",
             "part": "am" if unit.local(s.start).hour < 12 else "pm",
             "free": max(0, int(s.free)), "free_text": number(max(0, int(s.free)))} for s in slots]


def _start(unit: Unit, day: dt.date, hm: str | None) -> dt.datetime:
    """The slot ``hm`` (``09:30``, local) of ``day``, as an aware UTC datetime."""
    try:
        clock = dt.time.fromisoformat(str(hm or "")[:5])
    except ValueError:
        raise NotFound("slot_not_found") from None
    return dt.datetime.combine(day, clock, tzinfo=unit.tz).astimezone(dt.UTC)


def _step_args(proc: Procedure | None, **more: Any) -> dict[str, Any]:
    args = {**_unit_args(), **{k: v for k, v in more.items() if v is not None}}
    if proc is not None:
        args["p"] = proc.id
    return args


@bp.get("/book/")
@phone_page
def book_fields() -> str:
    unit = common.resolve_unit()
    fields = [{"id": s.id, "name": service_name(s), "prefix": s.prefix or s.code[:1]}
              for s in _bookable_services(unit)]
    return _page("kiosk/phone/book_fields.html", unit, fields=fields)


@bp.get("/book/<int:service_id>/")
@phone_page
def book_procedure(service_id: int) -> Any:
    unit = common.resolve_unit()
    service = _service(unit, service_id)
    procedures = _procedures(unit, service)
    if not procedures:  # nothing to choose: straight to the day
        return redirect(url_for("kiosk.book_day", service_id=service.id, **_unit_args()))
    return _page("kiosk/phone/book_procedure.html", unit, service=service,
                 field_name=service_name(service), procedures=procedures)


@dataclass
class Step:
    """Where a citizen is in the booking: the field, the procedure chosen (``p``), the day
    (``d``) once chosen, and what every step's page shows of them."""

    unit: Unit
    service: Service
    proc: Procedure | None
    day: dt.date | None = None

    @classmethod
    def read(cls, service_id: int, with_day: bool = False) -> Step:
        unit = common.resolve_unit()
        service = _service(unit, service_id)
        day = _day(request.values.get("d")) if with_day else None
        return cls(unit, service, _procedure(unit, service, request.values.get("p")), day)

    def render(self, template: str, **context: Any) -> str:
        extra = {"day": self.day, "day_text": weekday_date(self.day)} if self.day else {}
        return _page(template, self.unit, service=self.service, proc=self.proc,
                     field_name=service_name(self.service), args=_step_args(self.proc),
                     **extra, **context)


@bp.get("/book/<int:service_id>/day")
@phone_page
def book_day(service_id: int) -> str:
    step = Step.read(service_id)
    return step.render("kiosk/phone/book_day.html", days=bookable_days(step.unit, step.service),
                       has_procedures=bool(_procedures(step.unit, step.service)))


@bp.get("/book/<int:service_id>/slot")
@phone_page
def book_slot(service_id: int) -> str:
    step = Step.read(service_id, with_day=True)
    assert step.day is not None
    return step.render("kiosk/phone/book_slot.html",
                       slots=_slot_rows(step.unit, _slots(step.unit, step.service, step.day)))


def _book_limit() -> str:
    return str(current_app.config["BOOKING_RATE_LIMIT"])


def _form_phone_key() -> str:
    """A form's phone number by its last nine digits (0912…, +84912… are one), like the
    API's per-phone limit; without one, the address."""
    digits = "".join(ch for ch in request.form.get("phone", "")[:32] if ch.isdigit())[-9:]
    return f"phone:{digits}" if digits else f"ip:{get_remote_address()}"


def _over_limit(limit: str) -> bool:
    """Spend one of the form's two budgets, per address and per phone (the API's keys); True
    when either is gone. Counted here rather than by a decorator so that the refusal is said
    on the form, with what was typed kept."""
    if not getattr(limiter, "enabled", True):
        return False
    item = parse_limit(limit)
    keys = dict.fromkeys((f"ip:{get_remote_address()}", _form_phone_key()))  # one key if no phone
    return not all([limiter.limiter.hit(item, str(request.endpoint), key) for key in keys])


def _contact(step: Step, hm: str, form: dict[str, str],
             error: DomainError | None = None) -> tuple[str, int]:
    status = 200 if error is None else (error.status if error.status != 404 else 409)
    return step.render("kiosk/phone/book_contact.html", hm=hm, form=form,
                       error=error.code if error else None,
                       message=_message(error) if error else ""), status


@bp.route("/book/<int:service_id>/contact", methods=["GET", "POST"])
@phone_page
def book_contact(service_id: int) -> Any:
    """Phone and name; the POST books through the engine and lands on the confirmation."""
    step = Step.read(service_id, with_day=True)
    unit, service, proc = step.unit, step.service, step.proc
    assert step.day is not None
    hm = str(request.values.get("s", ""))[:5]
    start = _start(unit, step.day, hm)
    form = {"phone": request.form.get("phone", "")[:32], "name": request.form.get("name", "")[:MAX_TEXT]}
    if request.method == "GET":
        return _contact(step, hm, form)
    if _over_limit(_book_limit()):
        return _contact(step, hm, form, DomainError("rate_limited", status=429))
    session = db.session()
    try:
        booking = bookings.book(session, unit, service, start=start, phone=form["phone"],
                                name=form["name"].strip() or None,
                                procedure_code=proc.code if proc else None,
                                actor=current_actor(), now=common.now(), channel="web")
        session.commit()
    except DomainError as error:
        session.rollback()
        return _contact(step, hm, form, error)
    key = bookings.manage_key(current_app.config["SECRET_KEY"], booking)
    return redirect(url_for("kiosk.manage_booking", code=booking.code, k=key, new=1, **_unit_args()),
                    code=303)


# --- the booking's page: confirmation, manage, live queue on the day -------------------------


def _booking(code: str, key: str | None) -> tuple[Unit, Booking]:
    """The booking of ``code`` if ``key`` is its manage key; else 404 (the same for both)."""
    clean = bookings.normalise_code(str(code or "")[:32])
    if not bookings.verify_manage_key(current_app.config["SECRET_KEY"], clean, key):
        raise NotFound("booking_not_found")
    session = db.session()
    found = session.scalars(select(Booking).where(Booking.code == clean)).first()
    unit = session.get(Unit, found.unit_id) if found is not None else None
    if found is None or unit is None:
        raise NotFound("booking_not_found")
    return unit, found


def _documents(proc: Procedure | None) -> list[str]:
    return [str(d) for d in (proc.documents or [])] if proc is not None else []


def _live(unit: Unit, booking: Booking) -> dict[str, Any] | None:
    """On the booking's day, the field's queue now: people waiting and its latest call."""
    now = common.now()
    day = unit.business_date(now)
    if unit.local(booking.start).date() != day or booking.state not in ("booked", "checked_in"):
        return None
    session = db.session()
    waiting = waiting_by_service(session, unit, day).get(booking.service_id, 0)
    call = session.scalars(select(Ticket).where(
        Ticket.unit_id == unit.id, Ticket.business_date == day, Ticket.service_id == booking.service_id,
        Ticket.called_at.is_not(None)).order_by(Ticket.called_at.desc()).limit(1)).first()
    counter = call.counter if call is not None and call.state in ("called", "serving") else None
    return {"waiting": number(waiting), "called": call.label if call is not None else "",
            "counter": number(counter.number) if counter is not None else ""}


def booking_service(booking: Booking) -> Service:
    service = db.session.get(Service, booking.service_id)
    assert service is not None
    return service


def _manage_context(unit: Unit, booking: Booking, key: str) -> dict[str, Any]:
    service = booking_service(booking)
    proc = _procedure_by_code(unit, booking.procedure_code)
    start, end = unit.local(booking.start), unit.local(booking.end)
    ticket = booking.ticket_id
    held = db.session.get(Ticket, ticket) if ticket else None
    secret = current_app.config["SECRET_KEY"]
    return {
        "unit": unit, "booking": booking, "key": key, "field_name": service_name(service),
        "proc": proc, "documents": _documents(proc), "day_text": weekday_date(start.date()),
        "time_text": f"{start:%H:%M}–{end:%H:%M}", "live": _live(unit, booking),
        "ticket_url": ticket_url("", secret, ticket) if ticket else None,
        "ticket_id": ticket, "ticket_key": ticket_token(secret, ticket) if ticket else None,
        "can_leave": held is not None and held.state in CANCELLABLE,
        "unit_args": _unit_args(), "lang": lang(), "new": request.args.get("new") == "1",
        "qr_url": url_for("kiosk.booking_qr", code=booking.code, k=key),
        "ics_url": url_for("kiosk.booking_ics", code=booking.code, k=key),
    }


# the booking's pages are counted per address like the ticket page /t/ (a guessed key
# learns nothing: the same 404 as an unknown code)
booking_page_limit = limiter.limit(lambda: str(current_app.config["TICKET_PAGE_RATE_LIMIT"]))


@bp.get("/b/<code>")
@booking_page_limit
@phone_page
def manage_booking(code: str) -> str:
    key = request.args.get("k", "")
    unit, booking = _booking(code, key)
    return render_template("kiosk/phone/manage.html", **_manage_context(unit, booking, key))


@bp.route("/b/<code>/cancel", methods=["GET", "POST"])
@booking_page_limit
@phone_page
def cancel_booking(code: str) -> Any:
    """"Hủy lịch hẹn?" on a screen of its own; the POST cancels through the engine."""
    key = request.values.get("k", "")
    unit, booking = _booking(code, key)
    context = _manage_context(unit, booking, key)
    if request.method == "GET":
        return render_template("kiosk/phone/cancel.html", **context)
    session = db.session()
    try:
        bookings.cancel(session, booking, actor=current_actor(), now=common.now())
        session.commit()
    except DomainError as error:
        session.rollback()
        context["error"] = _message(error)
        return render_template("kiosk/phone/manage.html", **context), error.status
    return redirect(url_for("kiosk.manage_booking", code=booking.code, k=key, **_unit_args()), code=303)


@bp.get("/b/<code>/qr.svg")
@booking_page_limit
@phone_page
def booking_qr(code: str) -> Response:
    """The QR of the manage link: the kiosk's scanner reads it at check-in."""
    _unit, booking = _booking(code, request.args.get("k"))
    config = current_app.config
    url = bookings.manage_url(config["PUBLIC_BASE_URL"], config["SECRET_KEY"], booking)
    response = Response(qr_svg(url), mimetype="image/svg+xml")
    response.headers["X-Booking-Url"] = url  # lets a test or a scanner check the payload
    return response


def _ics_text(value: str) -> str:
    return value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


@bp.get("/b/<code>/calendar.ics")
@booking_page_limit
@phone_page
def booking_ics(code: str) -> Response:
    """"Thêm vào lịch": one VEVENT for the phone's calendar (times in UTC)."""
    key = request.args.get("k", "")
    unit, booking = _booking(code, key)
    context = _manage_context(unit, booking, key)
    config = current_app.config
    stamp = "%Y%m%dT%H%M%SZ"
    summary = f"{context['field_name']} — {unit.name}"
    link = bookings.manage_url(config["PUBLIC_BASE_URL"], config["SECRET_KEY"], booking)
    lines = [
        "BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//onestop//booking//VI", "BEGIN:VEVENT",
        f"UID:{booking.code}@onestop", f"DTSTAMP:{common.now().astimezone(dt.UTC):{stamp}}",
        f"DTSTART:{booking.start.astimezone(dt.UTC):{stamp}}",
        f"DTEND:{booking.end.astimezone(dt.UTC):{stamp}}",
        f"SUMMARY:{_ics_text(summary)}",
        f"DESCRIPTION:{_ics_text(booking.code + ' ' + link)}",
        "END:VEVENT", "END:VCALENDAR", "",
    ]
    response = Response("\r\n".join(lines), mimetype="text/calendar")
    response.headers["Content-Disposition"] = f'attachment; filename="lich-hen-{booking.code}.ics"'
    return response


# --- a number from the phone -----------------------------------------------------------------


def _remote_fields(unit: Unit) -> list[dict[str, Any]]:
    by_id = {s.id: s for s in db.session.scalars(select(Service).where(Service.unit_id == unit.id))}
    return [{"id": row["id"], "name": service_name(by_id[row["id"]]), "open": row["open_now"],
             "waiting": number(row["waiting"]), "prefix": by_id[row["id"]].prefix or row["code"][:1]}
            for row in service_list(db.session(), unit, common.now(), common.always_open())]


def _remote_limit() -> str:
    return str(current_app.config["REMOTE_TICKET_RATE_LIMIT"])


@bp.get("/q/")
@phone_page
def remote_fields() -> Any:
    unit = common.resolve_unit()
    if not unit.setting("remote_tickets"):
        return _page("kiosk/phone/remote_off.html", unit)
    return _page("kiosk/phone/remote_fields.html", unit, fields=_remote_fields(unit))


@bp.route("/q/<int:service_id>", methods=["GET", "POST"])
@phone_page
def remote_take(service_id: int) -> Any:
    unit = common.resolve_unit()
    if not unit.setting("remote_tickets"):
        return _page("kiosk/phone/remote_off.html", unit)
    service = db.session.get(Service, service_id) if service_id <= MAX_ID else None
    if service is None or service.unit_id != unit.id or not service.active:
        raise NotFound("service_not_found")
    phone = request.form.get("phone", "")[:32]
    context: dict[str, Any] = {"service": service, "field_name": service_name(service), "phone": phone,
                               "message": ""}
    if request.method == "GET":
        return _page("kiosk/phone/remote_take.html", unit, **context)
    if _over_limit(_remote_limit()):
        context.update(message=_message(DomainError("rate_limited")), error="rate_limited")
        return _page("kiosk/phone/remote_take.html", unit, **context), 429
    session = db.session()
    try:
        ticket = bookings.remote_ticket(session, unit, service, phone=phone.strip() or None,
                                        now=common.now(), address=get_remote_address())
        session.commit()
    except DomainError as error:
        session.rollback()
        context.update(message=_message(error), error=error.code)
        return _page("kiosk/phone/remote_take.html", unit, **context), error.status
    return redirect(ticket_url("", current_app.config["SECRET_KEY"], ticket.id), code=303)

