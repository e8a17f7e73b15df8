"""Demo history: a few weeks of realistic past activity for the demo centre.

``seed_history`` simulates the working days before ``today`` (weekends, Vietnamese public
holidays and the unit's own days off skipped; each field only on its weekdays): citizens
arrive through the opening windows with a mid-morning peak and a smaller afternoon one,
the counters that serve a field call them (strict priority, then oldest first, as
``onestop.queueing.policy`` does), some do not come (recall, skip -> missed, a few come
back and are re-queued), a few are transferred, clerks pause for lunch. Finished tickets
get tablet ratings and, for a share of them, dossiers that run through received ->
processing -> ready -> returned (some early, some late, a few with an apology).

The rows are exactly those the engines write (``TicketEvent`` actions ``issue``, ``call``,
``recall``, ``start``, ``skip``, ``requeue``, ``transfer``, ``finish``, and ``expire`` from
the nightly day close; ``CounterEvent`` ``open`` / ``pause`` / ``resume`` / ``close``;
``DossierEvent`` ``receive`` / ``state`` / ``apology``), so reports cannot tell them from
real activity. They go in with bulk inserts, and the daily counters of those days are set
to what was handed out, so numbering today is untouched. Deterministic for a given seed.
Names, ID numbers and phones are invented (see docs/demo-history.md).
"""

from __future__ import annotations

import datetime as dt
import heapq
import math
import random
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, insert, select, text
from sqlalchemy.orm import Session

from onestop.accounts.models import User
from onestop.db import DailyCounter
from onestop.dossiers.engine import appointment_for, book_volume, dossier_code
from onestop.dossiers.models import Dossier, DossierEvent, Procedure, fold
from onestop.queueing.engine import make_label
from onestop.queueing.models import Counter, CounterEvent, Service, Ticket, TicketEvent
from onestop.queueing.schedule import windows as service_windows
from onestop.ratings import scales
from onestop.ratings.models import Rating
from onestop.units.calendar import UnitCalendar, load_calendar
from onestop.units.models import Unit

DEFAULT_SEED = 20251


@dataclass(frozen=True)
class FieldProfile:
    """How busy a field is: mean arrivals a day, median service minutes, dossier share."""

    arrivals: float
    service_minutes: float
    dossier_share: float


PROFILES: dict[str, FieldProfile] = {
    "TPHT": FieldProfile(65, 6.0, 0.5),
    "DD": FieldProfile(30, 8.0, 0.7),
    "LDTBXH": FieldProfile(24, 8.0, 0.5),
    "KTHT": FieldProfile(12, 10.0, 0.55),
    "DKKD": FieldProfile(12, 8.0, 0.6),
    "YT": FieldProfile(6, 9.0, 0.45),
    "GD": FieldProfile(4, 7.0, 0.35),
    "VHTT": FieldProfile(5, 5.0, 0.35),
    "NV": FieldProfile(6, 6.0, 0.35),
    "NN": FieldProfile(8, 7.0, 0.4),
}
OTHER_FIELD = FieldProfile(6, 7.0, 0.4)
WEEKDAY_LOAD = {1: 1.15, 2: 1.0, 3: 1.0, 4: 0.95, 5: 0.9}  # Mondays are busiest

MISSED = 0.03  # called tickets whose citizen does not come (more after a long wait)
COME_BACK = 0.35  # of the missed, those who come back and are re-queued
TRANSFER = 0.012
RATED = 0.7  # finished tickets with a rating row (not_rated included)
NOT_RATED = 0.1  # of the rating rows: the tablet timed out
LATE = 0.09  # dossiers ready after their appointment
APOLOGY = 0.45  # of the late dossiers: an apology with a new date
ALL_DAY = [(dt.time(7, 30), dt.time(17, 0))]  # a field without windows: office hours
MIN_SLOT = dt.timedelta(minutes=4)  # a clerk calls nobody this close to the end of a window
PRIORITIES = (("none", 0.91), ("elderly", 0.06), ("disabled", 0.01), ("pregnant", 0.01),
              ("meritorious", 0.01))
NOT_SERVED_OUTCOMES = (("served", 0.7), ("guided", 0.26), ("not_competent", 0.04))
GOOD_COMMENTS = ("", "", "", "Cán bộ hướng dẫn tận tình", "Giải quyết nhanh", "Cảm ơn cán bộ")
BAD_COMMENTS = ("", "Chờ gần một tiếng", "Đề nghị bố trí thêm quầy buổi sáng")
LUNCH, BREAK = "Nghỉ trưa", "Họp giao ban"
APOLOGY_REASONS = (
    "Hồ sơ cần xác minh thêm tại thực địa",
    "Chờ ý kiến của cơ quan phối hợp",
    "Cán bộ xử lý hồ sơ nghỉ ốm đột xuất",
)


@dataclass
class HistorySummary:
    """What ``seed_history`` wrote (all zero when there was history already)."""

    days: int = 0
    tickets: int = 0
    ticket_events: int = 0
    counter_events: int = 0
    ratings: int = 0
    dossiers: int = 0
    dossier_events: int = 0
    seconds: float = 0.0


# --- invented people -----------------------------------------------------------------

