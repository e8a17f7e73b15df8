"""The dossier engine: receiving a dossier, moving it through its states, apologising.

Functions take the ``Session``, the acting ``Actor`` and ``now`` (an aware UTC datetime);
they never commit, never read the clock or the request. Each change writes a
``DossierEvent`` and sends ``signals.dossier_received`` / ``signals.dossier_changed``.
Refusals raise ``DomainError`` with a stable code:

==============================  ======  ================================================
code                            status  when
==============================  ======  ================================================
procedure_not_found             404     the procedure is not the unit's
procedure_inactive              409     the procedure is no longer received
ticket_not_found                404     the linked ticket is not the unit's
invalid_applicant               422     a missing or malformed applicant field (``field``;
                                        names may not hold ``<`` or ``>``)
invalid_documents               422     the document list is malformed
invalid_transition              409     the state table forbids it (``from_state``,
                                        ``to_state``)
supplement_already_requested    409     a supplement was requested once already
note_required                   422     supplement and rejection need a written note
apology_already_given           409     the one apology was given already
apology_not_due                 409     the dossier is neither overdue nor due by the
                                        next working day (or not with the office)
invalid_new_appointment         422     not a working day, or not after the current one
reason_required                 422     an apology needs its reason
invalid_collector               422     the result is handed to someone other than the
                                        applicant without their name, a valid ID number
                                        or the authorisation (``field``)
invalid_supplement              422     no missing item, an item too long, more than 30
                                        items, or the request longer than 1000 characters
invalid_note                    422     a note longer than 1000 characters or holding
                                        control characters
==============================  ======  ================================================

State table (``TRANSITIONS``)::

    received             -> processing, supplement_requested, rejected, withdrawn
    processing           -> ready, supplement_requested, rejected, withdrawn
    supplement_requested -> processing (supplemented), rejected, withdrawn
    ready                -> returned
    returned, rejected, withdrawn: final

A supplement may be requested once per dossier. When the supplement comes in
(``supplement_requested -> processing``) the legal time restarts: the appointment is
computed again from that moment, as for a dossier received then.

The desk's actions wrap ``change_state`` with what each needs (``mark_ready``: where to
collect; ``hand_over``: who collected; ``request_supplement``: the missing items and the
reason, which BM.02 lists); ``actions_for`` says which actions a dossier's state allows.
Besides ``dossier_changed``, the states ``ready``, ``supplement_requested`` and
``returned`` send ``signals.dossier_ready`` / ``dossier_supplement_requested`` /
``dossier_returned`` (the citizen-notification hooks, and webhook events of those names).

Overdue (``is_overdue``): the dossier is still with the office (``received`` or
``processing``) and ``now`` is past the appointment in force (the apology's new date, else
the original). A dossier that is ready, closed, or waiting for the citizen's supplement is
never overdue.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from onestop import signals
from onestop.db import next_sequence
from onestop.dossiers.models import (
    DEFAULT_DOCUMENT_FORM,
    DOCUMENT_FORMS,
    RUNNING_STATES,
    Dossier,
    DossierEvent,
    Procedure,
)
from onestop.queueing.engine import Actor
from onestop.queueing.errors import DomainError, NotFound
from onestop.queueing.models import Service, Ticket
from onestop.units.calendar import UnitCalendar, add_working_days, load_calendar
from onestop.units.models import Unit

TRANSITIONS: dict[str, frozenset[str]] = {
    "received": frozenset({"processing", "supplement_requested", "rejected", "withdrawn"}),
    "processing": frozenset({"ready", "supplement_requested", "rejected", "withdrawn"}),
    "supplement_requested": frozenset({"processing", "rejected", "withdrawn"}),
    "ready": frozenset({"returned"}),
    "returned": frozenset(),
    "rejected": frozenset(),
    "withdrawn": frozenset(),
}
NOTE_REQUIRED = ("supplement_requested", "rejected")
MAX_DOCUMENTS = 50
MAX_NOTE = 1000

# the chip ID card (CCCD) number has 12 digits, the old ID card (CMND) 9; the same patterns
# check the intake page (counter/templates/counter/_intake.html renders them)
ID_NUMBER_PATTERN = "[0-9]{12}|[0-9]{9}"
ID_NUMBER = re.compile(ID_NUMBER_PATTERN)
# a Vietnamese mobile number once normalised (+84 written as 0): 0 and nine digits, the
# first of them 3, 5, 7, 8 or 9 (the mobile prefixes since the 2018 renumbering)
MOBILE_PATTERN = "0[35789][0-9]{8}"
PHONE = re.compile(MOBILE_PATTERN)
PHONE_SEPARATORS = re.compile(r"[\s.\-()]")
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
# no person's name holds these; markup in a name is refused (DESIGN §7), and escaped anyway
NOT_IN_NAMES = "<>"


@dataclass(frozen=True)
class Applicant:
    """The person who files the dossier (and whom they file it for, if anyone)."""

    name: str
    id_number: str
    phone: str
    email: str = ""
    address: str = ""
    on_behalf_of: str = ""


# --- validation ----------------------------------------------------------------------


def _clean_text(value: str, field: str, max_length: int, required: bool = False,
                forbidden: str = "") -> str:
    """Stripped text without control characters (NUL, escapes), within ``max_length``."""
    text = unicodedata.normalize("NFC", (value or "").strip())
    if (required and not text) or len(text) > max_length or any(
        unicodedata.category(c) == "Cc" or c in forbidden for c in text
    ):
        raise DomainError("invalid_applicant", status=422, field=field)
    return text


def normalize_phone(phone: str) -> str:
    """A Vietnamese mobile number as ``0xxxxxxxxx``: spaces, dots, dashes and brackets
    dropped, ``+84`` written as the national ``0``; ``invalid_applicant`` (phone) otherwise."""
    digits = PHONE_SEPARATORS.sub("", phone or "")
    if digits.startswith("+84"):
        digits = "0" + digits[3:]
    if not PHONE.fullmatch(digits):
        raise DomainError("invalid_applicant", status=422, field="phone")
    return digits


def validate_applicant(applicant: Applicant) -> Applicant:
    """The applicant, normalised; ``invalid_applicant`` (with ``field``) otherwise."""
    id_number = (applicant.id_number or "").strip()
    if not ID_NUMBER.fullmatch(id_number):
        raise DomainError("invalid_applicant", status=422, field="id_number")
    email = _clean_text(applicant.email, "email", 254)
    if email and not EMAIL.fullmatch(email):
        raise DomainError("invalid_applicant", status=422, field="email")
    return Applicant(
        name=_clean_text(applicant.name, "name", 200, required=True, forbidden=NOT_IN_NAMES),
        id_number=id_number,
        phone=normalize_phone(applicant.phone),
        email=email,
        address=_clean_text(applicant.address, "address", 300),
        on_behalf_of=_clean_text(applicant.on_behalf_of, "on_behalf_of", 200, forbidden=NOT_IN_NAMES),
    )


def validate_documents(documents: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """``[{"name", "count", "form"}]``: at most 50 items, names 1-200 characters, counts
    1-1000, the form one of ``DOCUMENT_FORMS`` (default ``ban_chinh``, the original)."""
    if len(documents) > MAX_DOCUMENTS:
        raise DomainError("invalid_documents", status=422)
    out = []
    for item in documents:
        name = str(item.get("name") or "").strip()
        count = item.get("count", 1)
        form = item.get("form") or DEFAULT_DOCUMENT_FORM
        if not name or len(name) > 200 or any(unicodedata.category(c) == "Cc" for c in name) or (
            not isinstance(count, int) or isinstance(count, bool) or not 1 <= count <= 1000
        ) or not isinstance(form, str) or form not in DOCUMENT_FORMS:
            raise DomainError("invalid_documents", status=422)
        out.append({"name": unicodedata.normalize("NFC", name), "count": count, "form": form})
    return out


# --- receiving -----------------------------------------------------------------------


def dossier_code(unit: Unit, business_date: dt.date, number: int) -> str:
    """``{unit code}-{yyMMdd}-{NNNN}``: at least four digits, more past 9999 a day."""
    return f"{unit.code}-{business_date:%y%m%d}-{number:04d}"


def book_volume(service: Service | None, year: int) -> str:
    """The tracking book's volume (quyển): one per field and year."""
    return f"{service.code if service else 'CHUNG'}/{year}"


