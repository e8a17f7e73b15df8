"""``/admin/counters``: counters (quầy), the fields each serves, in order or with weights.

A change is announced with ``counter_changed`` (the workstation and displays refresh the
counter) and ``queue_changed`` for the fields involved; the next call at the counter uses
the new fields and mode.
"""

from __future__ import annotations

from typing import Any

from flask import render_template, request
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from onestop import signals
from onestop.backoffice import bp
from onestop.backoffice.common import audit, done, session, snapshot, unit
from onestop.backoffice.forms import CounterForm
from onestop.queueing.errors import NotFound
from onestop.queueing.models import Counter, CounterService, Service
from onestop.units.models import Unit

RUNTIME = frozenset({"state", "pause_reason", "clerk_id", "calls_since_priority"})
MAX_POSITION, MAX_WEIGHT = 99, 10


def _services(u: Unit) -> list[Service]:
    return list(session().scalars(select(Service).where(Service.unit_id == u.id)
                                  .order_by(Service.sort_order, Service.id)))


def counter_snapshot(counter: Counter, names: dict[int, str]) -> dict[str, Any]:
    data = snapshot(counter, exclude=RUNTIME)
    data["services"] = [f"{names.get(link.service_id, link.service_id)} ×{link.weight}"
                        for link in counter.links]
    return data


@bp.get("/counters")
def counters() -> str:
    u = unit()
    rows = session().scalars(select(Counter).where(Counter.unit_id == u.id).order_by(Counter.number))
    names = {s.id: s.name for s in _services(u)}
    return render_template("backoffice/counters.html", counters=list(rows), names=names)


def _choices(services: list[Service], counter: Counter | None) -> tuple[list[dict[str, Any]], list[str]]:
    """The per-field position and weight as submitted (or as stored); errors for the form."""
    links = {link.service_id: link for link in (counter.links if counter else [])}
    rows: list[dict[str, Any]] = []
    errors: list[str] = []
    for s in services:
        if request.method == "POST":
            pos_raw = request.form.get(f"pos_{s.id}", "").strip()
            weight_raw = request.form.get(f"weight_{s.id}", "").strip() or "1"
        else:
            link = links.get(s.id)
            pos_raw = str(counter.links.index(link) + 1) if counter and link else ""
            weight_raw = str(link.weight) if link else "1"
        row: dict[str, Any] = {"service": s, "pos": pos_raw, "weight": weight_raw, "error": None}
        try:
            position = int(pos_raw) if pos_raw else None
            weight = int(weight_raw)
            if position is not None and not 1 <= position <= MAX_POSITION:
                raise ValueError
            if not 1 <= weight <= MAX_WEIGHT:
                raise ValueError
            row["position"], row["weight_value"] = position, weight
        except ValueError:
            row["error"] = gettext("Thứ tự từ 1 đến %(p)d, trọng số từ 1 đến %(w)d.",
                                   p=MAX_POSITION, w=MAX_WEIGHT)
            errors.append(row["error"])
        rows.append(row)
    if not errors and not any(r.get("position") for r in rows):
        errors.append(gettext("Chọn ít nhất một lĩnh vực cho quầy (điền thứ tự)."))
    return rows, errors


def _set_links(counter: Counter, rows: list[dict[str, Any]]) -> None:
    chosen = sorted((r for r in rows if r.get("position")),
                    key=lambda r: (r["position"], r["service"].sort_order, r["service"].id))
    existing = {link.service_id: link for link in counter.links}
    links = []
    for index, r in enumerate(chosen):
        link = existing.get(r["service"].id) or CounterService(service_id=r["service"].id)
        link.position, link.weight = index, r["weight_value"]
        links.append(link)
    counter.links = links


def _number_taken(u: Unit, number: int, counter_id: int | None) -> bool:
    other = session().scalar(select(Counter).where(Counter.unit_id == u.id, Counter.number == number))
    return other is not None and other.id != counter_id


def _save(form: CounterForm, counter: Counter | None) -> Any:
    u = unit()
    services = _services(u)
    rows, link_errors = _choices(services, counter)
    if form.validate_on_submit():
        if _number_taken(u, form.number.data, counter.id if counter else None):
            form.number.errors.append(gettext("Quầy số %(n)d đã có.", n=form.number.data))
        elif not link_errors:
            names = {s.id: s.name for s in services}
            created = counter is None
            if counter is None:
                counter = Counter(unit_id=u.id, state="closed")
                session().add(counter)
            before = None if created else counter_snapshot(counter, names)
            old_ids = set(counter.service_ids)
            counter.number, counter.name = form.number.data, (form.name.data or "").strip()
            counter.zone, counter.service_mode = (form.zone.data or "").strip(), form.service_mode.data
            _set_links(counter, rows)
            session().flush()
            audit("create" if created else "update", "counter", counter.id, before,
                  counter_snapshot(counter, names), unit_id=u.id)
            signals.counter_changed.send(session(), counter=counter)
            signals.queue_changed.send(session(), unit_id=u.id,
                                       service_ids=sorted(old_ids | set(counter.service_ids)))
            return done(_l("Đã lưu quầy."), "backoffice.counters")
    show_link_errors = request.method == "POST"
    status = 422 if (form.errors or (show_link_errors and link_errors)) else 200
    return render_template("backoffice/counter_form.html", form=form, row=counter, rows=rows,
                           link_errors=link_errors if show_link_errors else []), status


@bp.route("/counters/new", methods=["GET", "POST"])
def counter_new() -> Any:
    form = CounterForm()
    if not form.is_submitted():
        form.service_mode.data = "fifo"
    return _save(form, None)


@bp.route("/counters/<int:counter_id>", methods=["GET", "POST"])
def counter_edit(counter_id: int) -> Any:
    counter = session().get(Counter, counter_id) if counter_id < 2**31 else None
    if counter is None or counter.unit_id != unit().id:
        raise NotFound("counter_not_found")
    return _save(CounterForm(obj=counter), counter)
