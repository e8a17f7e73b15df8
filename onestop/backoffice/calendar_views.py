"""``/admin/calendar``: the unit's own days off and make-up working days (``UnitDay``), next
to the national holidays of the ``holidays`` package (read-only).

Appointments are computed with ``onestop.units.calendar.load_calendar``, which reads these
rows on every dossier: a new day off moves the appointments computed from then on (dossiers
already received keep the date printed on their receipt).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import abort, render_template, request
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from onestop.backoffice import bp
from onestop.backoffice.common import audit, done, now, session, snapshot, unit
from onestop.backoffice.forms import WEEKDAYS, ConfirmForm, UnitDayForm
from onestop.queueing.errors import NotFound
from onestop.units.calendar import UnitCalendar, national_days, national_holiday_names
from onestop.units.models import UnitDay


def _year() -> int:
    try:
        year = int(request.args.get("year", ""))
    except ValueError:
        year = unit().business_date(now()).year
    return max(2000, min(2100, year))


def _page(form: UnitDayForm, year: int, status: int = 200) -> Any:
    u = unit()
    start, end = dt.date(year, 1, 1), dt.date(year, 12, 31)
    days = session().scalars(select(UnitDay).where(UnitDay.unit_id == u.id, UnitDay.date >= start,
                                                   UnitDay.date <= end).order_by(UnitDay.date))
    language = "en_US" if request.args.get("lang") == "en" else "vi"
    try:
        holidays = national_holiday_names(year, language)
    except (KeyError, NotImplementedError, ValueError):  # a language the package lacks
        holidays = national_holiday_names(year)
    worked = sorted(national_days(year)[1])
    return render_template("backoffice/calendar.html", form=form, year=year, days=list(days),
                           holidays=holidays, worked=worked, weekdays=dict(WEEKDAYS)), status


@bp.get("/calendar")
def calendar() -> Any:
    return _page(UnitDayForm(), _year())


@bp.post("/calendar")
def calendar_add() -> Any:
    u = unit()
    form = UnitDayForm()
    if form.validate_on_submit():
        day, kind = form.date.data, form.kind.data
        national = UnitCalendar().is_working_day(day)
        if session().scalar(select(UnitDay).where(UnitDay.unit_id == u.id, UnitDay.date == day)):
            form.date.errors.append(gettext("Ngày này đã có trong lịch riêng của đơn vị."))
        elif kind == "off" and not national:
            form.date.errors.append(gettext("Ngày này đã là ngày nghỉ (cuối tuần hoặc ngày lễ)."))
        elif kind == "working" and national:
            form.date.errors.append(gettext("Ngày này vốn là ngày làm việc; ngày làm bù là một ngày nghỉ."))
        else:
            row = UnitDay(unit_id=u.id, date=day, kind=kind, note=(form.note.data or "").strip())
            session().add(row)
            session().flush()
            audit("create", "unit_day", row.id, None, snapshot(row), unit_id=u.id)
            return done(_l("Đã thêm ngày vào lịch của đơn vị."), "backoffice.calendar", year=day.year)
    year = form.date.data.year if form.date.data else _year()
    return _page(form, year, 422)


@bp.post("/calendar/<int:day_id>/delete")
def calendar_delete(day_id: int) -> Any:
    if not ConfirmForm().validate_on_submit():
        abort(400)
    u = unit()
    row = session().get(UnitDay, day_id) if day_id < 2**31 else None
    if row is None or row.unit_id != u.id:
        raise NotFound("not_found")
    before, year = snapshot(row), row.date.year
    session().delete(row)
    audit("delete", "unit_day", day_id, before, None, unit_id=u.id)
    return done(_l("Đã xoá ngày khỏi lịch của đơn vị."), "backoffice.calendar", year=year)