FAMILY = (("Nguyễn", 38), ("Trần", 11), ("Lê", 9), ("Phạm", 7), ("Hoàng", 5), ("Huỳnh", 4),
          ("Phan", 4), ("Vũ", 4), ("Võ", 3), ("Đặng", 2), ("Bùi", 2), ("Đỗ", 2), ("Hồ", 2),
          ("Ngô", 2), ("Dương", 1), ("Lý", 1))
MIDDLE = {"m": ("Văn", "Văn", "Minh", "Đức", "Quốc", "Hữu", "Thanh", "Quang", "Công"),
          "f": ("Thị", "Thị", "Thị", "Ngọc", "Thu", "Thanh", "Minh", "Kim", "Hồng")}
GIVEN = {"m": ("An", "Bảo", "Cường", "Dũng", "Đạt", "Hải", "Hiếu", "Hùng", "Huy", "Khoa", "Long",
               "Mạnh", "Nam", "Phong", "Phúc", "Quân", "Sơn", "Tài", "Thắng", "Tiến", "Toàn",
               "Trung", "Tuấn", "Việt", "Vinh"),
         "f": ("Anh", "Chi", "Dung", "Giang", "Hà", "Hạnh", "Hằng", "Hoa", "Hương", "Lan", "Liên",
               "Linh", "Loan", "Mai", "My", "Nga", "Ngân", "Nhung", "Oanh", "Phương", "Quyên",
               "Tâm", "Thảo", "Trang", "Yến")}
HAMLETS = ("Thôn Đông", "Thôn Đoài", "Thôn Trung", "Thôn Thượng", "Thôn Hạ", "Xóm Mới",
           "Xóm Chùa", "Xóm Bến")
PHONE_PREFIXES = ("090", "091", "093", "094", "096", "097", "098", "086", "088", "032", "035",
                  "038", "070", "077", "081", "084")


def fake_person(rng: random.Random) -> dict[str, str]:
    """An invented applicant: full name with diacritics, 12-digit ID, 10-digit phone."""
    sex = rng.choice("mf")
    family = rng.choices([f for f, _ in FAMILY], weights=[w for _, w in FAMILY])[0]
    name = f"{family} {rng.choice(MIDDLE[sex])} {rng.choice(GIVEN[sex])}"
    born = rng.randint(1950, 2006)
    century_sex = (0 if born < 2000 else 2) + (sex == "f")
    id_number = f"0{rng.randint(1, 96):02d}{century_sex}{born % 100:02d}{rng.randrange(10**6):06d}"
    phone = f"{rng.choice(PHONE_PREFIXES)}{rng.randrange(10**7):07d}"
    email = ""
    if rng.random() < 0.15:
        email = f"{fold(name.split()[-1])}.{fold(family)}{rng.randint(10, 99)}@example.com"
    address = f"{rng.choice(HAMLETS)}, xã Hòa Bình, tỉnh Mẫu"
    return {"applicant_name": name, "applicant_id_number": id_number, "applicant_phone": phone,
            "applicant_email": email, "applicant_address": address}


# --- the simulation ------------------------------------------------------------------


@dataclass
class _Ticket:
    """A simulated ticket; its final fields become the ``tickets`` row."""

    seq: int
    service: Service
    business_date: dt.date
    number: int
    priority: str
    source: str
    issued_at: dt.datetime
    service_id: int = 0
    queue_at: dt.datetime = dt.datetime.min
    avail_at: dt.datetime = dt.datetime.min  # when it (again) became callable
    state: str = "waiting"
    called_at: dt.datetime | None = None
    serving_at: dt.datetime | None = None
    finished_at: dt.datetime | None = None
    counter_id: int | None = None
    recall_count: int = 0
    outcome: str | None = None
    clerk_id: int | None = None
    missed_once: bool = False
    transferred: bool = False
    events: list[dict[str, Any]] = field(default_factory=list)
    id: int = 0

    def event(self, at: dt.datetime, action: str, from_state: str | None, user_id: int | None,
              **details: Any) -> None:
        """Record a change the way ``queueing.engine._event`` does (after the change)."""
        self.events.append({
            "at": at, "action": action, "from_state": from_state, "to_state": self.state,
            "actor_user_id": user_id, "actor_device_id": None, "counter_id": self.counter_id,
            "service_id": self.service_id, "details": details,
        })


@dataclass
class _Desk:
    """A counter on one day: its clerk, the fields it serves that day, its hours."""

    counter: Counter
    clerk_id: int | None
    service_ids: list[int]
    spans: list[tuple[dt.datetime, dt.datetime]]
    break_at: dt.datetime | None = None
    events: list[tuple[dt.datetime, str, str, str, dict[str, Any]]] = field(default_factory=list)


@dataclass
class _Dossier:
    ticket: _Ticket
    procedure: Procedure
    received_at: dt.datetime
    clerk_id: int | None
    person: dict[str, str]
    row: dict[str, Any] = field(default_factory=dict)
    events: list[dict[str, Any]] = field(default_factory=list)


def _minutes(value: float) -> dt.timedelta:
    return dt.timedelta(minutes=value)


