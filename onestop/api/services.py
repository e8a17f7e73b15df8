"""GET /services: the unit's fields, whether each is open now, who waits, how long."""

from __future__ import annotations

from typing import Any

from onestop.api import bp
from onestop.api.common import always_open, now, resolve_unit
from onestop.api.schemas import ServiceList, UnitQuery
from onestop.extensions import db
from onestop.queueing.state import service_list


@bp.get("/services")
@bp.input(UnitQuery, location="query", arg_name="query")
@bp.output(ServiceList)
@bp.doc(summary="Fields of the unit with open_now, waiting and estimated wait", responses=[404])
def list_services(query: UnitQuery) -> dict[str, Any]:
    unit = resolve_unit()
    return {"services": service_list(db.session(), unit, now(), always_open())}
