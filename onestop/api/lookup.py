"""GET /lookup?code=&k= (QR) or ?code=&phone4= (typed): the public view of a dossier.

``code`` may also be the whole URL of the receipt's QR, as a kiosk's USB scanner types it.

Public and rate limited, with one budget shared with the ``/lookup`` pages:
``LOOKUP_RATE_LIMIT`` per client address (default 30 per minute), and on the phone path
also ``LOOKUP_CODE_RATE_LIMIT`` per dossier code (default 10 per hour), so that the last
four digits cannot be guessed from many addresses. An unknown code and a
wrong token or phone give the same 404 ``dossier_not_found``.
"""

from __future__ import annotations

from typing import Any

from flask import current_app, request
from flask_babel import gettext
from pydantic import BaseModel, Field

from onestop.accounts import throttle
from onestop.api import bp
from onestop.api.common import now, resolve_unit
from onestop.api.integrations import ProvincialOut, linked_block, provincial_lookup
from onestop.api.schemas import Strict
from onestop.dossiers.lookup import find_by_phone, find_by_token, parse_scanned, public_view
from onestop.dossiers.models import Dossier
from onestop.extensions import db, limiter
from onestop.queueing.errors import DomainError, NotFound
from onestop.units.models import Unit


def address_limit() -> str:
    return str(current_app.config.get("LOOKUP_RATE_LIMIT") or "30 per minute")


def code_limit() -> str:
    return str(current_app.config.get("LOOKUP_CODE_RATE_LIMIT") or "10 per hour")


def code_key() -> str:
    """The dossier code asked for, as the lookup will read it: a scanned URL typed into the
    box (``…/lookup/CODE``) counts against CODE, so varying the prefix buys no more guesses."""
    code, _token = parse_scanned((request.args.get("code") or "")[:300])
    return "lookup-code:" + code.strip().upper()[:64]


def not_phone_lookup() -> bool:
    return not request.args.get("phone4")


def find_public(code: str, token: str | None, phone4: str | None) -> tuple[Dossier, dict[str, Any]]:
    """The dossier and its public view (state label translated), or ``dossier_not_found``."""
    session = db.session()
    if token:
        dossier = find_by_token(session, current_app.config["SECRET_KEY"], code, token)
    else:
        if phone4 and current_app.config.get("RATELIMIT_ENABLED", True):  # in the DB: survives a restart
            throttle.spend(session, "lookup-code", code.strip().upper()[:64], code_limit(), now())
        dossier = find_by_phone(session, code, phone4)
    unit = session.get(Unit, dossier.unit_id) if dossier else None
    if dossier is None or unit is None:
        raise NotFound("dossier_not_found")
    view = public_view(dossier, now(), unit.tz)
    label = view["state_label"]  # marked with N_() in onestop/dossiers/lookup.py
    view["state_label"] = gettext(label)
    view["provincial"] = linked_block(dossier, unit.tz)  # the province's word, when linked
    return dossier, view


class LookupQuery(Strict):
    code: str = Field(min_length=1, max_length=200)
    k: str | None = Field(default=None, max_length=64)
    phone4: str | None = Field(default=None, max_length=8)
    lang: str | None = Field(default=None, max_length=8)


class LookupOut(BaseModel):
    code: str
    procedure: str
    state: str
    state_label: str
    received_date: str
    appointment_date: str
    rescheduled: bool
    overdue: bool
    missing: str | None
    applicant_name: str
    applicant_phone: str
    source: str = "local"  # "province": a code known only to the province's system
    provincial: ProvincialOut | None = None


@bp.get("/lookup")
@limiter.shared_limit(address_limit, scope="lookup")
@limiter.shared_limit(code_limit, scope="lookup-code", key_func=code_key, exempt_when=not_phone_lookup)
@bp.input(LookupQuery, location="query", arg_name="query")
@bp.output(LookupOut)
@bp.doc(summary="Public status of a dossier (QR token, or code + last 4 digits of the phone)",
        description="Dates are dd/mm/yyyy; name and phone are masked. 404 dossier_not_found "
        "for an unknown code and for a wrong token alike.", responses=[404, 422, 429])
def lookup(query: LookupQuery) -> dict[str, Any]:
    code, scanned = parse_scanned(query.code)  # a kiosk scanner may type the whole QR URL
    token = query.k or scanned
    if not token and not query.phone4:
        province = provincial_lookup(code, resolve_unit().tz)  # a province's code needs no key
        if province is not None:
            return province
        raise DomainError("lookup_key_required", status=422)
    return find_public(code, token, query.phone4)[1]