class _History:
    """Everything one ``seed_history`` call simulates, before it is written."""

    def __init__(self, session: Session, unit: Unit, today: dt.date, weeks: int, seed: int) -> None:
        self.session, self.unit, self.today, self.weeks = session, unit, today, weeks
        self.rng = random.Random(seed)
        self.tz = unit.tz
        self.calendar: UnitCalendar = load_calendar(session, unit)
        self.today_start = self.at(today, dt.time(0, 0))
        self.services = list(session.scalars(
            select(Service).where(Service.unit_id == unit.id, Service.active.is_(True))
            .order_by(Service.sort_order, Service.id)))
        self.counters = list(session.scalars(
            select(Counter).where(Counter.unit_id == unit.id).order_by(Counter.number)))
        users = {u.username: u.id for u in session.scalars(select(User).where(User.unit_id == unit.id))}
        clerks = [uid for name, uid in sorted(users.items()) if name.startswith("clerk")]
        self.clerk_of = {c.id: users.get(f"clerk{c.number}") or (clerks[i % len(clerks)] if clerks else None)
                         for i, c in enumerate(self.counters)}
        self.procedures: dict[int, list[Procedure]] = defaultdict(list)
        for proc in session.scalars(select(Procedure).where(Procedure.unit_id == unit.id,
                                                            Procedure.active.is_(True))
                                    .order_by(Procedure.id)):
            if proc.service_id is not None:
                self.procedures[proc.service_id].append(proc)
        self.keeps_place = bool(unit.setting("transfer_keeps_place"))
        self.scale = scales.scale_code(unit.setting("rating_scale"))
        self.levels = scales.levels(self.scale)
        self.reasons = [str(r) for r in unit.setting("rating_reasons")] or ["Thời gian chờ lâu"]
        self.tickets: list[_Ticket] = []
        self.desks: list[_Desk] = []
        self.dossiers: list[_Dossier] = []
        self.ratings: list[dict[str, Any]] = []
        self.days: list[dt.date] = []
        self.dossier_counters: dict[dt.date, int] = {}
        self.book_lines: dict[tuple[int | None, int], int] = {}
        # per day: service id -> its opening windows in UTC
        self.open_spans: dict[int, list[tuple[dt.datetime, dt.datetime]]] = {}

    # -- time helpers
    def at(self, day: dt.date, clock: dt.time) -> dt.datetime:
        return dt.datetime.combine(day, clock, tzinfo=self.tz).astimezone(dt.UTC)

    def local(self, moment: dt.datetime) -> dt.datetime:
        return moment.astimezone(self.tz)

    def jitter(self, low_s: float, high_s: float) -> dt.timedelta:
        return dt.timedelta(seconds=self.rng.uniform(low_s, high_s))

    def window_end(self, service_id: int, moment: dt.datetime) -> dt.datetime | None:
        """End of the service's window holding ``moment``, if a call still fits in it."""
        for start, end in self.open_spans.get(service_id, ()):
            if start <= moment < end - MIN_SLOT:
                return end
        return None

    # -- days
    def run(self) -> None:
        first = self.today - dt.timedelta(weeks=self.weeks)
        day = first
        while day < self.today:
            if self.calendar.is_working_day(day):
                self.simulate_day(day)
            day += dt.timedelta(days=1)

    def simulate_day(self, day: dt.date) -> None:
        open_services = [s for s in self.services if day.isoweekday() in (s.weekdays or [])]
        self.open_spans = {
            s.id: [(self.at(day, a), self.at(day, b)) for a, b in service_windows(s) or ALL_DAY]
            for s in open_services}
        desks = self.open_desks(day, open_services)
        if not desks:
            return
        self.days.append(day)
        served = {sid for desk in desks for sid in desk.service_ids}
        day_tickets: list[_Ticket] = []
        for service in open_services:
            if service.id in served:
                day_tickets += self.arrivals(service, day, desks)
        self.tickets += day_tickets
        self.run_counters(desks, day_tickets)
        self.close_day(day, day_tickets)
        for desk in desks:
            self.desk_events(desk)
        self.desks += desks

    def open_desks(self, day: dt.date, open_services: Sequence[Service]) -> list[_Desk]:
        open_ids = {s.id for s in open_services}
        desks = []
        for counter in self.counters:
            ids = [sid for sid in counter.service_ids if sid in open_ids]
            if not ids:
                continue
            spans = sorted({span for sid in ids for span in self.open_spans[sid]})
            merged: list[tuple[dt.datetime, dt.datetime]] = []
            for start, end in spans:
                if merged and start <= merged[-1][1]:
                    merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
                else:
                    merged.append((start, end))
            desk = _Desk(counter, self.clerk_of.get(counter.id), ids, merged)
            if self.rng.random() < 0.08:  # a short mid-morning meeting now and then
                desk.break_at = self.at(day, dt.time(9, 30)) + _minutes(self.rng.uniform(0, 60))
            desks.append(desk)
        return desks

    # -- arrivals
    def arrivals(self, service: Service, day: dt.date, desks: Sequence[_Desk]) -> list[_Ticket]:
        profile = PROFILES.get(service.code, OTHER_FIELD)
        mean = profile.arrivals * WEEKDAY_LOAD.get(day.isoweekday(), 1.0)
        count = max(0, round(self.rng.gauss(mean, math.sqrt(mean) * 1.2)))
        if service.daily_cap:
            count = min(count, service.daily_cap)
        if service.block_start is not None and service.block_end is not None:
            count = min(count, service.block_end - service.block_start + 1)
        times = sorted(self.arrival_time(service, day) for _ in range(count))
        staff = [d.clerk_id for d in desks if service.id in d.service_ids]
        out: list[_Ticket] = []
        for seq, issued in enumerate(times, start=1):
            number = seq if service.block_start is None else service.block_start + seq - 1
            priority = self.rng.choices([p for p, _ in PRIORITIES], [w for _, w in PRIORITIES])[0]
            at_desk = self.rng.random() < 0.05
            ticket = _Ticket(seq=len(self.tickets) + len(out), service=service, business_date=day,
                             number=number, priority=priority,
                             source="counter" if at_desk else "kiosk", issued_at=issued,
                             service_id=service.id, queue_at=issued, avail_at=issued)
            ticket.event(issued, "issue", None, self.rng.choice(staff) if at_desk and staff else None,
                         priority=priority, source=ticket.source)
            out.append(ticket)
        return out

    def arrival_time(self, service: Service, day: dt.date) -> dt.datetime:
        """A moment in one of the windows (before the cut-off), mostly around the peaks."""
        spans = service_windows(service) or ALL_DAY
        cutoff = _minutes(service.cutoff_minutes or 0)
        bounds = [(self.at(day, a), self.at(day, b) - cutoff) for a, b in spans]
        bounds = [(a, b) for a, b in bounds if b > a] or [(self.at(day, spans[0][0]),
                                                          self.at(day, spans[0][1]))]
        # the morning draws most people; the last windows share the rest
        weights = [0.7 if i == 0 else 0.3 / max(len(bounds) - 1, 1) for i in range(len(bounds))]
        start, last = self.rng.choices(bounds, weights)[0]
        length = (last - start).total_seconds()
        peak = 0.6 if start == bounds[0][0] else 0.45
        for _ in range(20):
            if self.rng.random() < peak:
                offset = self.rng.gauss(0.4 * length, 0.13 * length)
            else:
                offset = self.rng.uniform(0, length)
            if 0 <= offset < length:
                return start + dt.timedelta(seconds=offset)
        return start + dt.timedelta(seconds=self.rng.uniform(0, length))

    # -- the counters at work
    def run_counters(self, desks: list[_Desk], tickets: list[_Ticket]) -> None:
        heap = [(desk.spans[0][0] + self.jitter(0, 240), i) for i, desk in enumerate(desks)]
        heapq.heapify(heap)
        waiting = list(tickets)
        while heap:
            now, index = heapq.heappop(heap)
            desk = desks[index]
            moment = self.desk_time(desk, now)
            if moment is None:
                continue
            if moment != now:  # after lunch: in turn with the other desks
                heapq.heappush(heap, (moment, index))
                continue
            if desk.break_at is not None and moment >= desk.break_at:
                desk.break_at = None
                back = moment + _minutes(self.rng.uniform(10, 20))
                desk.events += [(moment, "pause", "open", "paused", {"reason": BREAK}),
                                (back, "resume", "paused", "open", {})]
                heapq.heappush(heap, (back, index))
                continue
            waiting = [t for t in waiting if t.state == "waiting"]
            ticket = self.pick(desk, waiting, moment)
            if ticket is None:
                later = [t.avail_at for t in waiting
                         if t.avail_at > moment and t.service_id in desk.service_ids]
                poll = moment + _minutes(4)
                nxt = min(min(later) + self.jitter(5, 40), poll) if later else poll
                heapq.heappush(heap, (nxt, index))
                continue
            free = self.serve(desk, ticket, moment, desks)
            heapq.heappush(heap, (free + self.jitter(5, 50), index))

    def desk_time(self, desk: _Desk, moment: dt.datetime) -> dt.datetime | None:
        """``moment`` moved into the desk's hours (after lunch, say); None after closing."""
        for i, (start, end) in enumerate(desk.spans):
            if moment < start:
                return start + (self.jitter(0, 180) if i else dt.timedelta())
            if moment < end - MIN_SLOT:
                return moment
        return None

    def pick(self, desk: _Desk, waiting: Sequence[_Ticket], moment: dt.datetime) -> _Ticket | None:
        """Strict priority, then the oldest place in the queue, as ``policy.candidates``."""
        best: _Ticket | None = None
        for ticket in waiting:
            if ticket.avail_at > moment or ticket.service_id not in desk.service_ids:
                continue
            if self.window_end(ticket.service_id, moment) is None:
                continue
            if best is None or (ticket.priority == "none", ticket.queue_at, ticket.seq) < (
                    best.priority == "none", best.queue_at, best.seq):
                best = ticket
        return best

    def serve(self, desk: _Desk, ticket: _Ticket, now: dt.datetime, desks: Sequence[_Desk]) -> dt.datetime:
        """Call ``ticket`` at ``now``; play it out; return when the desk is free again."""
        end = self.window_end(ticket.service_id, now)
        assert end is not None
        limit = end - self.jitter(5, 40)
        clerk, rng = desk.clerk_id, self.rng
        ticket.state, ticket.counter_id, ticket.called_at = "called", desk.counter.id, now
        ticket.serving_at, ticket.recall_count = None, 0
        ticket.event(now, "call", "waiting", clerk)
        waited = (now - ticket.queue_at).total_seconds() / 3600
        if not ticket.missed_once and rng.random() < MISSED + 0.15 * min(waited, 1.0):
            return self.miss(ticket, clerk, now, limit)
        moment = now
        if rng.random() < 0.05:  # the citizen is slow to come: called once more
            moment += self.jitter(40, 70)
            ticket.recall_count = 1
            ticket.event(moment, "recall", "called", clerk, count=1)
        moment += self.jitter(15, 100)
        if rng.random() < 0.85:
            ticket.state, ticket.serving_at = "serving", moment
            ticket.event(moment, "start", "called", clerk)
        if not ticket.transferred and rng.random() < TRANSFER:
            target = self.transfer_target(ticket, desks, moment)
            if target is not None:
                return self.transfer(ticket, clerk, min(moment + self.jitter(60, 180), limit), target)
        profile = PROFILES.get(ticket.service.code, OTHER_FIELD)
        procedures = self.procedures.get(ticket.service_id, [])
        with_dossier = bool(procedures) and rng.random() < profile.dossier_share
        minutes = rng.lognormvariate(math.log(profile.service_minutes * (1.3 if with_dossier else 0.8)), 0.45)
        finish = min(moment + _minutes(min(max(minutes, 1.5), 30)), limit)
        finish = max(finish, moment + self.jitter(30, 50))
        outcome = "dossier_received" if with_dossier else rng.choices(
            [o for o, _ in NOT_SERVED_OUTCOMES], [w for _, w in NOT_SERVED_OUTCOMES])[0]
        from_state = ticket.state
        ticket.serving_at = ticket.serving_at or ticket.called_at
        ticket.state, ticket.finished_at, ticket.outcome, ticket.clerk_id = "done", finish, outcome, clerk
        ticket.event(finish, "finish", from_state, clerk, outcome=outcome)
        if with_dossier:
            assert ticket.serving_at is not None
            received = ticket.serving_at + (finish - ticket.serving_at) * rng.uniform(0.6, 0.9)
            proc = rng.choices(procedures, [len(procedures) - i + 1 for i in range(len(procedures))])[0]
            self.dossiers.append(_Dossier(ticket, proc, received, clerk, fake_person(rng)))
        self.rate(ticket, desk)
        return finish

    def miss(self, ticket: _Ticket, clerk: int | None, now: dt.datetime, limit: dt.datetime) -> dt.datetime:
        """Nobody comes: recalled, then skipped (missed); a third come back and are re-queued."""
        rng = self.rng
        moment = now
        recalls = rng.choice((1, 2, 2, 3))
        for count in range(1, recalls + 1):
            moment = min(moment + self.jitter(40, 70), limit)
            ticket.recall_count = count
            ticket.event(moment, "recall", "called", clerk, count=count)
        moment = min(moment + self.jitter(30, 60), limit)
        ticket.state, ticket.finished_at, ticket.missed_once = "missed", moment, True
        ticket.event(moment, "skip", "called", clerk, reason="absent")
        back = moment + _minutes(rng.uniform(8, 40))
        if rng.random() < COME_BACK and back < limit - MIN_SLOT:
            ticket.state, ticket.queue_at, ticket.avail_at = "waiting", back, back
            ticket.finished_at, ticket.counter_id = None, None
            ticket.event(back, "requeue", "missed", clerk)
        return moment

    def transfer_target(self, ticket: _Ticket, desks: Sequence[_Desk], moment: dt.datetime) -> int | None:
        others = sorted({sid for d in desks for sid in d.service_ids
                         if sid != ticket.service_id and self.window_end(sid, moment + _minutes(5))})
        return self.rng.choice(others) if others else None

    def transfer(self, ticket: _Ticket, clerk: int | None, moment: dt.datetime, target: int) -> dt.datetime:
        """The clerk sends the citizen to another field, as ``engine.transfer``."""
        from_service, from_state = ticket.service_id, ticket.state
        ticket.service_id, ticket.state, ticket.transferred = target, "waiting", True
        ticket.queue_at = ticket.issued_at if self.keeps_place else moment
        ticket.avail_at = moment
        ticket.event(moment, "transfer", from_state, clerk, from_service=from_service,
                     to_service=target, to_counter=None)
        ticket.counter_id = None
        return moment

    def rate(self, ticket: _Ticket, desk: _Desk) -> None:
        """The tablet at the counter: most rate, mostly well; long waits rate worse."""
        rng = self.rng
        if rng.random() >= RATED:
            return
        assert ticket.finished_at is not None and ticket.called_at is not None
        waited = (ticket.called_at - ticket.queue_at).total_seconds() / 60
        reasons: list[str] = []
        comment, source = "", "tablet"
        best, good, *_, worst = self.levels
        level = scales.Level(scales.NOT_RATED, scales.NOT_RATED_LABEL, 0)
        if rng.random() < NOT_RATED:
            source = "timeout"
            timeout = int(self.unit.setting("rating_timeout_seconds"))
            rated_at = ticket.finished_at + dt.timedelta(seconds=timeout)
        else:
            rated_at = ticket.finished_at + self.jitter(4, 25)
            if rng.random() < (0.03 if waited < 25 else 0.15):
                level = worst
                long_wait = "Thời gian chờ lâu"
                first = long_wait if waited >= 25 and long_wait in self.reasons else rng.choice(self.reasons)
                reasons = [first] + ([rng.choice(self.reasons)] if rng.random() < 0.3 else [])
                reasons = list(dict.fromkeys(reasons))
                comment = rng.choice(BAD_COMMENTS)
            else:
                level = best if rng.random() < 0.66 else good
                comment = rng.choice(GOOD_COMMENTS)
        self.ratings.append({
            "ticket": ticket, "counter_id": desk.counter.id, "clerk_id": desk.clerk_id,
            "service_id": ticket.service_id, "scale": self.scale, "level": level.code, "score": level.score,
            "reasons": reasons, "comment": comment, "source": source, "rated_at": rated_at,
        })

    def close_day(self, day: dt.date, tickets: Sequence[_Ticket]) -> None:
        """The nightly day close (00:15 the next day) expires what is still open."""
        closing = self.at(day + dt.timedelta(days=1), dt.time(0, 15)) + self.jitter(0, 30)
        for ticket in tickets:
            if ticket.state in ("waiting", "missed"):
                from_state = ticket.state
                ticket.state, ticket.finished_at = "expired", closing
                ticket.event(closing, "expire", from_state, None)

    def desk_events(self, desk: _Desk) -> None:
        """Open before the first window, pause over lunch, close after the last one."""
        first, last = desk.spans[0][0], desk.spans[-1][1]
        events: list[tuple[dt.datetime, str, str, str, dict[str, Any]]] = [
            (first - self.jitter(60, 600), "open", "closed", "open", {})]
        for (_, end), (start, _) in zip(desk.spans, desk.spans[1:], strict=False):
            events.append((end + self.jitter(0, 240), "pause", "open", "paused", {"reason": LUNCH}))
            events.append((start - self.jitter(0, 300), "resume", "paused", "open", {}))
        events.append((last + self.jitter(60, 480), "close", "open", "closed", {}))
        desk.events = sorted(events + desk.events, key=lambda e: e[0])

    # -- dossiers
    def play_dossiers(self) -> None:
        """Number the dossiers, then run each through its states up to today."""
        self.dossiers.sort(key=lambda d: d.received_at)
        per_day: dict[dt.date, int] = defaultdict(int)
        lines: dict[tuple[int | None, int], int] = defaultdict(int)
        services = {s.id: s for s in self.services}
        for item in self.dossiers:
            day = self.local(item.received_at).date()
            per_day[day] += 1
            lines[(item.procedure.service_id, day.year)] += 1
            service = services.get(item.procedure.service_id or 0)
            appointment = appointment_for(self.calendar, self.unit, item.procedure, item.received_at)
            item.row = {
                "code": dossier_code(self.unit, day, per_day[day]), "unit_id": self.unit.id,
                "procedure_id": item.procedure.id, "service_id": item.procedure.service_id,
                "business_date": day, "number": per_day[day], "book_year": day.year,
                "book_volume": book_volume(service, day.year),
                "book_line": lines[(item.procedure.service_id, day.year)],
                **item.person, "on_behalf_of": "",
                "documents": [{"name": n, "count": 1} for n in item.procedure.documents],
                "state": "received", "received_at": item.received_at, "appointment_at": appointment,
                "new_appointment_at": None, "ready_at": None, "closed_at": None,
                "updated_at": item.received_at, "supplement_count": 0, "supplement_note": "",
                "apology_count": 0, "apology_reason": "", "note": "",
                "received_by_id": item.clerk_id, "personal_erased_at": None,
            }
            self.dossier_life(item, appointment)
        self.dossier_counters = per_day
        self.book_lines = lines

    def office_time(self, day: dt.date, after: dt.datetime | None = None,
                    before: dt.datetime | None = None) -> dt.datetime | None:
        """A moment of office hours on ``day`` inside (after, before], if there is one."""
        low = max(self.at(day, dt.time(7, 30)), after or dt.datetime.min.replace(tzinfo=dt.UTC))
        high = min(self.at(day, dt.time(16, 55)), before or dt.datetime.max.replace(tzinfo=dt.UTC))
        if high <= low:
            return None
        return low + (high - low) * self.rng.uniform(0.05, 1.0)

    def working_days(self, first: dt.date, last: dt.date) -> list[dt.date]:
        out, day = [], first
        while day <= last:
            if self.calendar.is_working_day(day):
                out.append(day)
            day += dt.timedelta(days=1)
        return out

    def dossier_life(self, item: _Dossier, due: dt.datetime) -> None:
        """received -> processing -> ready -> returned; ~8 % late, a few with an apology."""
        rng, received = self.rng, item.received_at
        received_day, due_day = self.local(received).date(), self.local(due).date()
        steps: list[tuple[dt.datetime, str, str | None, str, str, dict[str, Any]]] = []
        steps.append((received, "receive", None, "received", "", {"ticket_id": None}))
        late = rng.random() < LATE
        if late:
            ready_day = due_day
            for _ in range(rng.choice((1, 1, 1, 2, 3))):
                ready_day = self.calendar.next_working_day(ready_day)
            ready = self.office_time(ready_day) or self.at(ready_day, dt.time(9, 0))
        else:
            days = self.working_days(self.calendar.next_working_day(received_day), due_day)
            if not days or item.procedure.processing_days == 0:
                ready = received + (due - received) * rng.uniform(0.15, 0.8)
            else:
                choice = rng.random()
                ready_day = days[-1] if choice < 0.45 or len(days) == 1 else (
                    days[-2] if choice < 0.75 else rng.choice(days[:-1]))
                ready = (self.office_time(ready_day, after=received, before=due)
                         or received + (due - received) / 2)
        processing = self.processing_time(received, ready)
        steps.append((processing, "state", "received", "processing", "", {}))
        if late and rng.random() < APOLOGY:
            asked = self.apology_time(received_day, due_day, processing, due)
            if asked < ready:
                asked_day = self.local(asked).date()
                new_day = max(self.local(ready).date(),
                              self.calendar.next_working_day(max(due_day, asked_day)))
                new = self.calendar.due(new_day, self.tz).astimezone(dt.UTC)
                steps.append((asked, "apology", "processing", "processing", rng.choice(APOLOGY_REASONS),
                              {"previous_appointment_at": due.isoformat(),
                               "new_appointment_at": new.isoformat()}))
        steps.append((ready, "state", "processing", "ready", "", {}))
        returned = self.return_time(ready, due if not late else ready + dt.timedelta(days=3))
        steps.append((returned, "state", "ready", "returned", "", {}))
        self.apply_steps(item, steps)

    def processing_time(self, received: dt.datetime, ready: dt.datetime) -> dt.datetime:
        """Taken up the same day, or the next working morning."""
        day = self.local(received).date()
        moment = self.office_time(day, after=received + _minutes(5), before=ready)
        if moment is None or self.rng.random() < 0.4:
            moment = self.office_time(self.calendar.next_working_day(day), before=ready) or moment
        return moment or received + (ready - received) * self.rng.uniform(0.05, 0.3)

    def apology_time(self, received_day: dt.date, due_day: dt.date, processing: dt.datetime,
                     due: dt.datetime) -> dt.datetime:
        """On the day it falls due or the working day before (the engine's "due soon")."""
        days = self.working_days(received_day, due_day)[-2:] or [due_day]
        asked = self.office_time(self.rng.choice(days), after=processing, before=due)
        return asked or processing + self.jitter(60, 900)

    def return_time(self, ready: dt.datetime, limit: dt.datetime) -> dt.datetime:
        """The citizen fetches the result: the day it is ready or a later day, by ``limit``."""
        ready_day = self.local(ready).date()
        picked = self.office_time(ready_day, after=ready, before=limit)
        later = self.working_days(ready_day + dt.timedelta(days=1), self.local(limit).date())
        if later and (picked is None or self.rng.random() < 0.5):
            picked = self.office_time(self.rng.choice(later), before=limit) or picked
        moment = picked or ready + (limit - ready) * self.rng.uniform(0.1, 0.9)
        return max(moment, ready + dt.timedelta(seconds=30))

    def apply_steps(self, item: _Dossier,
                    steps: list[tuple[dt.datetime, str, str | None, str, str, dict[str, Any]]]) -> None:
        """Keep the steps before today (the rest has not happened yet) and set the row."""
        row = item.row
        for at, action, from_state, to_state, note, details in steps:
            if at >= self.today_start:
                break
            if action == "apology":
                row["apology_count"], row["apology_reason"] = 1, note
                row["new_appointment_at"] = dt.datetime.fromisoformat(details["new_appointment_at"])
            elif to_state == "ready":
                row["ready_at"] = at
            elif to_state == "returned":
                row["closed_at"] = at
            row["state"], row["updated_at"] = to_state, at
            item.events.append({"at": at, "action": action, "from_state": from_state,
                                "to_state": to_state, "actor_user_id": item.clerk_id,
                                "actor_device_id": None, "note": note, "details": details})


