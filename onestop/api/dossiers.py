"""Dossiers (hồ sơ): receive, search, read, change state, apologise. Staff and integration
accounts.

``GET /dossiers?q=&state=&service_id=&from=&to=&overdue=&due_soon=&page=&per_page=`` is the
dossier desk's search (onestop.dossiers.search). ``POST /dossiers/{code}/status`` takes what
each state needs: ``place`` (ready), ``missing`` + ``note`` as the reason
(supplement_requested, BM.02), ``collected_by`` (returned to someone else than the applicant).

``POST /dossiers`` -> 201 ``{code, state, received_at, appointment_at, lookup_url,
receipt_url, ...}``; ``receipt_url`` is the BM.01 receipt PDF (served by the forms module).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal
from urllib.parse import quote

from flask import current_app
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import select

from onestop.accounts.auth import current_actor, require_user
from onestop.accounts.models import User
from onestop.api import bp
from onestop.api.common import now, resolve_unit
from onestop.api.schemas import Strict
from onestop.audit import engine as audit
from onestop.dossiers import engine, search
from onestop.dossiers.lookup import STATE_LABELS, lookup_url
from onestop.dossiers.models import Dossier, DossierEvent, Procedure
from onestop.extensions import db
from onestop.queueing.errors import DomainError, NotFound
from onestop.queueing.models import Ticket
from onestop.queueing.state import iso

STAFF = ("admin", "manager", "clerk", "integration")
MAX_ID = 2**31 - 1
State = Literal["received", "processing", "supplement_requested", "ready", "returned", "rejected",
                "withdrawn"]


class ApplicantIn(Strict):
    # id_number and phone are checked by the dossier engine (the same patterns as the intake
    # page), which answers 422 invalid_applicant with the field and a message that says why
    name: str = Field(min_length=1, max_length=200)
    id_number: str = Field(max_length=20, description="CCCD (12 digits) or old CMND (9 digits)",
                           json_schema_extra={"pattern": f"^(?:{engine.ID_NUMBER_PATTERN})$"})
    phone: str = Field(max_length=20, description="a Vietnamese mobile number: 0 or +84, then 9 "
                       "digits starting 3, 5, 7, 8 or 9; spaces, dots, dashes ignored; stored as 0xxxxxxxxx")
    email: str = Field(default="", max_length=254)
    address: str = Field(default="", max_length=300)
    on_behalf_of: str = Field(default="", max_length=200)

    @field_validator("phone", mode="before")
    @classmethod
    def _digits(cls, value: Any) -> Any:
        return "".join(value.split()).replace(".", "").replace("-", "") if isinstance(value, str) else value


class DocumentIn(Strict):
    name: str = Field(min_length=1, max_length=200)
    count: int = Field(default=1, ge=1, le=1000, strict=True)
    # "Hình thức" on BM.01: the original (bản chính), a certified copy (bản sao), a photocopy
    form: Literal["ban_chinh", "ban_sao", "ban_chup"] = Field(
        default="ban_chinh", description="bản chính / bản sao / bản chụp")


class DossierIn(Strict):
    procedure_code: str = Field(min_length=1, max_length=40)
    applicant: ApplicantIn
    documents: list[DocumentIn] = Field(default_factory=list, max_length=50)
    ticket_id: int | None = Field(default=None, ge=1, le=MAX_ID, strict=True)


class CollectorIn(Strict):
    name: str = Field(min_length=1, max_length=200)
    id_number: str = Field(max_length=20, description="CCCD (12 digits) or old CMND (9 digits)")
    authorisation: str = Field(min_length=1, max_length=300,
                               description="relationship, giấy ủy quyền seen by the clerk")


class StatusIn(Strict):
    state: State
    note: str = Field(default="", max_length=1000)
    place: str = Field(default="", max_length=300, description="ready: where to collect the result")
    missing: list[Annotated[str, Field(min_length=1, max_length=200)]] = Field(
        default_factory=list, max_length=30,
        description="supplement_requested: what is missing (BM.02 lists it; the note is the reason)")
    collected_by: CollectorIn | None = Field(
        default=None, description="returned: who collected the result, when not the applicant")


class SearchQuery(Strict):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, populate_by_name=True)
    q: str = Field(default="", max_length=200, description="any part of the code, ID number, "
                   "phone, or the applicant's name (diacritics optional)")
    state: State | None = None
    service_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    date_from: dt.date | None = Field(default=None, alias="from", description="received on or after")
    date_to: dt.date | None = Field(default=None, alias="to", description="received on or before")
    overdue: bool | None = Field(default=None, description="only the overdue dossiers")
    due_soon: bool | None = Field(default=None, description="only those due by the next working day")
    page: int = Field(default=1, ge=1, le=100000)
    per_page: int = Field(default=search.PER_PAGE, ge=1, le=search.MAX_PER_PAGE)
    unit: str | None = Field(default=None, max_length=40)
    lang: str | None = Field(default=None, max_length=8)


class ApologyIn(Strict):
    new_appointment: str = Field(pattern=r"^\d{4}-\d{2}-\d{2}$", description="YYYY-MM-DD")
    reason: str = Field(min_length=1, max_length=1000)


class ApplicantOut(BaseModel):
    name: str
    id_number: str
    phone: str
    email: str
    address: str
    on_behalf_of: str


class ProcedureBrief(BaseModel):
    id: int
    code: str
    name: str
    processing_days: int


class BookOut(BaseModel):
    year: int
    volume: str
    line: int


class EventOut(BaseModel):
    at: str
    action: str
    from_state: str | None
    to_state: str
    note: str
    actor_user_id: int | None
    details: dict[str, Any]


class DossierBrief(BaseModel):
    code: str
    state: str
    state_label: str
    applicant_name: str
    applicant_id_number: str
    applicant_phone: str
    procedure_code: str
    procedure_name: str
    service_id: int | None
    received_at: str
    due_at: str
    overdue: bool
    url: str


class SearchOut(BaseModel):
    items: list[DossierBrief]
    total: int = Field(description="the matches; at most 1,000 (see total_capped)")
    total_capped: bool = Field(description="more than `total` (1,000) match: they were not all "
                               "counted; `pages` is then the pages known to exist (this one and "
                               "the next at least)")
    page: int
    pages: int
    per_page: int


class DossierOut(BaseModel):
    code: str
    state: str
    state_label: str
    received_at: str
    appointment_at: str
    new_appointment_at: str | None
    due_at: str
    overdue: bool
    lookup_url: str
    receipt_url: str
    procedure: ProcedureBrief
    service_id: int | None
    ticket_id: int | None
    applicant: ApplicantOut
    documents: list[dict[str, Any]]
    supplement_count: int
    supplement_note: str
    apology_count: int
    apology_reason: str
    note: str
    ready_at: str | None
    closed_at: str | None
    received_by: str | None
    book: BookOut
    events: list[EventOut]


# what an invalid applicant field breaks (the intake page says the same: counter.texts)
APPLICANT_MESSAGES = {
    "name": _l("Nhập họ và tên; họ tên không được chứa ký tự < hoặc >."),
    "id_number": _l("Số CCCD gồm 12 chữ số (CMND cũ: 9 chữ số)."),
    "phone": _l("Số điện thoại di động gồm 10 chữ số, bắt đầu bằng 03, 05, 07, 08 hoặc 09 "
                "(có thể viết +84 thay cho số 0 đầu)."),
    "email": _l("Email không đúng định dạng."),
}


def receipt_url(code: str) -> str:
    return f"/api/v1/dossiers/{quote(code, safe='')}/receipt.pdf"


def _events(dossier: Dossier) -> list[dict[str, Any]]:
    rows = db.session.scalars(select(DossierEvent).where(DossierEvent.dossier_id == dossier.id)
                              .order_by(DossierEvent.id))
    return [{"at": iso(e.at), "action": e.action, "from_state": e.from_state, "to_state": e.to_state,
             "note": e.note, "actor_user_id": e.actor_user_id, "details": e.details or {}}
            for e in rows]


def dossier_dict(dossier: Dossier) -> dict[str, Any]:
    """The full staff view of a dossier."""
    config = current_app.config
    clerk = db.session.get(User, dossier.received_by_id) if dossier.received_by_id else None
    proc = dossier.procedure
    return {
        "code": dossier.code, "state": dossier.state,
        "state_label": gettext(STATE_LABELS[dossier.state]),
        "received_at": iso(dossier.received_at), "appointment_at": iso(dossier.appointment_at),
        "new_appointment_at": iso(dossier.new_appointment_at), "due_at": iso(dossier.due_at),
        "overdue": engine.is_overdue(dossier, now()),
        "lookup_url": lookup_url(config["PUBLIC_BASE_URL"], config["SECRET_KEY"], dossier.code),
        "receipt_url": receipt_url(dossier.code),
        "procedure": {"id": proc.id, "code": proc.code, "name": proc.name,
                      "processing_days": proc.processing_days},
        "service_id": dossier.service_id, "ticket_id": dossier.ticket_id,
        "applicant": {"name": dossier.applicant_name, "id_number": dossier.applicant_id_number,
                      "phone": dossier.applicant_phone, "email": dossier.applicant_email,
                      "address": dossier.applicant_address, "on_behalf_of": dossier.on_behalf_of},
        "documents": list(dossier.documents or []),
        "supplement_count": dossier.supplement_count, "supplement_note": dossier.supplement_note,
        "apology_count": dossier.apology_count, "apology_reason": dossier.apology_reason,
        "note": dossier.note, "ready_at": iso(dossier.ready_at), "closed_at": iso(dossier.closed_at),
        "received_by": (clerk.full_name or clerk.username) if clerk else None,
        "book": {"year": dossier.book_year, "volume": dossier.book_volume, "line": dossier.book_line},
        "events": _events(dossier),
    }


def _dossier(code: str) -> Dossier:
    unit = resolve_unit()
    if len(code) > 64:
        raise NotFound("dossier_not_found")
    return engine.find_dossier(db.session(), code, unit.id)


@bp.post("/dossiers")
@require_user(*STAFF)  # above the input: anonymous gets 401 before the body is even read
@bp.input(DossierIn, arg_name="body")
@bp.output(DossierOut, status_code=201)
@bp.doc(summary="Receive a dossier: code, appointment, lookup URL (QR) and receipt URL",
        description="404 procedure_not_found, ticket_not_found; 409 procedure_inactive; "
        "422 invalid_applicant (with field).", responses=[400, 401, 403, 404, 409, 422])
def receive(body: DossierIn) -> dict[str, Any]:
    unit = resolve_unit()
    session = db.session()
    procedure = session.scalar(
        select(Procedure).where(Procedure.unit_id == unit.id, Procedure.code == body.procedure_code))
    if procedure is None:
        raise NotFound("procedure_not_found")
    ticket = session.get(Ticket, body.ticket_id) if body.ticket_id else None
    if body.ticket_id and (ticket is None or ticket.unit_id != unit.id):
        raise NotFound("ticket_not_found")
    applicant = engine.Applicant(**body.applicant.model_dump())
    documents = [d.model_dump() for d in body.documents]
    try:
        dossier = engine.receive_dossier(session, unit, procedure, applicant, documents, ticket,
                                         actor=current_actor(), now=now())
    except DomainError as refused:
        field = refused.details.get("field") if refused.code == "invalid_applicant" else None
        if field in APPLICANT_MESSAGES:  # say which rule the field breaks
            refused.details["message"] = str(APPLICANT_MESSAGES[field])
        raise
    return dossier_dict(dossier)


def desk_url(code: str) -> str:
    """The dossier's page on the dossier desk (other surfaces link to exactly this)."""
    return f"/counter/dossiers/{quote(code, safe='')}"


