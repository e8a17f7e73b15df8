"""POST /devices/pair: a kiosk or display browser trades its pairing code for a token."""

from __future__ import annotations

from typing import Any

from flask import current_app, jsonify
from pydantic import Field

from onestop.accounts import engine as accounts
from onestop.accounts.auth import DEVICE_COOKIE
from onestop.api import bp
from onestop.api.common import now
from onestop.api.schemas import Strict
from onestop.extensions import db, limiter


class PairIn(Strict):
    code: str = Field(min_length=4, max_length=16)


@bp.post("/devices/pair")
@limiter.limit("20 per minute")
@bp.input(PairIn, arg_name="body")
@bp.doc(summary="Pair this browser as a device; the token is also set in a cookie",
        responses=[400, 422, 429])
def pair(body: PairIn) -> Any:
    device, token = accounts.pair_device(db.session(), body.code, now=now())
    response = jsonify(token=token, device={"id": device.id, "kind": device.kind,
                                            "name": device.name, "unit_id": device.unit_id,
                                            "counter_id": device.counter_id})
    response.set_cookie(DEVICE_COOKIE, token, max_age=10 * 365 * 86400, httponly=True,
                        samesite="Lax", secure=current_app.config["PUBLIC_BASE_URL"].startswith("https"))
    return response