# --- writing -------------------------------------------------------------------------


def has_activity(session: Session, unit: Unit) -> bool:
    """Whether the unit has any ticket or dossier at all (then there is nothing to seed)."""
    return (session.scalar(select(Ticket.id).where(Ticket.unit_id == unit.id).limit(1)) is not None
            or session.scalar(select(Dossier.id).where(Dossier.unit_id == unit.id).limit(1)) is not None)


def seed_history(session: Session, unit: Unit, *, weeks: int = 4, today: dt.date,
                 seed: int = DEFAULT_SEED) -> HistorySummary:
    """Write ``weeks`` weeks of simulated activity before ``today`` (the unit's business date).

    Only on a unit with no tickets and no dossiers yet (a fresh demo database): calling it
    again writes nothing. Nothing is dated ``today`` or later, and the daily counters of the
    seeded days hold what was handed out, so today's numbering starts at 1. Only flushes.
    """
    started = time.perf_counter()
    if weeks <= 0 or has_activity(session, unit):
        return HistorySummary()
    history = _History(session, unit, today, weeks, seed)
    history.run()
    history.play_dossiers()
    summary = _write(session, unit, history)
    summary.seconds = time.perf_counter() - started
    return summary


def _bulk(model: type[Any]) -> Any:
    """A Core INSERT of the model's table: with a list of rows (all with the same keys) it is
    one ``executemany``, with the column types (UTC datetimes, JSON) applied as usual."""
    return insert(model.__table__)