def _event(session: Session, dossier: Dossier, action: str, from_state: str | None, actor: Actor,
           now: dt.datetime, note: str = "", **details: Any) -> None:
    session.add(DossierEvent(
        dossier_id=dossier.id, at=now, action=action, from_state=from_state, to_state=dossier.state,
        actor_user_id=actor.user_id, actor_device_id=actor.device_id, note=note, details=details,
    ))


def appointment_for(calendar: UnitCalendar, unit: Unit, procedure: Procedure,
                    received_at: dt.datetime) -> dt.datetime:
    """The appointment (UTC) of a dossier of ``procedure`` received at ``received_at``."""
    due = add_working_days(calendar, unit.local(received_at), max(procedure.processing_days, 0))
    return due.astimezone(dt.UTC)


def _check_scope(unit: Unit, procedure: Procedure, ticket: Ticket | None) -> None:
    if procedure.unit_id != unit.id:
        raise NotFound("procedure_not_found")
    if not procedure.active:
        raise DomainError("procedure_inactive")
    if ticket is not None and ticket.unit_id != unit.id:
        raise NotFound("ticket_not_found")


def receive_dossier(
    session: Session, unit: Unit, procedure: Procedure, applicant: Applicant,
    documents: Sequence[Mapping[str, Any]] = (), ticket: Ticket | None = None, *,
    actor: Actor, now: dt.datetime,
) -> Dossier:
    """Receive a dossier: validate, number it, compute its appointment, record it.

    The code's number is the unit's daily sequence (``next_sequence``, scope
    ``dossier:{unit.id}``, the unit's business date); the tracking-book line is the
    sequence of the field and year. Everything is validated before a number is taken.
    """
    _check_scope(unit, procedure, ticket)
    person = validate_applicant(applicant)
    items = validate_documents(documents)
    business_date = unit.business_date(now)
    service = session.get(Service, procedure.service_id) if procedure.service_id else None
    number = next_sequence(session, f"dossier:{unit.id}", business_date)
    line = next_sequence(session, f"dossier-book:{unit.id}:{procedure.service_id or 0}",
                         dt.date(business_date.year, 1, 1))
    calendar = load_calendar(session, unit, since=business_date)
    dossier = Dossier(
        code=dossier_code(unit, business_date, number), unit_id=unit.id, procedure=procedure,
        service_id=procedure.service_id, ticket_id=ticket.id if ticket else None,
        business_date=business_date, number=number, book_year=business_date.year,
        book_volume=book_volume(service, business_date.year), book_line=line,
        applicant_name=person.name, applicant_id_number=person.id_number,
        applicant_phone=person.phone, applicant_email=person.email,
        applicant_address=person.address, on_behalf_of=person.on_behalf_of, documents=items,
        state="received", received_at=now, updated_at=now,
        appointment_at=appointment_for(calendar, unit, procedure, now),
        received_by_id=actor.user_id,
    )
    session.add(dossier)
    session.flush()
    _event(session, dossier, "receive", None, actor, now, ticket_id=dossier.ticket_id)
    signals.dossier_received.send(session, dossier=dossier)
    return dossier


