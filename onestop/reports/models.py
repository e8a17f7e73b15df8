"""The reports' summary of closed days (issue 24): one row per unit and day summarised.

A past business date whose tickets are all settled never changes again, so its figures are
summarised once (``onestop.reports.rollup``): per (field, counter, clerk) a *cell* with the
counts (issued, served, missed, ratings by level, bookings by state, dossiers...) and the
exact samples (each wait and each service in seconds) from which a period's averages,
percentiles and service level are computed again; a day's cells are stored as a few arrays
in one row. A year's report then reads 365 rows instead of two million ticket events.
``version`` says how the day was summarised (a day of an older version is read from the
events again until it is summarised anew).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, ForeignKey, LargeBinary, Text
from sqlalchemy.orm import Mapped, mapped_column

from onestop.db import Base, UTCDateTime, utcnow


class ReportDay(Base):
    """A summarised day of a unit: ``facts`` (JSON: the codes and the arrays' lengths) and
    ``block`` (the arrays: each cell's field, counter and clerk, its counts, tallies, ticket
    sets and samples; ``onestop.reports.rollup.encode``). ``cells``: how many cells."""

    __tablename__ = "report_days"
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    version: Mapped[int] = mapped_column()
    cells: Mapped[int] = mapped_column(default=0)
    facts: Mapped[str] = mapped_column(Text)
    block: Mapped[bytes] = mapped_column(LargeBinary)
    written_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