def _insert_with_ids(session: Session, model: type[Any], rows: list[dict[str, Any]]) -> list[int]:
    """Insert ``rows`` with ids given here (after the table's highest), and return them.

    Explicit ids keep the insert one multi-row statement per batch (``RETURNING`` in
    parameter order would be one statement per row on SQLite); PostgreSQL's sequence is
    moved past them afterwards.
    """
    first = int(session.scalar(select(func.max(model.id))) or 0) + 1
    ids = list(range(first, first + len(rows)))
    session.execute(_bulk(model), [{**row, "id": i} for row, i in zip(rows, ids, strict=True)])
    if session.get_bind().dialect.name == "postgresql":
        table = model.__tablename__
        session.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), :last)"),
                        {"last": ids[-1]})
    return ids


def _write(session: Session, unit: Unit, history: _History) -> HistorySummary:
    tickets = history.tickets
    summary = HistorySummary(days=len(history.days), tickets=len(tickets))
    if not tickets:
        return summary
    ids = _insert_with_ids(session, Ticket, [{
        "unit_id": unit.id, "service_id": t.service_id, "issued_service_id": t.service.id,
        "business_date": t.business_date, "number": t.number, "label": make_label(t.service, t.number),
        "priority": t.priority, "source": t.source, "state": t.state, "issued_at": t.issued_at,
        "queue_at": t.queue_at, "called_at": t.called_at, "serving_at": t.serving_at,
        "finished_at": t.finished_at, "counter_id": t.counter_id, "target_counter_id": None,
        "recall_count": t.recall_count, "outcome": t.outcome, "device_id": None, "print_state": "none",
    } for t in tickets])
    for ticket, ticket_id in zip(tickets, ids, strict=True):
        ticket.id = ticket_id
    events = [{**e, "ticket_id": t.id} for t in tickets for e in t.events]
    session.execute(_bulk(TicketEvent), events)
    counter_events = [{"counter_id": d.counter.id, "at": at, "action": action, "from_state": a,
                       "to_state": b, "actor_user_id": d.clerk_id, "details": details}
                      for d in history.desks for at, action, a, b, details in d.events]
    session.execute(_bulk(CounterEvent), counter_events)
    summary.ticket_events, summary.counter_events = len(events), len(counter_events)
    summary.dossiers, summary.dossier_events = _write_dossiers(session, history)
    ratings = [{"unit_id": unit.id, "ticket_id": r["ticket"].id, "dossier_id": None, "device_id": None,
                **{k: v for k, v in r.items() if k != "ticket"}} for r in history.ratings]
    if ratings:
        session.execute(_bulk(Rating), ratings)
    summary.ratings = len(ratings)
    _write_counters(session, unit, history)
    session.flush()
    return summary