def brief(dossier: Dossier, at: dt.datetime) -> dict[str, Any]:
    """A search result: enough to recognise the dossier and open its page."""
    return {"code": dossier.code, "state": dossier.state,
            "state_label": gettext(STATE_LABELS[dossier.state]),
            "applicant_name": dossier.applicant_name, "applicant_id_number": dossier.applicant_id_number,
            "applicant_phone": dossier.applicant_phone, "procedure_code": dossier.procedure.code,
            "procedure_name": dossier.procedure.name, "service_id": dossier.service_id,
            "received_at": iso(dossier.received_at), "due_at": iso(dossier.due_at),
            "overdue": engine.is_overdue(dossier, at), "url": desk_url(dossier.code)}


def search_filter(query: SearchQuery) -> search.DossierFilter:
    due: search.Due | None = "overdue" if query.overdue else "soon" if query.due_soon else None
    return search.DossierFilter(q=query.q, state=query.state, service_id=query.service_id,
                                date_from=query.date_from, date_to=query.date_to, due=due)


def audit_search(unit_id: int, flt: search.DossierFilter, found: int, capped: bool = False) -> None:
    """Who searched the applicants' data for what (Nghị định 13/2023/NĐ-CP): the audit log.
    ``capped``: more than ``found`` matched (not all counted)."""
    asked = {k: str(v) for k, v in vars(flt).items() if v not in (None, "")}
    more = {"found_capped": True} if capped else {}
    audit.record_request(db.session(), action="read", entity="dossier", entity_id="search",
                         unit_id=unit_id, after={**asked, "found": found, **more})


