"""The reports' heavy work, as jobs for :func:`onestop.offload.run_offloaded`.

A year of a busy unit is seconds of CPU (the figures' Python pass, the XLSX/PDF writing):
run on the server's event loop it would stall every kiosk and display. Each job takes the
database URL and ids (plain, picklable values), reads through its own read-only
connection (:func:`onestop.reports.queries.reading`) and returns plain data or bytes.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from onestop import offload
from onestop.reports import exports, figures, staffing
from onestop.reports.periods import Period
from onestop.reports.queries import Filters, reading
from onestop.units.calendar import UnitCalendar
from onestop.units.models import Unit


def report(url: str, unit_id: int, period: Period, chosen: Filters, now: dt.datetime) -> dict[str, Any]:
    """Every figure of the reports page (:func:`onestop.reports.figures.build`)."""
    with reading(offload.engine(url)) as conn:
        unit = Session(bind=conn).get(Unit, unit_id)
        assert unit is not None
        return figures.build(conn, unit, period, chosen, now)


def advice(url: str, unit_id: int, period: Period, now: dt.datetime, calendar: UnitCalendar,
           services: list[dict[str, Any]], links: dict[int, list[int]]) -> dict[str, Any]:
    """The staffing table (:func:`onestop.reports.staffing.advice`)."""
    with reading(offload.engine(url)) as conn:
        unit = Session(bind=conn).get(Unit, unit_id)
        assert unit is not None
        return staffing.advice(conn, unit, period, now, calendar, services, links)


def export_file(url: str, unit_id: int, period: Period, chosen: Filters, now: dt.datetime, *,
                fmt: str, locale: str, names: dict[str, dict[int, str]], level_labels: dict[str, str],
                title: str, subtitle: str, footer: str) -> bytes:
    """The report as an XLSX, CSV or PDF file; the texts in ``locale`` (already translated
    where they carry the caller's values: title, subtitle, footer, names)."""
    built = report(url, unit_id, period, chosen, now)
    parts = exports.tables(built, names, level_labels, offload.translator(locale))
    if fmt == "xlsx":
        return exports.xlsx(title, subtitle, parts)
    if fmt == "csv":
        return exports.csv_bytes(title, subtitle, parts)
    return exports.pdf(title, subtitle, parts, footer)
