"""Satisfaction ratings (đánh giá mức độ hài lòng).

``GET /ratings/scale``: the unit's levels, best first (a list, as DESIGN §4 shows; the
reasons and the timeout are in the tablet's own state, ``GET /counter/tablet/state.json``).
``POST /ratings``: the rating tablet of the counter that served a finished ticket records
the citizen's answer, once. ``POST /lookup/rating``: a citizen rates a dossier once from
its public lookup page (code and the QR's key, rate limited like the lookup).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from flask import current_app, url_for
from flask_babel import gettext as _
from flask_login import current_user
from pydantic import BaseModel, Field

from onestop.accounts.auth import current_device
from onestop.api import bp
from onestop.api.common import now, resolve_unit
from onestop.api.lookup import address_limit
from onestop.api.schemas import Strict
from onestop.dossiers.lookup import find_by_token
from onestop.dossiers.models import Dossier
from onestop.extensions import db, limiter
from onestop.queueing.errors import DomainError, NotFound
from onestop.ratings import engine, scales
from onestop.ratings.models import Rating
from onestop.units.models import Unit

# one of the unit's rating_reasons (checked by the engine)
Reason = Annotated[str, Field(min_length=1, max_length=200)]


class LevelOut(BaseModel):
    code: str
    label: str
    needs_reason: bool


class RatingIn(Strict):
    ticket_id: int = Field(ge=1)
    level: str = Field(min_length=1, max_length=24)
    reasons: list[Reason] = Field(default_factory=list, max_length=scales.MAX_REASONS)
    comment: str = Field(default="", max_length=engine.MAX_COMMENT)


class DossierRatingIn(Strict):
    code: str = Field(min_length=1, max_length=64)
    k: str = Field(min_length=1, max_length=64)
    level: str = Field(min_length=1, max_length=24)
    reasons: list[Reason] = Field(default_factory=list, max_length=scales.MAX_REASONS)
    comment: str = Field(default="", max_length=engine.MAX_COMMENT)


class RatingOut(BaseModel):
    id: int
    ticket_id: int | None
    dossier_id: int | None
    scale: str
    level: str
    score: int
    source: str
    rated_at: dt.datetime


def level_list(unit: Unit) -> list[dict[str, Any]]:
    """The unit's levels with labels in the request's language, best first."""
    return [{"code": lv.code, "label": _(lv.label), "needs_reason": lv.needs_reason}
            for lv in scales.levels(unit.setting("rating_scale"))]


def _out(rating: Rating) -> dict[str, Any]:
    return {"id": rating.id, "ticket_id": rating.ticket_id, "dossier_id": rating.dossier_id,
            "scale": rating.scale, "level": rating.level, "score": rating.score,
            "source": rating.source, "rated_at": rating.rated_at}


def _explained(error: DomainError) -> DomainError:
    """``reason_required`` is shared with the dossier apology: say what a rating needs."""
    if error.code == "reason_required":
        error.details["message"] = _("Vui lòng chọn ít nhất một lý do chưa hài lòng hoặc ghi ý kiến.")
    return error


@bp.get("/ratings/scale")
@bp.output(list[LevelOut])  # type: ignore[arg-type]
@bp.doc(summary="The unit's rating levels, best first",
        description="Default: the three levels of Thông tư 01/2018/TT-VPCP; a unit may use five "
        "(setting rating_scale). needs_reason: the level asks for a reason or a comment.",
        responses=[404])
def rating_scale() -> list[dict[str, Any]]:
    return level_list(resolve_unit())


@bp.post("/ratings")
@bp.input(RatingIn, arg_name="body")
@bp.output(RatingOut, status_code=201)
@bp.doc(summary="Record a citizen's rating of a finished ticket (the counter's tablet only)",
        description="Only the rating tablet bound to the counter that served the ticket, with its "
        "device token (bearer or the page's cookie); never a user. level: a code of "
        "GET /ratings/scale, or not_rated when the tablet timed out. 403 not_counter_tablet or "
        "forbidden; 409 already_rated, ticket_not_finished, rating_closed (more than 10 "
        "minutes after the finish); 422 invalid_level, invalid_reason, "
        "reason_required (the lowest level needs a reason or a comment).",
        responses=[400, 401, 403, 404, 409, 422])
def rate_ticket(body: RatingIn) -> dict[str, Any]:
    if current_user.is_authenticated:  # a clerk must not rate their own service
        raise DomainError("forbidden", status=403)
    device = current_device()
    if device is None:
        raise DomainError("unauthorized", status=401)
    try:
        rating = engine.rate_ticket(db.session(), resolve_unit(), device, body.ticket_id,
                                    body.level, reasons=body.reasons, comment=body.comment,
                                    now=now())
    except DomainError as error:
        raise _explained(error) from None
    return _out(rating)


@bp.post("/lookup/rating")
@limiter.shared_limit(address_limit, scope="lookup")
@bp.input(DossierRatingIn, arg_name="body")
@bp.output(RatingOut, status_code=201)
@bp.doc(summary="A citizen rates a dossier once, from its public lookup page",
        description="code and k as in GET /lookup (the receipt's QR). 404 dossier_not_found for an "
        "unknown code and a wrong k alike; 409 already_rated; 422 as POST /ratings.",
        responses=[400, 404, 409, 422, 429])
def rate_dossier(body: DossierRatingIn) -> dict[str, Any]:
    session = db.session()
    dossier = find_by_token(session, current_app.config["SECRET_KEY"], body.code, body.k)
    unit = session.get(Unit, dossier.unit_id) if dossier else None
    if dossier is None or unit is None:
        raise NotFound("dossier_not_found")
    try:
        rating = engine.rate_dossier(session, unit, dossier, body.level, reasons=body.reasons,
                                     comment=body.comment, now=now())
    except DomainError as error:
        raise _explained(error) from None
    return _out(rating)


def dossier_rating_form(dossier: Dossier, token: str) -> dict[str, Any]:
    """What the QR lookup page needs for its rating form (onestop/lookup_pages.py): the
    levels and reasons, or ``done`` when the dossier has its rating already."""
    session = db.session()
    unit = session.get(Unit, dossier.unit_id)
    done = engine.dossier_rating(session, dossier.id) is not None
    if unit is None or done:
        return {"done": True}
    return {"done": False, "code": dossier.code, "k": token, "url": url_for("api.rate_dossier"),
            "levels": level_list(unit),
            "reasons": [{"value": r, "label": _(r)}
                        for r in scales.reasons(unit.setting("rating_reasons"))]}
