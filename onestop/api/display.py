"""GET /display/state: what a hall display shows now (also the Socket.IO snapshot)."""

from __future__ import annotations

from typing import Any

from onestop.api import bp
from onestop.api.common import now, resolve_unit
from onestop.api.schemas import DisplayQuery
from onestop.extensions import db
from onestop.queueing.state import display_state


def parse_zones(raw: str | None) -> list[str] | None:
    zones = [z.strip() for z in (raw or "").split(",") if z.strip()]
    return zones or None


@bp.get("/display/state")
@bp.input(DisplayQuery, location="query", arg_name="query")
@bp.doc(summary="Counters, recent calls and people waiting, as a hall display shows them",
        responses={200: "The display state (the same object as the Socket.IO `state` snapshot)",
                   404: "unit_not_found"})
def state(query: DisplayQuery) -> dict[str, Any]:
    return display_state(db.session(), resolve_unit(), now(), parse_zones(query.zone))
