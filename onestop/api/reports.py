"""Reports for managers and admins: summary, breakdowns, heat map, staffing, exports.

``GET /reports/summary?from=YYYY-MM-DD&to=YYYY-MM-DD[&service_id][&counter_id][&clerk_id]``
(DESIGN §4), or ``?preset=month|quarter|half|year[&anchor=YYYY-MM-DD][&basis=calendar|nd09]``
instead of the dates (without either: the current month). Dates are business dates in the
unit's timezone. Definitions of every figure: docs/reports.md.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, Literal

from flask import Response
from flask_babel import get_locale, gettext
from flask_login import current_user
from pydantic import ConfigDict, Field
from sqlalchemy import select

from onestop import offload
from onestop.accounts.auth import require_user
from onestop.accounts.models import User
from onestop.api import bp
from onestop.api.common import now, resolve_unit
from onestop.api.schemas import MAX_UNITS_PARAM, Strict
from onestop.extensions import db
from onestop.queueing.errors import DomainError, NotFound
from onestop.queueing.models import Counter, CounterService, Service
from onestop.ratings import scales
from onestop.reports import exports, figures, jobs, periods, several
from onestop.reports.queries import Filters
from onestop.textsort import vi_key
from onestop.units.calendar import load_calendar
from onestop.units.models import Unit

READERS = ("manager", "admin")
MAX_ID = 2**31 - 1
Id = Field(default=None, ge=1, le=MAX_ID)


class ReportQuery(Strict):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, populate_by_name=True)
    date_from: dt.date | None = Field(default=None, alias="from")
    date_to: dt.date | None = Field(default=None, alias="to")
    preset: Literal["month", "quarter", "half", "year"] | None = None
    anchor: dt.date | None = None
    basis: Literal["calendar", "nd09"] = "calendar"
    service_id: int | None = Id
    counter_id: int | None = Id
    clerk_id: int | None = Id
    unit: str | None = Field(default=None, max_length=40)
    units: str | None = Field(default=None, max_length=MAX_UNITS_PARAM,
                              description="several units (supervisors, admins): codes separated by "
                              "commas; a row per unit and a ranking (onestop/reports/several.py)")
    lang: str | None = Field(default=None, max_length=8)


class BreakdownQuery(ReportQuery):
    by: Literal["service", "counter", "clerk"] = "service"


class ExportQuery(ReportQuery):
    format: Literal["xlsx", "csv", "pdf"] = "xlsx"


def units_of(query: ReportQuery) -> list[Unit] | None:
    """The units of a several-unit report: ``?units=`` (supervisors and admins), or every
    unit of a supervisor asking for none; ``None``: the one unit, as before."""
    from onestop.api.overview import WATCHERS, split_codes, visible_units

    user = current_user._get_current_object()
    if query.units is None and user.role != "supervisor":
        return None
    if user.role not in WATCHERS:
        raise DomainError("forbidden", status=403)
    if query.service_id or query.counter_id or query.clerk_id:
        raise DomainError("filters_need_one_unit", status=422)
    codes = split_codes(query.units)
    units = visible_units(db.session(), user, codes)
    if not units or (codes and len(units) != len(set(codes))):
        raise NotFound("unit_not_found")  # unknown or not the supervisor's: the same answer
    return units


def several_summary(units: list[Unit], query: ReportQuery) -> dict[str, Any]:
    per_unit = [({"id": u.id, "code": u.code, "name": u.name}, _summary(compute(u, query))) for u in units]
    first = per_unit[0][1]
    return several.summary({"from": first["from"], "to": first["to"]}, per_unit)


def period_of(unit: Unit, query: ReportQuery) -> periods.Period:
    """The period asked for; 422 ``invalid_period`` when half given, reversed or too long."""
    if query.date_from or query.date_to:
        if not (query.date_from and query.date_to) or query.preset:
            raise DomainError("invalid_period", status=422)
        try:
            return periods.checked(query.date_from, query.date_to)
        except ValueError:
            raise DomainError("invalid_period", status=422) from None
    anchor = query.anchor or unit.business_date(now())
    return periods.preset(query.preset or "month", anchor, query.basis)


def filters_of(unit: Unit, query: ReportQuery) -> Filters:
    """The filters, each checked to be the unit's (404 otherwise)."""
    session = db.session()
    if query.service_id is not None:
        svc = session.get(Service, query.service_id)
        if svc is None or svc.unit_id != unit.id:
            raise NotFound("service_not_found")
    if query.counter_id is not None:
        counter = session.get(Counter, query.counter_id)
        if counter is None or counter.unit_id != unit.id:
            raise NotFound("counter_not_found")
    if query.clerk_id is not None:
        user = session.get(User, query.clerk_id)
        if user is None or user.unit_id not in (unit.id, None):
            raise NotFound("user_not_found")
    return Filters(query.service_id, query.counter_id, query.clerk_id)


