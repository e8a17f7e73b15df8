"""The dossier desk's search: one filter for the desk page, its API and the tracking book.

``q`` matches any part of the code (``0001``, ``261206-0001``), the ID number, the phone
(``+84`` read as ``0``, spaces ignored) or the applicant's name with or without diacritics;
every word must match. A scanned chip ID card QR (``ID|old ID|name|...``) searches by its
ID number. The text looked in is ``Dossier.search_text`` (filled on write), without folding
at read time.

With a year of dossiers (a busy centre receives ~1,000 a working day: 250,000 a year) the
desk's list must not read them all (issue 24 item 3): the results are read newest first
along an index of that order (``ix_dossiers_unit_received``, by state
``ix_dossiers_unit_state_received``, by field ``ix_dossiers_unit_service_received``,
migration 0017), a page stops after its rows, a date range bounds ``received_at`` too (the
index's column; ``business_date`` is the day of ``received_at`` in the unit's timezone),
and the matches are counted up to ``COUNT_CAP`` only: past that the page says "more than
1,000" (``Page.capped``). A text that matches few dossiers is still looked for in every
``search_text`` of the unit (a ``LIKE '%...%'`` has no index); its page is then the last
one and is not counted again.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import ColumnElement, Select, and_, func, or_, select
from sqlalchemy.orm import Session

from onestop.dossiers.models import DOSSIER_STATES, RUNNING_STATES, Dossier, fold
from onestop.units.calendar import load_calendar
from onestop.units.models import Unit

Due = Literal["overdue", "soon"]
PER_PAGE = 20
MAX_PER_PAGE = 100
MAX_WORDS = 8
PHONE = re.compile(r"0[0-9]{9}")
COUNT_CAP = 1000  # the matches are counted up to this many; past it "more than 1,000"


@dataclass(frozen=True)
class DossierFilter:
    """What the clerk asked for; every part optional. ``date_from`` / ``date_to`` are the
    days of receipt (the unit's dates, both included)."""

    q: str = ""
    state: str | None = None
    service_id: int | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    due: Due | None = None
    year: int | None = None  # the tracking book's year (book_year)


def words(q: str) -> list[str]:
    """The query as folded words; a chip ID card QR payload is its ID number."""
    text = (q or "").strip()
    if "|" in text:
        text = text.split("|", 1)[0].strip()
    return fold(text).split()[:MAX_WORDS]


def phone_digits(q: str) -> str | None:
    """The query as a mobile number (``0912 345 678``, ``+84912345678``), if it is one."""
    digits = re.sub(r"[ .\-]", "", (q or "").strip())
    if digits.startswith("+84"):
        digits = "0" + digits[3:]
    return digits if PHONE.fullmatch(digits) else None


def _like(word: str) -> ColumnElement[bool]:
    escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return Dossier.search_text.like(f"%{escaped}%", escape="\\")


def day_start(unit: Unit, day: dt.date) -> dt.datetime:
    """The start (UTC) of ``day`` in the unit's timezone: ``business_date >= day`` is
    ``received_at >= day_start(day)``."""
    return dt.datetime.combine(day, dt.time(0), tzinfo=unit.tz).astimezone(dt.UTC)


def due_soon_cutoff(session: Session, unit: Unit, now: dt.datetime) -> dt.datetime:
    """The end of the next working day (UTC): a dossier due by then is due soon."""
    today = unit.business_date(now)
    calendar = load_calendar(session, unit, since=today)
    day = calendar.next_working_day(today)
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), tzinfo=unit.tz).astimezone(dt.UTC)