@bp.get("/dossiers")
@require_user(*STAFF)
@bp.input(SearchQuery, location="query", arg_name="query")
@bp.output(SearchOut)
@bp.doc(summary="Search the unit's dossiers (the dossier desk), newest received first",
        description="q: any part of the code, the ID number, the phone or the applicant's name, "
        "with or without diacritics (every word must match). The matches are counted up to "
        "1,000: past that `total` is 1,000 and `total_capped` true (more than 1,000). "
        "Read-only; integration accounts may read it.", responses=[400, 401, 403, 422])
def search_dossiers(query: SearchQuery) -> dict[str, Any]:
    unit = resolve_unit()
    at = now()
    flt = search_filter(query)
    found = search.search(db.session(), unit, flt, at, page=query.page, per_page=query.per_page)
    audit_search(unit.id, flt, found.total, found.capped)
    return {"items": [brief(d, at) for d in found.items], "total": found.total,
            "total_capped": found.capped, "page": found.page, "pages": found.pages,
            "per_page": found.per_page}


@bp.get("/dossiers/<code>")
@require_user(*STAFF)
@bp.output(DossierOut)
@bp.doc(summary="A dossier with its applicant, documents and history", responses=[401, 403, 404])
def get_dossier(code: str) -> dict[str, Any]:
    dossier = _dossier(code)
    # who read whose personal data (Nghị định 13/2023/NĐ-CP): the audit log
    audit.record_request(db.session(), action="read", entity="dossier", entity_id=dossier.code,
                         unit_id=dossier.unit_id)
    return dossier_dict(dossier)