def names(unit: Unit) -> dict[str, dict[int, str]]:
    """Display names of the breakdown keys: fields, counters, clerks."""
    session = db.session()
    services = {s.id: s.name for s in session.scalars(select(Service).where(Service.unit_id == unit.id))}
    counters = {c.id: (c.name or gettext("Quầy %(n)s", n=c.number))
                for c in session.scalars(select(Counter).where(Counter.unit_id == unit.id))}
    users = {u.id: (u.full_name or u.username) for u in session.scalars(
        select(User).where((User.unit_id == unit.id) | User.unit_id.is_(None)))}
    return {"service": services, "counter": counters, "clerk": users}


def level_labels(unit: Unit) -> dict[str, str]:
    labels = {level.code: gettext(level.label) for scale in scales.SCALES.values() for level in scale}
    labels[scales.NOT_RATED] = gettext(scales.NOT_RATED_LABEL)
    return labels


def compute(unit: Unit, query: ReportQuery) -> dict[str, Any]:
    """The figures, computed in a worker process off the event loop (a year is seconds of
    CPU); 503 ``busy`` when the workers are full or it takes too long."""
    period = period_of(unit, query)
    chosen = filters_of(unit, query)
    db.session.commit()  # the report reads on its own connection; hold no lock meanwhile
    return offload.run_offloaded(jobs.report, offload.database_url(), unit.id, period, chosen, now())


def _summary(report: dict[str, Any]) -> dict[str, Any]:
    report["ratings"]["by_level"] = exports.ordered_levels(report["ratings"]["by_level"])
    return {"from": report["period"]["from"], "to": report["period"]["to"],
            "target_wait_minutes": report["target_wait_minutes"], **report["summary"],
            "ratings": report["ratings"], "dossiers": report["dossiers"]}


def _returns(report: dict[str, Any], clerks: dict[int, str]) -> dict[str, Any] | None:
    """Results handed over, per clerk named and in Vietnamese order (None: counter filter)."""
    returns = report.get("returns")
    if returns is None:
        return None
    rows = [{**row, "name": clerks.get(int(row["id"]), f"#{row['id']}")} for row in returns["by_clerk"]]
    return {**returns, "by_clerk": sorted(rows, key=lambda r: vi_key(str(r["name"])))}


def _bookings(report: dict[str, Any], services: dict[int, str]) -> dict[str, Any] | None:
    """Bookings and numbers from a phone, each field and day row with the field's name."""
    bookings = report.get("bookings")
    if bookings is None:
        return None
    daily = [{**row, "name": services.get(int(row["service_id"]), f"#{row['service_id']}")}
             for row in bookings["daily"]]
    return {**bookings, "daily": daily}


def _rows(report: dict[str, Any], dim: str, labels: dict[int, str]) -> list[dict[str, Any]]:
    rows = [{"id": int(key), "name": labels.get(int(key), f"#{key}"), **values}
            for key, values in report["breakdown"][dim].items()]
    return sorted(rows, key=lambda r: vi_key(str(r["name"])))  # Vietnamese order: Đ after D