def search_query(session: Session, unit: Unit, flt: DossierFilter,
                 now: dt.datetime) -> Select[Dossier]:
    """The dossiers of ``unit`` that match ``flt``, newest first (not paged)."""
    query = select(Dossier).where(Dossier.unit_id == unit.id)
    matched = [_like(word) for word in words(flt.q)]
    if (phone := phone_digits(flt.q)) is not None:
        # written with spaces or +84 it is a phone; the same text may also be a code part
        query = query.where(or_(_like(phone), and_(*matched)))
    elif matched:
        query = query.where(*matched)
    if flt.state in DOSSIER_STATES:
        query = query.where(Dossier.state == flt.state)
    if flt.service_id is not None:
        query = query.where(Dossier.service_id == flt.service_id)
    # the days as business_date says, and as the same bounds of received_at (the indexes'
    # column: a date range reads only its days, not the history after them)
    if flt.date_from is not None:
        query = query.where(Dossier.business_date >= flt.date_from,
                            Dossier.received_at >= day_start(unit, flt.date_from))
    if flt.date_to is not None:
        query = query.where(Dossier.business_date <= flt.date_to)
        if flt.date_to < dt.date.max:
            query = query.where(Dossier.received_at < day_start(unit, flt.date_to + dt.timedelta(days=1)))
    if flt.year is not None:
        query = query.where(Dossier.book_year == flt.year)
    if flt.due is not None:
        due_at = func.coalesce(Dossier.new_appointment_at, Dossier.appointment_at)
        running = Dossier.state.in_(RUNNING_STATES)
        if flt.due == "overdue":
            query = query.where(running, due_at < now)
        else:
            query = query.where(running, and_(due_at >= now, due_at < due_soon_cutoff(session, unit, now)))
    return query


def count(session: Session, query: Select[Dossier], limit: int | None = None) -> int:
    """How many dossiers ``query`` finds; with ``limit``, at most that many (it reads no
    further than the ``limit``-th match)."""
    if limit is None:
        return int(session.scalar(query.with_only_columns(func.count(Dossier.id)).order_by(None)) or 0)
    found = query.with_only_columns(Dossier.id).order_by(None).limit(limit).subquery()
    return int(session.scalar(select(func.count()).select_from(found)) or 0)


@dataclass(frozen=True)
class Page:
    """One page of results. ``capped``: there are more than ``total`` (= ``COUNT_CAP``)
    matches, they were not all counted; ``pages`` is then the pages known to exist."""

    items: list[Dossier]
    total: int
    page: int
    pages: int
    per_page: int
    capped: bool = False

    @property
    def first(self) -> int:
        """The position of the first item (1-based); 0 when empty."""
        return (self.page - 1) * self.per_page + 1 if self.items else 0

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


def _rows(session: Session, query: Select[Dossier], page: int, per_page: int) -> list[Dossier]:
    """The page's rows and the first of the next page, if there is one."""
    return list(session.scalars(query.offset((page - 1) * per_page).limit(per_page + 1)).unique())


def search(session: Session, unit: Unit, flt: DossierFilter, now: dt.datetime, *, page: int = 1,
           per_page: int = PER_PAGE) -> Page:
    """One page of the matching dossiers, newest received first; ``page`` is clamped into
    the pages there are.

    The page is read first (newest first along the index, the page's rows and one more);
    if nothing follows it, it is the last page and the total is known without counting;
    otherwise the matches are counted up to ``COUNT_CAP`` (+1, to know there are more). A
    page asked past the end (an old link) is answered with the last page: that reads as
    far as the offset asked for, not further."""
    per_page = min(max(per_page, 1), MAX_PER_PAGE)
    page = max(page, 1)
    query = search_query(session, unit, flt, now).order_by(Dossier.received_at.desc(),
                                                             Dossier.id.desc())
    rows = _rows(session, query, page, per_page)
    if not rows and page > 1:
        total = count(session, query, COUNT_CAP + 1)
        if total > COUNT_CAP:
            total = count(session, query)
        page = max(1, -(-total // per_page))
        rows = _rows(session, query, page, per_page)
    items = rows[:per_page]
    seen = (page - 1) * per_page + len(items)
    if len(rows) <= per_page:  # the last page: everything before it was a full page
        total, capped = seen, False
    elif seen >= COUNT_CAP:
        total, capped = COUNT_CAP, True
    else:
        total = count(session, query, COUNT_CAP + 1)
        total, capped = (COUNT_CAP, True) if total > COUNT_CAP else (total, False)
    # capped: the pages known, those of the first COUNT_CAP, this one and the next
    pages = max(-(-COUNT_CAP // per_page), page + 1) if capped else max(1, -(-total // per_page))
    return Page(items=items, total=total, page=page, pages=pages, per_page=per_page, capped=capped)