@bp.post("/dossiers/<code>/status")
@require_user(*STAFF)
@bp.input(StatusIn, arg_name="body")
@bp.output(DossierOut)
@bp.doc(summary="Move a dossier to another state",
        description="409 invalid_transition, supplement_already_requested; 422 note_required "
        "(supplement_requested and rejected need a note).", responses=[400, 401, 403, 404, 409, 422])
def change_status(code: str, body: StatusIn) -> dict[str, Any]:
    dossier = _dossier(code)
    session, actor, at = db.session(), current_actor(), now()
    if body.state == "ready":
        engine.mark_ready(session, dossier, body.place, actor=actor, now=at, note=body.note)
    elif body.state == "supplement_requested" and body.missing:
        engine.request_supplement(session, dossier, body.missing, body.note, actor=actor, now=at)
    elif body.state == "returned":
        who = body.collected_by
        collector = engine.Collector() if who is None else engine.Collector(
            by_applicant=False, name=who.name, id_number=who.id_number, authorisation=who.authorisation)
        engine.hand_over(session, dossier, collector, actor=actor, now=at, note=body.note)
    else:
        engine.change_state(session, dossier, body.state, actor=actor, now=at, note=body.note)
    return dossier_dict(dossier)


@bp.post("/dossiers/<code>/apology")
@require_user(*STAFF)
@bp.input(ApologyIn, arg_name="body")
@bp.output(DossierOut)
@bp.doc(summary="Apologise for a late dossier and set a new appointment date (once)",
        description="409 apology_already_given, apology_not_due; 422 invalid_new_appointment.",
        responses=[400, 401, 403, 404, 409, 422])
def apologise(code: str, body: ApologyIn) -> dict[str, Any]:
    try:
        new_date = dt.date.fromisoformat(body.new_appointment)
    except ValueError:
        raise DomainError("invalid_new_appointment", status=422, reason="bad_date") from None
    dossier = _dossier(code)
    engine.apologise(db.session(), dossier, new_date, body.reason, actor=current_actor(), now=now())
    return dossier_dict(dossier)