@bp.get("/reports/summary")
@require_user(*READERS, "supervisor")
@bp.input(ReportQuery, location="query", arg_name="query")
@bp.doc(summary="Queue and dossier figures of a period (managers, admins)",
        description="issued, served, missed, transferred, expired; average and p90 wait and service "
        "minutes; service level (share of waits within the unit's target_wait_minutes); ratings by "
        "level and satisfaction rate; dossiers received, finished early / on time / late, overdue, "
        "apologies; results returned (in total and per clerk: returned, mean_days and median_days "
        "from ready to returned); bookings (made, booked, checked_in, no_show, cancelled on their "
        "slot's day, by_channel, remote_tickets, daily rows per field) and waits_by_arrival "
        "(booked, walk_in, remote: count, avg and p90 minutes from issue to first call; a booked "
        "citizen's from the slot's start or the check-in, whichever is later). Computed from the "
        "event trails; see docs/reports.md.",
        responses=[200, 401, 403, 404, 422])
def report_summary(query: ReportQuery) -> dict[str, Any]:
    if (units := units_of(query)) is not None:
        return several_summary(units, query)
    unit = resolve_unit()
    report = compute(unit, query)
    labels = names(unit)
    return {**_summary(report), "returns": _returns(report, labels["clerk"]),
            "bookings": _bookings(report, labels["service"]), "waits_by_arrival": report["waits_by_arrival"]}


@bp.get("/reports/breakdown")
@require_user(*READERS)
@bp.input(BreakdownQuery, location="query", arg_name="query")
@bp.doc(summary="The ticket figures per field, counter or clerk (by=service|counter|clerk)",
        responses=[200, 401, 403, 404, 422])
def report_breakdown(query: BreakdownQuery) -> dict[str, Any]:
    unit = resolve_unit()
    report = compute(unit, query)
    return {"from": report["period"]["from"], "to": report["period"]["to"], "by": query.by,
            "rows": _rows(report, query.by, names(unit)[query.by])}


@bp.get("/reports/heatmap")
@require_user(*READERS)
@bp.input(ReportQuery, location="query", arg_name="query")
@bp.doc(summary="Tickets issued per weekday (0 = Monday) and local hour (0-23)",
        responses=[200, 401, 403, 404, 422])
def report_heatmap(query: ReportQuery) -> dict[str, Any]:
    report = compute(resolve_unit(), query)
    return {"from": report["period"]["from"], "to": report["period"]["to"],
            "weekday_hour": report["heatmap"]}


@bp.get("/reports/data")
@require_user(*READERS)
@bp.input(ReportQuery, location="query", arg_name="query")
@bp.doc(summary="Everything the reports page shows, in one answer", responses=[200, 401, 403, 404, 422])
def report_data(query: ReportQuery) -> dict[str, Any]:
    unit = resolve_unit()
    report = compute(unit, query)
    labels = names(unit)
    report["breakdown"] = {dim: _rows(report, dim, labels[dim]) for dim in figures.DIMENSIONS}
    report["returns"] = _returns(report, labels["clerk"])
    report["bookings"] = _bookings(report, labels["service"])
    report["level_labels"] = level_labels(unit)
    report["level_order"] = exports.level_order()  # best to worst, then "not rated"
    report["ratings"]["by_level"] = exports.ordered_levels(report["ratings"]["by_level"])
    return report


@bp.get("/reports/staffing")
@require_user(*READERS)
@bp.input(ReportQuery, location="query", arg_name="query")
@bp.doc(summary="Counters needed per field and hour (Erlang C) beside the counters open",
        description="Needed: the smallest number of counters that keeps the share of citizens "
        "waiting longer than target_wait_minutes at or under 20 %.", responses=[200, 401, 403, 422])
def report_staffing(query: ReportQuery) -> dict[str, Any]:
    unit = resolve_unit()
    return staffing_of(unit, period_of(unit, query), query.service_id)


def staffing_of(unit: Unit, period: periods.Period, service_id: int | None = None) -> dict[str, Any]:
    session = db.session()
    services = [{"id": s.id, "name": s.name, "weekdays": list(s.weekdays or [])}
                for s in session.scalars(select(Service).where(Service.unit_id == unit.id)
                                         .order_by(Service.sort_order, Service.id))
                if service_id is None or s.id == service_id]
    links: dict[int, list[int]] = {}
    for counter_id, sid in session.execute(
            select(CounterService.counter_id, CounterService.service_id).join(
                Counter, Counter.id == CounterService.counter_id).where(Counter.unit_id == unit.id)):
        links.setdefault(int(counter_id), []).append(int(sid))
    calendar = load_calendar(session, unit, since=period.start)
    db.session.commit()
    return offload.run_offloaded(jobs.advice, offload.database_url(), unit.id, period, now(), calendar,
                                 services, links)


