"""``POST /applicants/from-cccd {"payload"}``: the chip ID card's QR read at the desk.

The intake page and the dossier desk send what the scanner (or the camera) read; the answer
is the applicant's fields to fill in, or 422 with a ``cccd_*`` code and a Vietnamese message
saying what is wrong (``onestop/dossiers/cccd.py``). One rule, on the server.

Nothing is stored and nothing is logged: the payload travels in the body (the access log
records the path only), the call writes no audit entry and no row; the dossier keeps what the
clerk then submits with it.
"""

from __future__ import annotations

from typing import Any

from flask_babel import gettext
from pydantic import BaseModel, Field

from onestop.accounts.auth import require_user
from onestop.api import bp
from onestop.api.common import now, resolve_unit
from onestop.api.schemas import Strict
from onestop.dossiers import cccd
from onestop.queueing.errors import DomainError

DESK = ("admin", "manager", "clerk")


class CccdIn(Strict):
    payload: str = Field(min_length=1, max_length=cccd.MAX_PAYLOAD)


class ApplicantOut(BaseModel):
    name: str
    id_number: str
    old_id_number: str
    birth_date: str  # YYYY-MM-DD
    sex: str  # "Nam" / "Nữ"
    address: str


@bp.post("/applicants/from-cccd")
@require_user(*DESK)  # above the input: anonymous gets 401 before the body is even read
@bp.input(CccdIn, arg_name="body")
@bp.output(ApplicantOut)
@bp.doc(summary="The applicant's fields from the chip ID card's QR (nothing stored)",
        description="422 cccd_malformed, cccd_truncated, cccd_id_number, cccd_old_id_number, "
        "cccd_name, cccd_birth_date, cccd_sex, cccd_address, cccd_issue_date, cccd_inconsistent, "
        "each with a message saying what to do.", responses=[400, 401, 403, 422])
def applicant_from_cccd(body: CccdIn) -> dict[str, Any]:
    today = resolve_unit().business_date(now())
    try:
        card = cccd.parse(body.payload, today)
    except cccd.CccdError as refused:
        raise DomainError(refused.code, status=422, message=gettext(refused.message)) from None
    return card.applicant()
