"""The public procedure catalogue on the kiosk: browse by field, search without diacritics.

Rendered on the server from the ``Procedure`` table (a kiosk needs no JSON round trip); the
page's script re-asks for the results list (``?partial=1``) as the citizen types.
"""

from __future__ import annotations

from typing import Any

from flask import render_template, request
from sqlalchemy import select

from kiosk import bp
from kiosk.pages import MAX_ID, frame, service_name
from kiosk.texts import processing_text
from onestop.api import common
from onestop.dossiers.models import Procedure, fold
from onestop.extensions import db
from onestop.queueing.errors import NotFound
from onestop.queueing.models import Counter, CounterService, Service
from onestop.textsort import vi_key
from onestop.units.models import Unit

MAX_QUERY = 100
MAX_WORDS = 8
LIMIT = 60


def search(unit: Unit, text: str, service_id: int | None = None,
           limit: int = LIMIT) -> list[Procedure]:
    """Active procedures whose code or name holds every word of ``text`` (accents optional).

    "khai sinh", "Khai Sinh" and "khai sinh" all match "Đăng ký khai sinh"; names that start
    with the words come first, then names holding them as a phrase, then the rest.
    """
    words = fold(text[:MAX_QUERY]).split()[:MAX_WORDS]
    query = select(Procedure).where(Procedure.unit_id == unit.id, Procedure.active.is_(True))
    for word in words:
        query = query.where(Procedure.search_text.contains(word, autoescape=True))
    if service_id is not None:
        query = query.where(Procedure.service_id == service_id)
    # Vietnamese order (Đ after D): sorted here, SQL orders by code point
    found = sorted(db.session.scalars(query.limit(2000)), key=lambda p: (vi_key(p.name), p.id))[:500]
    phrase = " ".join(words)

    def rank(p: Procedure) -> tuple[int, Any]:
        name = fold(p.name)
        return (0 if name.startswith(phrase) else 1 if phrase in name else 2, vi_key(p.name))

    return sorted(found, key=rank)[:limit] if phrase else found[:limit]


def _services(unit: Unit) -> list[Service]:
    return list(db.session.scalars(select(Service).where(Service.unit_id == unit.id)
                                   .order_by(Service.sort_order, Service.id)))


def _rows(procedures: list[Procedure], names: dict[int, str]) -> list[dict[str, Any]]:
    return [{"id": p.id, "code": p.code, "name": p.name, "field": names.get(p.service_id or 0, ""),
             "time": processing_text(p.processing_days)} for p in procedures]


@bp.get("/kiosk/procedures")
def procedures() -> str:
    unit = common.resolve_unit()
    services = _services(unit)
    names = {s.id: service_name(s) for s in services}
    text = request.args.get("q", "")[:MAX_QUERY]
    service_id = request.args.get("service", type=int)
    if service_id not in names:
        service_id = None
    rows = _rows(search(unit, text, service_id), names) if (text.strip() or service_id) else []
    context = {"rows": rows, "q": text, "service_id": service_id, "searched": bool(text.strip()),
               "field_name": names.get(service_id or 0, "")}
    if request.args.get("partial") == "1":
        return render_template("kiosk/_results.html", **context)
    return render_template("kiosk/procedures.html", services=services, names=names, **context,
                           **frame(unit, "procedures"))


@bp.get("/kiosk/procedures/<int:procedure_id>")
def procedure(procedure_id: int) -> str:
    unit = common.resolve_unit()
    proc = db.session.get(Procedure, procedure_id) if procedure_id <= MAX_ID else None
    if proc is None or proc.unit_id != unit.id or not proc.active:
        raise NotFound("procedure_not_found")
    service = db.session.get(Service, proc.service_id) if proc.service_id else None
    counters = list(db.session.scalars(
        select(Counter.number).join(CounterService, CounterService.counter_id == Counter.id)
        .where(CounterService.service_id == proc.service_id, Counter.unit_id == unit.id)
        .order_by(Counter.number))) if service else []
    return render_template(
        "kiosk/procedure.html", proc=proc, service=service,
        field_name=service_name(service) if service else "", counters=counters,
        time=processing_text(proc.processing_days), **frame(unit, "procedure"))
