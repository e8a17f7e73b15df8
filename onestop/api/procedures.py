"""GET /procedures?q= (the catalogue, searched without diacritics), GET /procedures/{code}."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import select

from onestop.api import bp
from onestop.api.common import resolve_unit
from onestop.api.schemas import Strict
from onestop.dossiers.models import Procedure, fold
from onestop.extensions import db
from onestop.queueing.errors import NotFound
from onestop.textsort import vi_key

MAX_ID = 2**31 - 1


class ProcedureQuery(Strict):
    q: str = Field(default="", max_length=200)
    service_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    limit: int = Field(default=20, ge=1, le=50)
    unit: str | None = Field(default=None, max_length=40)
    lang: str | None = Field(default=None, max_length=8)


class ProcedureOut(BaseModel):
    id: int
    code: str
    name: str
    service_id: int | None
    processing_days: int
    fee: str
    documents: list[Any]


class ProcedureList(BaseModel):
    procedures: list[ProcedureOut]


def procedure_dict(procedure: Procedure) -> dict[str, Any]:
    return {"id": procedure.id, "code": procedure.code, "name": procedure.name,
            "service_id": procedure.service_id, "processing_days": procedure.processing_days,
            "fee": procedure.fee, "documents": list(procedure.documents or [])}


def search(unit_id: int, text: str, service_id: int | None, limit: int) -> list[Procedure]:
    """Active procedures whose code or name holds every word of ``text``, accents optional."""
    query = select(Procedure).where(Procedure.unit_id == unit_id, Procedure.active.is_(True))
    for word in fold(text).split()[:10]:
        query = query.where(Procedure.search_text.contains(word, autoescape=True))
    if service_id is not None:
        query = query.where(Procedure.service_id == service_id)
    # Vietnamese order (Đ after D), so sorted here: SQL orders by code point
    found = db.session.scalars(query)
    return sorted(found, key=lambda p: (vi_key(p.name), p.id))[:limit]


@bp.get("/procedures")
@bp.input(ProcedureQuery, location="query", arg_name="query")
@bp.output(ProcedureList)
@bp.doc(summary="Administrative procedures matching the text (diacritics optional)",
        responses=[404, 422])
def list_procedures(query: ProcedureQuery) -> dict[str, Any]:
    unit = resolve_unit()
    found = search(unit.id, query.q, query.service_id, query.limit)
    return {"procedures": [procedure_dict(p) for p in found]}


@bp.get("/procedures/<code>")
@bp.output(ProcedureOut)
@bp.doc(summary="One procedure by its national code", responses=[404])
def get_procedure(code: str) -> dict[str, Any]:
    unit = resolve_unit()
    procedure = db.session.scalar(
        select(Procedure).where(Procedure.unit_id == unit.id, Procedure.code == code)
    ) if len(code) <= 40 else None
    if procedure is None:
        raise NotFound("procedure_not_found")
    return procedure_dict(procedure)