# --- state changes -------------------------------------------------------------------


def find_dossier(session: Session, code: str, unit_id: int | None = None) -> Dossier:
    """The dossier with ``code`` (of ``unit_id`` when given); ``dossier_not_found`` otherwise."""
    dossier = session.scalar(select(Dossier).where(Dossier.code == code))
    if dossier is None or (unit_id is not None and dossier.unit_id != unit_id):
        raise NotFound("dossier_not_found")
    return dossier


def _check_transition(dossier: Dossier, new_state: str, note: str) -> None:
    if new_state == "supplement_requested" and dossier.supplement_count >= 1:
        raise DomainError("supplement_already_requested")
    if new_state not in TRANSITIONS.get(dossier.state, frozenset()):
        raise DomainError("invalid_transition", from_state=dossier.state, to_state=new_state)
    if new_state in NOTE_REQUIRED and not note:
        raise DomainError("note_required", status=422, to_state=new_state)


def _restart_clock(session: Session, dossier: Dossier, now: dt.datetime) -> dict[str, Any]:
    """The supplement came in: the legal time counts again from now."""
    unit = session.get(Unit, dossier.unit_id)
    assert unit is not None
    old = dossier.due_at
    calendar = load_calendar(session, unit, since=unit.business_date(now))
    dossier.appointment_at = appointment_for(calendar, unit, dossier.procedure, now)
    dossier.new_appointment_at = None
    return {"previous_appointment_at": old.isoformat(),
            "appointment_at": dossier.appointment_at.isoformat()}


