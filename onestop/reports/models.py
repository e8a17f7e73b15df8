"""The reports' summary of closed days (issue 24): one row per day summarised, and its cells.

A past business date whose tickets are all settled never changes again, so its figures are
summarised once (``onestop.reports.rollup``): per (day, field, counter, clerk) a *cell* with
the counts (issued, served, missed, ratings by level, bookings by state, dossiers...) and the
exact samples (each wait and each service in seconds) from which a period's averages,
percentiles and service level are computed again. A year's report then reads a few thousand
cells instead of two million ticket events. ``report_days`` says which days are summarised
and by which version of the summary (a day of an older version is read from the events again
until it is summarised anew).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, ForeignKey, Index, LargeBinary, Text
from sqlalchemy.orm import Mapped, mapped_column

from onestop.db import Base, UTCDateTime, utcnow


class ReportDay(Base):
    __tablename__ = "report_days"
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    version: Mapped[int] = mapped_column()
    cells: Mapped[int] = mapped_column(default=0)
    written_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class ReportCell(Base):
    """``service_id``, ``counter_id``, ``clerk_id``: the slice the facts belong to (no
    foreign keys: a report of last year names a counter or clerk removed since). ``facts``:
    JSON text of the counts; ``samples``: the cell's sample arrays, float64, one after the
    other (their lengths are in ``facts``)."""

    __tablename__ = "report_cells"
    __table_args__ = (Index("ix_report_cells_unit_day", "unit_id", "day"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    day: Mapped[dt.date] = mapped_column(Date)
    service_id: Mapped[int | None] = mapped_column()
    counter_id: Mapped[int | None] = mapped_column()
    clerk_id: Mapped[int | None] = mapped_column()
    facts: Mapped[str] = mapped_column(Text)
    samples: Mapped[bytes] = mapped_column(LargeBinary)
