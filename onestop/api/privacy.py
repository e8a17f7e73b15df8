"""GET /privacy/person?id_number=: one person's data on request (Nghị định 13/2023/NĐ-CP).

Administrators only. An administrator bound to a unit sees that unit's dossiers; one without
a unit sees every unit's. Every call is written to the audit log (with the ID number masked:
the log itself must not become a second copy of the personal data). Never cached.
"""

from __future__ import annotations

from typing import Any

from flask import jsonify
from flask_login import current_user
from pydantic import Field

from onestop import privacy
from onestop.accounts.auth import require_user
from onestop.api import bp
from onestop.api.common import now
from onestop.api.schemas import Strict
from onestop.audit import engine as audit
from onestop.extensions import db


class PersonQuery(Strict):
    id_number: str = Field(pattern=r"^[0-9]{9,12}$", description="CMND (9) or CCCD (12 digits)")
    lang: str | None = Field(default=None, max_length=8)
    unit: str | None = Field(default=None, max_length=40)


@bp.get("/privacy/person")
@require_user("admin")  # above the input: anonymous gets 401 before the query is parsed
@bp.input(PersonQuery, location="query", arg_name="query")
@bp.doc(summary="Every dossier held about one ID number (the data subject's copy)",
        description="Admin only; audited. Fields: id_number, generated_at, legal_basis, purposes, "
        "retention, dossiers [{code, unit, procedure, state, received_at, appointment_at, "
        "closed_at, applicant, documents, events}].", responses=[200, 401, 403, 422])
def person(query: PersonQuery) -> Any:
    session = db.session()
    unit_id = current_user.unit_id
    data = privacy.export_person(session, query.id_number, now(), unit_id=unit_id)
    audit.record_request(session, action="export", entity="person",
                         entity_id=privacy.mask_id_number(query.id_number), unit_id=unit_id,
                         after={"dossiers": [d["code"] for d in data["dossiers"]]})
    response = jsonify(data)
    response.headers["Cache-Control"] = "private, no-store"
    return response