EXPORT_TYPES = {"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                "csv": "text/csv; charset=utf-8", "pdf": "application/pdf"}
EXPORT_RESPONSES: dict[int, Any] = {
    200: {"description": "the report file", "content": {t: {} for t in EXPORT_TYPES.values()}},
    401: {"description": "sign in"}, 403: {"description": "role"},
    404: {"description": "service_not_found, counter_not_found, user_not_found"},
    422: {"description": "validation_error, invalid_period"},
}


def _date(value: str) -> str:
    return dt.date.fromisoformat(value).strftime("%d/%m/%Y")


@bp.get("/reports/export")
@require_user(*READERS, "supervisor")
@bp.input(ExportQuery, location="query", arg_name="query")
@bp.doc(summary="The report as XLSX, CSV or PDF (format=xlsx|csv|pdf)",
        description="Texts that a spreadsheet would evaluate are written with a leading apostrophe.",
        responses=EXPORT_RESPONSES)
def report_export(query: ExportQuery) -> Response:
    if (units := units_of(query)) is not None:
        return several_export(units, query)
    unit = resolve_unit()
    period, chosen = period_of(unit, query), filters_of(unit, query)
    start, end = period.start.isoformat(), period.end.isoformat()
    title = gettext("BÁO CÁO TÌNH HÌNH PHỤC VỤ TỪ %(start)s ĐẾN %(end)s", start=_date(start), end=_date(end))
    target = exports.number(float(unit.setting("target_wait_minutes")))
    footer = gettext("Chờ đạt chuẩn: không quá %(n)s phút. Số liệu tính từ nhật ký sự kiện; "
                     "xem định nghĩa trong tài liệu báo cáo.", n=target)
    labels, levels = names(unit), level_labels(unit)
    db.session.commit()  # the worker reads on its own connection; hold no lock meanwhile
    # figures and file both built in a worker process: seconds of CPU for a year
    body = offload.run_offloaded(
        jobs.export_file, offload.database_url(), unit.id, period, chosen, now(), fmt=query.format,
        locale=str(get_locale() or "vi"), names=labels, level_labels=levels, title=title,
        subtitle=unit.name, footer=footer)
    return _attachment(body, query.format, f"{unit.code}-{start}-{end}")


def _attachment(body: bytes, fmt: str, name: str) -> Response:
    code = re.sub(r"[^A-Za-z0-9_.-]+", "_", name)
    response = Response(body, mimetype=EXPORT_TYPES[fmt].split(";")[0])
    if fmt == "csv":
        response.headers["Content-Type"] = EXPORT_TYPES["csv"]
    response.headers["Content-Disposition"] = f'attachment; filename="bao-cao-{code}.{fmt}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


def several_export(units: list[Unit], query: ExportQuery) -> Response:
    """Several units' export: a row per unit in rank order, then each indicator's ranking."""
    answer = several_summary(units, query)
    start, end = answer["from"], answer["to"]
    title = gettext("BÁO CÁO TÌNH HÌNH PHỤC VỤ TỪ %(start)s ĐẾN %(end)s", start=_date(start), end=_date(end))
    subtitle = gettext("%(n)s đơn vị", n=len(units))
    parts = several.tables(answer, gettext)
    if query.format == "xlsx":
        body = exports.xlsx(title, subtitle, parts)
    elif query.format == "csv":
        body = exports.csv_bytes(title, subtitle, parts)
    else:
        footer = gettext("Xếp hạng theo các chỉ tiêu của Quyết định 766/QĐ-TTg; xem định nghĩa "
                         "trong tài liệu báo cáo.")
        body = exports.pdf(title, subtitle, parts, footer)
    return _attachment(body, query.format, f"{len(units)}-don-vi-{start}-{end}")