def change_state(session: Session, dossier: Dossier, new_state: str, *, actor: Actor,
                 now: dt.datetime, note: str = "", details: Mapping[str, Any] | None = None) -> Dossier:
    """Move the dossier to ``new_state`` by the state table (module docstring).

    ``supplement_requested`` and ``rejected`` need a ``note`` (what is missing, why
    refused); the supplement note is what the public lookup shows. ``details`` go into the
    ``DossierEvent`` (where to collect, who collected, the missing items).
    """
    note = (note or "").strip()[:MAX_NOTE]
    _check_transition(dossier, new_state, note)
    from_state = dossier.state
    details = dict(details or {})
    if new_state == "supplement_requested":
        dossier.supplement_count += 1
        dossier.supplement_note = note
    elif from_state == "supplement_requested" and new_state == "processing":
        details.update(_restart_clock(session, dossier, now))
    if new_state == "ready":
        dossier.ready_at = now
    if new_state in ("returned", "rejected", "withdrawn"):
        dossier.closed_at = now
    dossier.state, dossier.updated_at = new_state, now
    if note:
        dossier.note = note
    session.flush()
    _event(session, dossier, "state", from_state, actor, now, note, **details)
    signals.dossier_changed.send(session, dossier=dossier, action="state", from_state=from_state)
    if (signal := STATE_SIGNALS.get(new_state)) is not None:
        signal.send(session, dossier=dossier, from_state=from_state, details=details)
    return dossier


# --- the desk's actions ----------------------------------------------------------------

# the states that tell the citizen something (signals.py; webhook events of the same name)
STATE_SIGNALS = {
    "ready": signals.dossier_ready,
    "supplement_requested": signals.dossier_supplement_requested,
    "returned": signals.dossier_returned,
}
MAX_SUPPLEMENT_ITEMS = 30
MAX_ITEM = 200
MAX_PLACE = 300


@dataclass(frozen=True)
class Collector:
    """Who collected the result: the applicant, or someone else with their ID number and
    the authorisation (giấy ủy quyền, relationship) the clerk saw."""

    by_applicant: bool = True
    name: str = ""
    id_number: str = ""
    authorisation: str = ""


def _note_text(value: str, field: str, max_length: int = MAX_NOTE, *, code: str = "invalid_note") -> str:
    """One clerk's text, stripped and NFC, without control characters other than new lines."""
    text = unicodedata.normalize("NFC", (value or "").strip())
    if len(text) > max_length or any(unicodedata.category(c) == "Cc" and c not in "\r\n\t"
                                     for c in text):
        raise DomainError(code, status=422, field=field)
    return text


