"""A dossier's printed forms (PDF) and the tracking book (XLSX).

- ``GET /dossiers/{code}/receipt.pdf``: BM.01 Giấy tiếp nhận hồ sơ và hẹn trả kết quả;
- ``GET /dossiers/{code}/supplement.pdf``: BM.02, once a supplement was requested;
- ``GET /dossiers/{code}/refusal.pdf``: BM.03, when the dossier was rejected;
- ``GET /dossiers/{code}/apology.pdf``: BM.04, once an apology was given;
- ``GET /dossiers/book.xlsx?service_id=&year=``: the tracking book (sổ theo dõi hồ sơ).

Forms are for staff and integration accounts of the dossier's unit; a form the dossier
does not have (yet) is a 404 ``form_not_available``. PDFs are sent inline with an ASCII
file name and are never cached (they carry personal data).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from flask import Response, current_app, request
from flask_babel import get_locale, gettext
from pydantic import Field
from sqlalchemy import select

from onestop import offload
from onestop.accounts.auth import require_user
from onestop.accounts.models import User
from onestop.api import bp
from onestop.api.common import now, resolve_unit
from onestop.api.schemas import Strict
from onestop.audit import engine as audit
from onestop.dossiers import book, forms
from onestop.dossiers.engine import find_dossier
from onestop.dossiers.lookup import lookup_url
from onestop.dossiers.models import Dossier, DossierEvent
from onestop.extensions import db
from onestop.queueing.errors import NotFound
from onestop.queueing.models import Service
from onestop.units.models import Unit

FORM_READERS = ("admin", "manager", "clerk", "integration")
BOOK_READERS = ("admin", "manager", "clerk")
MAX_CODE = 64
MAX_ID = 2**31 - 1
BULLET = re.compile(r"^\s*(?:[-*•+]|\d{1,3}[.)])\s*")
REASON = re.compile(r"^\s*(?:lý do|ly do)\s*:\s*", re.IGNORECASE)


# -- building the forms' inputs from the database -----------------------------------------------


def unit_info(unit: Unit) -> forms.UnitInfo:
    """The unit as the forms print it; the optional lines come from the unit's settings
    (``parent_name``: the governing body, ``place``: the date line's place name, ``phone``)."""
    extra = unit.settings or {}
    return forms.UnitInfo(name=unit.name, parent_name=str(extra.get("parent_name") or ""),
                          address=unit.address, code=unit.code, place=str(extra.get("place") or ""),
                          phone=str(extra.get("phone") or ""), timezone=unit.timezone)


def _user_name(user_id: int | None) -> str:
    user = db.session.get(User, user_id) if user_id else None
    return (user.full_name or user.username) if user else ""


def dossier_info(dossier: Dossier) -> forms.DossierInfo:
    """What BM.01-04 print about ``dossier``: applicant, documents, legal time, book entry, QR."""
    config = current_app.config
    service = db.session.get(Service, dossier.service_id) if dossier.service_id else None
    return forms.DossierInfo(
        code=dossier.code, procedure_name=dossier.procedure.name,
        applicant_name=dossier.applicant_name, received_at=dossier.received_at,
        number_in_book=dossier.book_line, book_volume=dossier.book_volume,
        service_name=service.name if service else "",
        applicant_id_number=dossier.applicant_id_number, applicant_phone=dossier.applicant_phone,
        applicant_email=dossier.applicant_email, applicant_address=dossier.applicant_address,
        on_behalf_of=dossier.on_behalf_of, documents=list(dossier.documents or []),
        legal_days=dossier.procedure.processing_days, appointment_at=dossier.appointment_at,
        clerk_name=_user_name(dossier.received_by_id),
        lookup_url=lookup_url(config["PUBLIC_BASE_URL"], config["SECRET_KEY"], dossier.code),
        procedure_code=dossier.procedure.code,
    )


def _last_event(dossier: Dossier, action: str, to_state: str | None = None) -> DossierEvent | None:
    query = select(DossierEvent).where(DossierEvent.dossier_id == dossier.id, DossierEvent.action == action)
    if to_state is not None:
        query = query.where(DossierEvent.to_state == to_state)
    return db.session.scalars(query.order_by(DossierEvent.id.desc()).limit(1)).first()


def supplement_items(note: str) -> tuple[list[str], str]:
    """The supplement note as (items, reason): one item a line, bullets and numbers dropped;
    a line starting with "Lý do:" is the reason."""
    items, reasons = [], []
    for line in (note or "").splitlines():
        if REASON.match(line):
            reasons.append(REASON.sub("", line).strip())
        elif text := BULLET.sub("", line).strip():
            items.append(text)
    return items, " ".join(r for r in reasons if r)


# -- the routes ---------------------------------------------------------------------------------


def _dossier(code: str) -> tuple[Unit, Dossier]:
    """The dossier of a form; the read is written to the audit log (the forms print the
    applicant's personal data)."""
    unit = resolve_unit()
    if len(code) > MAX_CODE:
        raise NotFound("dossier_not_found")
    dossier = find_dossier(db.session(), code, unit.id)
    form = (request.endpoint or "").rsplit(".", 1)[-1]
    audit.record_request(db.session(), action="read", entity="dossier", entity_id=dossier.code,
                         unit_id=dossier.unit_id, after={"form": form})
    return unit, dossier


def ascii_filename(form: str, code: str) -> str:
    return f"{form}-{re.sub(r'[^A-Za-z0-9._-]+', '_', code)}.pdf"


def _render(render: Callable[..., bytes], *args: Any, **kwargs: Any) -> bytes:
    """A form drawn in a worker process (fpdf2 and the QR are CPU work the event loop must
    not do); the request's reads and its audit entry are committed first, so no database
    lock is held while it draws."""
    db.session.commit()
    return offload.run_offloaded(render, *args, **kwargs)


def _pdf(data: bytes, form: str, code: str) -> Response:
    response = Response(data, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'inline; filename="{ascii_filename(form, code)}"'
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def _unavailable(form: str) -> NotFound:
    return NotFound("form_not_available", form=form)


Responses = dict[int | str, dict[str, str | dict[str, dict[str, Any]]]]
PDF_RESPONSES: Responses = {
    200: {"description": "the form as a PDF", "content": {"application/pdf": {}}},
    401: {"description": "sign in"}, 403: {"description": "role"},
    404: {"description": "dossier_not_found, form_not_available"},
}
PDF_DOC: dict[str, Any] = {"responses": PDF_RESPONSES}
XLSX_RESPONSES: Responses = {
    200: {"description": "the workbook",
          "content": {"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {}}},
    401: {"description": "sign in"}, 403: {"description": "role"},
    404: {"description": "service_not_found"}, 422: {"description": "validation_error"},
}


@bp.get("/dossiers/<code>/receipt.pdf")
@require_user(*FORM_READERS)
@bp.doc(summary="BM.01 Giấy tiếp nhận hồ sơ và hẹn trả kết quả (PDF, with the lookup QR)", **PDF_DOC)
def receipt_pdf(code: str) -> Response:
    unit, dossier = _dossier(code)
    info, code_ = dossier_info(dossier), dossier.code
    return _pdf(_render(forms.render_bm01, unit_info(unit), info), "BM01", code_)


@bp.get("/dossiers/<code>/supplement.pdf")
@require_user(*FORM_READERS)
@bp.doc(summary="BM.02 Phiếu yêu cầu bổ sung, hoàn thiện hồ sơ (PDF)",
        description="Only once a supplement was requested; the items are the lines of the "
        "request's note (a line \"Lý do: ...\" is the reason).", **PDF_DOC)
def supplement_pdf(code: str) -> Response:
    unit, dossier = _dossier(code)
    event = _last_event(dossier, "state", "supplement_requested")
    if dossier.supplement_count < 1 or event is None:
        raise _unavailable("supplement")
    items, reason = supplement_items(dossier.supplement_note or event.note)
    code_ = dossier.code
    data = _render(forms.render_bm02, unit_info(unit), dossier_info(dossier), items, reason,
                   _user_name(event.actor_user_id), event.at)
    return _pdf(data, "BM02", code_)


@bp.get("/dossiers/<code>/refusal.pdf")
@require_user(*FORM_READERS)
@bp.doc(summary="BM.03 Phiếu từ chối tiếp nhận giải quyết hồ sơ (PDF)",
        description="Only for a rejected dossier; the reason is the rejection's note.", **PDF_DOC)
def refusal_pdf(code: str) -> Response:
    unit, dossier = _dossier(code)
    event = _last_event(dossier, "state", "rejected")
    if dossier.state != "rejected" or event is None:
        raise _unavailable("refusal")
    code_ = dossier.code
    data = _render(forms.render_bm03, unit_info(unit), dossier_info(dossier), event.note or dossier.note,
                   _user_name(event.actor_user_id), event.at)
    return _pdf(data, "BM03", code_)


@bp.get("/dossiers/<code>/apology.pdf")
@require_user(*FORM_READERS)
@bp.doc(summary="BM.04 Phiếu xin lỗi và hẹn lại ngày trả kết quả (PDF)",
        description="Only once an apology was given (POST /dossiers/{code}/apology).", **PDF_DOC)
def apology_pdf(code: str) -> Response:
    unit, dossier = _dossier(code)
    event = _last_event(dossier, "apology")
    if dossier.apology_count < 1 or dossier.new_appointment_at is None or event is None:
        raise _unavailable("apology")
    extra = unit.settings or {}
    code_ = dossier.code
    data = _render(forms.render_bm04, unit_info(unit), dossier_info(dossier), dossier.apology_reason,
                   dossier.new_appointment_at, event.at, signer_name=str(extra.get("head_name") or ""))
    return _pdf(data, "BM04", code_)


# -- the tracking book ----------------------------------------------------------------------------


class BookQuery(Strict):
    service_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    year: int | None = Field(default=None, ge=2000, le=2100)
    unit: str | None = Field(default=None, max_length=40)
    lang: str | None = Field(default=None, max_length=8)


def book_service(unit: Unit, service_id: int | None) -> Service | None:
    """The field whose book is asked for (``None``: every field); 404 if not the unit's."""
    if service_id is None:
        return None
    service = db.session.get(Service, service_id) if service_id <= MAX_ID else None
    if service is None or service.unit_id != unit.id:
        raise NotFound("service_not_found")
    return service


def book_title(service: Service | None, year: int) -> str:
    field = service.name if service else gettext("Tất cả lĩnh vực")
    return gettext("SỔ THEO DÕI HỒ SƠ – %(field)s – năm %(year)s", field=field, year=year)


@bp.get("/dossiers/book.xlsx")
@require_user(*BOOK_READERS)
@bp.input(BookQuery, location="query", arg_name="query")
@bp.doc(summary="The tracking book (sổ theo dõi hồ sơ) of a field and year, as XLSX",
        description="Without service_id: every field; without year: this year. Rows in book "
        "order (volume, line). Texts that a spreadsheet would evaluate are prefixed with an "
        "apostrophe.", responses=XLSX_RESPONSES)
def book_xlsx(query: BookQuery) -> Response:
    unit = resolve_unit()
    at = now()
    service = book_service(unit, query.service_id)
    year = query.year or unit.business_date(at).year
    title = book_title(service, year)
    db.session.commit()  # the worker reads on its own connection; hold no lock meanwhile
    lines, data = offload.run_offloaded(
        book.xlsx_job, offload.database_url(), unit.id, year=year,
        service_id=service.id if service else None, now=at, locale=str(get_locale() or "vi"),
        title=title, subtitle=unit.name)
    audit_book_read(unit, service, year, lines)
    code = re.sub(r"[^A-Za-z0-9_-]+", "_", service.code if service else "all")
    response = Response(data, mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response.headers["Content-Disposition"] = f'attachment; filename="so-theo-doi-ho-so-{code}-{year}.xlsx"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


def audit_book_read(unit: Unit, service: Service | None, year: int, dossiers: int) -> None:
    """Who read a year of applicants' names (the page or its XLSX) goes to the audit log."""
    audit.record_request(db.session(), action="read", entity="book",
                         entity_id=f"{service.code if service else 'all'}/{year}", unit_id=unit.id,
                         after={"dossiers": dossiers})