def _write_dossiers(session: Session, history: _History) -> tuple[int, int]:
    items = history.dossiers
    if not items:
        return 0, 0
    ids = _insert_with_ids(session, Dossier, [{**d.row, "ticket_id": d.ticket.id} for d in items])
    events = []
    for item, dossier_id in zip(items, ids, strict=True):
        for event in item.events:
            if event["action"] == "receive":
                event["details"] = {"ticket_id": item.ticket.id}
            events.append({**event, "dossier_id": dossier_id})
    session.execute(_bulk(DossierEvent), events)
    return len(items), len(events)


def _write_counters(session: Session, unit: Unit, history: _History) -> None:
    """The daily counters of the seeded days: today's numbers are then untouched."""
    last: dict[tuple[str, dt.date], int] = defaultdict(int)
    for t in history.tickets:
        key = (f"service:{t.service.id}", t.business_date)
        first = 1 if t.service.block_start is None else t.service.block_start
        last[key] = max(last[key], t.number - first + 1)
    for day, count in history.dossier_counters.items():
        last[(f"dossier:{unit.id}", day)] = count
    for (service_id, year), line in history.book_lines.items():
        last[(f"dossier-book:{unit.id}:{service_id or 0}", dt.date(year, 1, 1))] = line
    existing = {(row.scope, row.business_date): row for row in session.scalars(
        select(DailyCounter).where(DailyCounter.scope.in_({scope for scope, _ in last})))}
    fresh = []
    for (scope, day), value in last.items():
        row = existing.get((scope, day))
        if row is not None:
            row.last = max(row.last, value)
        else:
            fresh.append({"scope": scope, "business_date": day, "last": value})
    if fresh:
        session.execute(_bulk(DailyCounter), fresh)