def mark_ready(session: Session, dossier: Dossier, place: str = "", *, actor: Actor,
               now: dt.datetime, note: str = "") -> Dossier:
    """The result is available (``processing -> ready``); ``place`` says where to collect it."""
    place = _note_text(place, "place", MAX_PLACE)
    return change_state(session, dossier, "ready", actor=actor, now=now, note=note or place,
                        details={"pickup_place": place} if place else None)


def _collector(dossier: Dossier, who: Collector) -> dict[str, Any]:
    if who.by_applicant:
        return {"by_applicant": True, "name": dossier.applicant_name}
    try:
        name = _clean_text(who.name, "name", 200, required=True, forbidden=NOT_IN_NAMES)
    except DomainError:
        raise DomainError("invalid_collector", status=422, field="name") from None
    id_number = (who.id_number or "").strip()
    if not ID_NUMBER.fullmatch(id_number):
        raise DomainError("invalid_collector", status=422, field="id_number")
    authorisation = _note_text(who.authorisation, "authorisation", 300, code="invalid_collector")
    if not authorisation:
        raise DomainError("invalid_collector", status=422, field="authorisation")
    return {"by_applicant": False, "name": name, "id_number": id_number,
            "authorisation": authorisation}


def hand_over(session: Session, dossier: Dossier, who: Collector, *, actor: Actor,
              now: dt.datetime, note: str = "") -> Dossier:
    """The result is handed over (``ready -> returned``); the event records who collected it
    (someone other than the applicant: name, ID number, authorisation)."""
    if "returned" not in TRANSITIONS.get(dossier.state, frozenset()):
        raise DomainError("invalid_transition", from_state=dossier.state, to_state="returned")
    collected = _collector(dossier, who)
    return change_state(session, dossier, "returned", actor=actor, now=now, note=note,
                        details={"collected_by": collected})


def supplement_note(items: Sequence[str], reason: str) -> str:
    """The request as BM.02 reads it back: one ``- item`` a line, then ``Lý do: ...``."""
    lines = [f"- {item}" for item in items]
    return "\n".join(lines + ([f"Lý do: {reason}"] if reason else []))


def request_supplement(session: Session, dossier: Dossier, items: Sequence[str], reason: str, *,
                       actor: Actor, now: dt.datetime) -> Dossier:
    """Ask the citizen for what is missing (once; BM.02 lists ``items`` and ``reason``)."""
    cleaned = [_note_text(i, "items", MAX_ITEM, code="invalid_supplement").replace("\n", " ")
               for i in items]
    cleaned = [i for i in cleaned if i]
    reason = _note_text(reason, "reason", code="invalid_supplement").replace("\n", " ")
    if not reason:
        raise DomainError("invalid_supplement", status=422, field="reason")
    note = supplement_note(cleaned, reason)
    if not cleaned or len(cleaned) > MAX_SUPPLEMENT_ITEMS or len(note) > MAX_NOTE:
        raise DomainError("invalid_supplement", status=422, field="items")
    return change_state(session, dossier, "supplement_requested", actor=actor, now=now, note=note,
                        details={"missing": cleaned, "reason": reason})


def can_apologise(session: Session, dossier: Dossier, now: dt.datetime) -> bool:
    """Whether ``apologise`` would take the dossier now (once, overdue or due soon)."""
    if dossier.apology_count >= 1 or dossier.state not in RUNNING_STATES:
        return False
    unit = session.get(Unit, dossier.unit_id)
    assert unit is not None
    calendar = load_calendar(session, unit, since=unit.business_date(now))
    return is_overdue(dossier, now) or _due_soon(calendar, unit, dossier, now)


def apology_date(session: Session, dossier: Dossier, working_days: int, now: dt.datetime) -> dt.date:
    """The date ``working_days`` working days after the appointment in force (or after
    today, when that is later): what an apology "in N working days" promises."""
    if not 1 <= working_days <= 60:
        raise DomainError("invalid_new_appointment", status=422, reason="working_days")
    unit = session.get(Unit, dossier.unit_id)
    assert unit is not None
    today = unit.business_date(now)
    calendar = load_calendar(session, unit, since=today)
    day = max(unit.local(dossier.due_at).date(), today)
    for _ in range(working_days):
        day = calendar.next_working_day(day)
    return day


def actions_for(session: Session, dossier: Dossier, now: dt.datetime) -> list[str]:
    """The desk's actions the dossier's state allows, in the order the page shows them:
    ``process``, ``ready``, ``hand_over``, ``supplement``, ``supplemented``, ``apologise``,
    ``reject``, ``withdraw``."""
    allowed = TRANSITIONS.get(dossier.state, frozenset())
    wanted = {
        "process": dossier.state == "received",
        "ready": "ready" in allowed,
        "hand_over": "returned" in allowed,
        "supplement": "supplement_requested" in allowed and dossier.supplement_count < 1,
        "supplemented": dossier.state == "supplement_requested",
        "apologise": can_apologise(session, dossier, now),
        "reject": "rejected" in allowed,
        "withdraw": "withdrawn" in allowed,
    }
    return [name for name, ok in wanted.items() if ok]


# --- overdue and apology -------------------------------------------------------------


def is_overdue(dossier: Dossier, now: dt.datetime) -> bool:
    """Still with the office (received, processing) and past the appointment in force."""
    return dossier.state in RUNNING_STATES and now > dossier.due_at


def _due_soon(calendar: UnitCalendar, unit: Unit, dossier: Dossier, now: dt.datetime) -> bool:
    """Due today or by the end of the next working day."""
    today = unit.business_date(now)
    return unit.local(dossier.due_at).date() <= calendar.next_working_day(today)


def apologise(session: Session, dossier: Dossier, new_appointment: dt.date, reason: str, *,
              actor: Actor, now: dt.datetime) -> Dossier:
    """Record the apology (phiếu xin lỗi và hẹn lại ngày trả kết quả) with a new date.

    At most once per dossier, only for a dossier still with the office that is overdue or
    due by the next working day. The new date must be a working day of the unit after the
    current appointment; the result is due at its closing time.
    """
    if dossier.apology_count >= 1:
        raise DomainError("apology_already_given")
    reason = (reason or "").strip()
    if not reason or len(reason) > MAX_NOTE:
        raise DomainError("reason_required", status=422)
    unit = session.get(Unit, dossier.unit_id)
    assert unit is not None
    calendar = load_calendar(session, unit, since=unit.business_date(now))
    if dossier.state not in RUNNING_STATES or not (
        is_overdue(dossier, now) or _due_soon(calendar, unit, dossier, now)
    ):
        raise DomainError("apology_not_due", state=dossier.state)
    current = unit.local(dossier.due_at).date()
    if new_appointment <= max(current, unit.business_date(now)):
        raise DomainError("invalid_new_appointment", status=422, reason="not_later")
    if not calendar.is_working_day(new_appointment):
        raise DomainError("invalid_new_appointment", status=422, reason="not_working_day")
    old = dossier.due_at
    dossier.new_appointment_at = calendar.due(new_appointment, unit.tz).astimezone(dt.UTC)
    dossier.apology_count += 1
    dossier.apology_reason, dossier.updated_at = reason, now
    session.flush()
    _event(session, dossier, "apology", dossier.state, actor, now, reason,
           previous_appointment_at=old.isoformat(),
           new_appointment_at=dossier.new_appointment_at.isoformat())
    signals.dossier_changed.send(session, dossier=dossier, action="apology",
                                 from_state=dossier.state)
    return dossier
