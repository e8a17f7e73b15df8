"""The booking rules on the engine: slots on the Vietnamese calendar, the cap's share, every
refusal, check-in and the call order, no-shows at the day close, numbers from a phone."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import select

from onestop.accounts.models import User
from onestop.bookings import engine as bookings
from onestop.bookings.models import Booking
from onestop.queueing import engine as queue
from onestop.queueing.errors import DomainError
from onestop.queueing.models import Counter, Service
from onestop.units.models import Unit, UnitDay
from tests.conftest import local

WEB = queue.Actor()


@pytest.fixture
def world(session):
    unit = session.scalar(select(Unit))
    return unit, session


def field(session, code: str = "TPHT", **booking) -> Service:
    service = session.scalar(select(Service).where(Service.code == code))
    service.booking = dict(booking)
    session.flush()
    return service


def refusal(call, *args, **kwargs) -> DomainError:
    with pytest.raises(DomainError) as caught:
        call(*args, **kwargs)
    return caught.value


def starts(session, unit, service, day, now) -> list[str]:
    return [unit.local(s.start).strftime("%H:%M")
            for s in bookings.slots(session, unit, service, day, now)]


# --- slots -----------------------------------------------------------------------------


def test_a_working_day_is_cut_into_slots_of_the_windows_before_the_cutoff(world):
    unit, session = world
    service = field(session)
    now = local(2026, 11, 20, 10)  # Friday
    got = bookings.slots(session, unit, service, dt.date(2026, 11, 23), now)
    clock = [unit.local(s.start).strftime("%H:%M") for s in got]
    # each window with its 15 minute cut-off: 07:30 ... 11:00, 13:30 ... 16:30
    assert clock[:2] == ["07:30", "07:45"] and clock[14] == "11:00" and clock[15] == "13:30"
    assert clock[-1] == "16:30" and len(clock) == 28
    assert got[0].start == local(2026, 11, 23, 7, 30) and got[0].end == local(2026, 11, 23, 7, 45)
    assert {s.free for s in got} == {2}
    # today: nothing starting within the hour (book_before_minutes 60)
    assert starts(session, unit, service, dt.date(2026, 11, 20), now)[0] == "11:00"


@pytest.mark.parametrize(("day", "now", "why"), [
    (dt.date(2026, 9, 2), local(2026, 8, 28), "Quốc khánh"),
    (dt.date(2026, 2, 17), local(2026, 2, 10), "Tết Nguyên Đán"),
    (dt.date(2026, 8, 31), local(2026, 8, 28), "day off swapped for Saturday 22 August"),
    (dt.date(2026, 8, 29), local(2026, 8, 28), "an ordinary Saturday"),
])
def test_holidays_tet_and_weekends_have_no_slots_and_refuse_a_booking(world, day, now, why):
    unit, session = world
    service = field(session)
    assert bookings.slots(session, unit, service, day, now) == [], why
    start = dt.datetime.combine(day, dt.time(8), tzinfo=unit.tz)
    error = refusal(bookings.book, session, unit, service, start=start, phone="0912345678",
                    actor=WEB, now=now)
    assert (error.code, error.details["reason"]) == ("not_bookable", "closed_day")


def test_a_make_up_saturday_serves_the_fields_of_the_weekday_it_stands_in_for(world):
    unit, session = world
    now = local(2026, 8, 20)
    saturday = dt.date(2026, 8, 22)  # worked for Monday 31 August
    assert starts(session, unit, field(session, "TPHT"), saturday, now)[0] == "07:30"
    assert starts(session, unit, field(session, "DD"), saturday, now)[0] == "07:30"  # Mon/Wed/Fri
    assert starts(session, unit, field(session, "KTHT"), saturday, now) == []  # Tue/Thu


def test_the_units_own_days_off_and_working_days(world):
    unit, session = world
    service = field(session)
    session.add_all([UnitDay(unit_id=unit.id, date=dt.date(2026, 11, 26), kind="off"),
                     UnitDay(unit_id=unit.id, date=dt.date(2026, 11, 28), kind="working")])
    session.flush()
    now = local(2026, 11, 23)
    assert starts(session, unit, service, dt.date(2026, 11, 26), now) == []
    assert len(starts(session, unit, service, dt.date(2026, 11, 28), now)) == 28
    # days_ahead counts working days: after Monday 23, Tuesday 24 (Ngày Văn hóa Việt Nam) and
    # the day off are not, the working Saturday is: the tenth is Tuesday 8 December
    assert starts(session, unit, service, dt.date(2026, 12, 8), now) != []
    assert starts(session, unit, service, dt.date(2026, 12, 9), now) == []


def test_the_days_share_of_the_cap_is_kept_for_walk_ins(world):
    unit, session = world
    service = field(session, walkin_share=0.5)
    service.daily_cap = 4  # two bookings a day at most
    now, day = local(2026, 11, 20), dt.date(2026, 11, 23)
    for hour, phone in ((8, "0912000001"), (9, "0912000002")):
        bookings.book(session, unit, service, start=local(2026, 11, 23, hour), phone=phone,
                      actor=WEB, now=now)
    assert {s.free for s in bookings.slots(session, unit, service, day, now)} == {0}
    error = refusal(bookings.book, session, unit, service, start=local(2026, 11, 23, 10),
                    phone="0912000003", actor=WEB, now=now)
    assert (error.code, error.details) == ("slot_full", {"day_full": True})


# --- booking refusals ------------------------------------------------------------------


def test_every_refusal_of_a_booking(world):
    unit, session = world
    now = local(2026, 11, 23, 9)  # Monday 09:00
    off = session.scalar(select(Service).where(Service.code == "NV"))
    off.booking = None

    def book(service=None, **kw):
        args = {"start": local(2026, 11, 25, 8), "phone": "0912345678", "actor": WEB, "now": now}
        return bookings.book(session, unit, service or field(session), **{**args, **kw})

    def code(**kw):
        error = refusal(book, **kw)
        return error.code, error.details.get("reason")

    assert code(service=off) == ("not_bookable", "bookings_off")
    assert code(start=local(2026, 11, 23, 9, 45)) == ("not_bookable", "past")  # within the hour
    assert code(start=local(2026, 11, 23, 7, 30)) == ("not_bookable", "past")
    assert code(start=local(2026, 11, 24, 8)) == ("not_bookable", "closed_day")  # Ngày Văn hóa
    assert code(start=local(2026, 12, 9, 8)) == ("not_bookable", "too_far_ahead")
    assert code(start=local(2026, 11, 25, 12)) == ("not_bookable", "outside_windows")
    assert code(start=local(2026, 11, 25, 8, 5)) == ("not_bookable", "outside_windows")
    assert code(start=local(2026, 11, 25, 16, 45)) == ("not_bookable", "outside_windows")  # cut-off
    assert code(phone="12345") == ("invalid_phone", None)
    assert code(procedure_code="9.999999") == ("invalid_procedure", None)
    first = book(procedure_code="1.001193", name="  Nguyễn Văn A ")
    assert (first.state, first.name, first.procedure_code) == ("booked", "Nguyễn Văn A", "1.001193")
    assert first.phone == "+84912345678" and len(first.code) == 6
    assert not set(first.code) & set("01OI")
    # the same number written another way, another slot of the same day
    error = refusal(book, phone="+84 912 345 678", start=local(2026, 11, 25, 9))
    assert (error.code, error.details) == ("already_booked", {"booking_code": first.code})
    book(phone="0912345679")  # the slot's second place
    error = refusal(book, phone="0912345670")
    assert (error.code, error.details) == ("slot_full", {"day_full": False})
    # another day, another field: fine
    book(start=local(2026, 11, 27, 8))
    book(service=field(session, "LDTBXH"))


def test_cancel_by_the_citizen_until_the_limit_and_by_staff_at_any_time(world):
    unit, session = world
    service = field(session, cancel_before_minutes=30, per_slot=1)
    now = local(2026, 11, 23, 7)
    slot = local(2026, 11, 23, 10)
    mine = bookings.book(session, unit, service, start=slot, phone="0912345678", actor=WEB, now=now)
    error = refusal(bookings.cancel, session, mine, actor=WEB, now=local(2026, 11, 23, 9, 31))
    assert (error.code, error.details) == ("too_late_to_cancel", {"latest": "09:30"})
    bookings.cancel(session, mine, actor=WEB, now=local(2026, 11, 23, 9, 30))
    assert mine.state == "cancelled" and mine.cancelled_at == local(2026, 11, 23, 9, 30)
    assert refusal(bookings.cancel, session, mine, actor=WEB, now=now).code == "booking_not_active"
    # the place is free again
    other = bookings.book(session, unit, service, start=slot, phone="0912345679", actor=WEB, now=now)
    bookings.cancel(session, other, actor=queue.Actor(user_id=1), now=local(2026, 11, 23, 9, 59),
                    by_staff=True)
    assert other.state == "cancelled"


def test_find_a_booking_by_code_and_the_last_four_digits(world):
    unit, session = world
    booking = bookings.book(session, unit, field(session), start=local(2026, 11, 25, 8),
                            phone="0912345678", actor=WEB, now=local(2026, 11, 23))
    typed = f" {booking.code[:3].lower()}-{booking.code[3:]} "
    assert bookings.find_booking(session, unit, typed, "5678") is booking
    assert bookings.find_booking(session, unit, booking.code) is booking
    for code, last4 in ((booking.code, "5679"), ("ZZZZZZ", None)):
        assert refusal(bookings.find_booking, session, unit, code, last4).code == "booking_not_found"
    secret = "s3cret"
    key = bookings.manage_key(secret, booking)
    assert bookings.manage_url("https://x.vn/", secret, booking) == f"https://x.vn/b/{booking.code}?k={key}"
    assert bookings.verify_manage_key(secret, booking, key)
    assert not bookings.verify_manage_key("other", booking, key)


# --- check-in and call order -----------------------------------------------------------


def _booked(session, unit, service, hour=9, minute=30, phone="0912345678") -> Booking:
    return bookings.book(session, unit, service, start=local(2026, 11, 23, hour, minute),
                         phone=phone, procedure_code="1.001193", actor=WEB,
                         now=local(2026, 11, 20))


def test_check_in_within_the_tolerance_gives_a_booking_ticket_placed_at_the_slot(world):
    unit, session = world
    service = field(session)
    booking = _booked(session, unit, service)
    kiosk = queue.Actor(device_id=None)
    error = refusal(bookings.check_in, session, unit, booking, actor=kiosk,
                    now=local(2026, 11, 23, 9, 14))
    assert (error.code, error.details) == ("too_early", {"start": "09:30", "from": "09:15",
                                                         "until": "09:40"})
    error = refusal(bookings.check_in, session, unit, booking, actor=kiosk,
                    now=local(2026, 11, 23, 9, 41))
    assert error.code == "too_late"
    ticket = bookings.check_in(session, unit, booking, actor=kiosk, now=local(2026, 11, 23, 9, 15))
    assert (ticket.source, ticket.procedure_code, ticket.phone) == ("booking", "1.001193", "+84912345678")
    assert ticket.queue_at == local(2026, 11, 23, 9, 30) and ticket.issued_at == local(2026, 11, 23, 9, 15)
    assert (booking.state, booking.ticket_id) == ("checked_in", ticket.id)
    error = refusal(bookings.check_in, session, unit, booking, actor=kiosk,
                    now=local(2026, 11, 23, 9, 16))
    assert (error.code, error.details) == ("already_checked_in", {"ticket_id": ticket.id})


def test_outside_the_tolerance_a_normal_ticket_when_the_unit_allows_it(world):
    unit, session = world
    service = field(session)
    booking = _booked(session, unit, service)
    late = local(2026, 11, 23, 10, 30)
    ticket = bookings.check_in(session, unit, booking, actor=WEB, now=late, outside="ticket")
    assert (ticket.source, ticket.queue_at, booking.state) == ("kiosk", late, "booked")
    unit.settings = {**unit.settings, "booking_outside_gets_ticket": False}
    session.flush()
    error = refusal(bookings.check_in, session, unit, booking, actor=WEB, now=late, outside="ticket")
    assert error.code == "too_late"
    error = refusal(bookings.check_in, session, unit, booking, actor=WEB, now=local(2026, 11, 24, 9, 30))
    assert (error.code, error.details) == ("booking_other_day", {"date": "2026-11-23"})
    bookings.cancel(session, booking, actor=WEB, now=local(2026, 11, 23, 7), by_staff=True)
    error = refusal(bookings.check_in, session, unit, booking, actor=WEB, now=local(2026, 11, 23, 9, 30))
    assert (error.code, error.details) == ("booking_not_active", {"state": "cancelled"})


def test_a_booked_citizen_is_called_after_walk_ins_before_the_slot_and_before_those_after(world):
    unit, session = world
    service = field(session)
    booking = _booked(session, unit, service)  # 09:30
    walk = {}
    for label, minute in (("before", 20), ("after", 35)):
        walk[label] = queue.issue_ticket(session, unit, service, actor=WEB, source="kiosk",
                                         now=local(2026, 11, 23, 9, minute))
    booked = bookings.check_in(session, unit, booking, actor=WEB, now=local(2026, 11, 23, 9, 38))
    late = queue.issue_ticket(session, unit, service, actor=WEB, source="kiosk",
                              now=local(2026, 11, 23, 9, 39))
    counter = session.scalar(select(Counter).where(Counter.unit_id == unit.id, Counter.number == 1))
    clerk = session.scalar(select(User).where(User.username == "clerk1"))
    queue.open_counter(session, counter, clerk.id, now=local(2026, 11, 23, 9, 40))
    order = [queue.call_next(session, unit, counter, actor=queue.Actor(user_id=clerk.id),
                             now=local(2026, 11, 23, 9, 41 + i)).id for i in range(4)]
    assert order == [walk["before"].id, booked.id, walk["after"].id, late.id]


def test_the_day_close_marks_the_bookings_never_checked_in_as_no_shows(world):
    unit, session = world
    service = field(session)
    came = _booked(session, unit, service, 9, 30, "0912000001")
    absent = _booked(session, unit, service, 10, 0, "0912000002")
    later = bookings.book(session, unit, service, start=local(2026, 11, 25, 8),
                             phone="0912000003", actor=WEB, now=local(2026, 11, 20))
    bookings.check_in(session, unit, came, actor=WEB, now=local(2026, 11, 23, 9, 30))
    seen = []
    from onestop import signals

    def on_change(_sender, booking, action):
        seen.append((booking.id, action))

    signals.booking_changed.connect(on_change)
    try:
        queue.close_day(session, unit, now=local(2026, 11, 23, 18))
    finally:
        signals.booking_changed.disconnect(on_change)
    assert (came.state, absent.state, later.state) == ("checked_in", "no_show", "booked")
    assert seen == [(absent.id, "no_show")]


# --- numbers from a phone --------------------------------------------------------------


def test_numbers_from_a_phone_and_their_limits(world):
    unit, session = world
    service = field(session)
    other = session.scalar(select(Service).where(Service.code == "LDTBXH"))
    now = local(2026, 11, 23, 9)
    unit.settings = {**unit.settings, "remote_tickets": False}
    error = refusal(bookings.remote_ticket, session, unit, service, now=now, address="10.0.0.1")
    assert error.code == "remote_closed"
    unit.settings = {**unit.settings, "remote_tickets": True}
    service.daily_cap = 10  # 30 %: three numbers from phones
    session.flush()
    ticket = bookings.remote_ticket(session, unit, service, phone="0912345678", now=now,
                                    address="10.0.0.1")
    assert (ticket.source, ticket.phone, ticket.state) == ("remote", "+84912345678", "waiting")
    assert ticket.origin and "10.0.0.1" not in ticket.origin
    bookings.remote_ticket(session, unit, other, phone="0912345678", now=now, address="10.0.0.2")
    error = refusal(bookings.remote_ticket, session, unit, service, phone="+84912345678", now=now,
                    address="10.0.0.3")
    assert (error.code, error.details) == ("remote_limit_reached", {"limit": "phone"})
    assert refusal(bookings.remote_ticket, session, unit, service, phone="123", now=now,
                   address="10.0.0.3").code == "invalid_phone"
    bookings.remote_ticket(session, unit, service, now=now, address="10.0.0.4")
    bookings.remote_ticket(session, unit, service, now=now, address="10.0.0.5")
    error = refusal(bookings.remote_ticket, session, unit, service, now=now, address="10.0.0.6")
    assert (error.code, error.details) == ("remote_share_reached", {"share": 3})
    for _ in range(4):  # five from that address in all
        bookings.remote_ticket(session, unit, other, now=now, address="10.0.0.2")
    error = refusal(bookings.remote_ticket, session, unit, other, now=now, address="10.0.0.2")
    assert (error.code, error.details) == ("remote_limit_reached", {"limit": "address"})
    # the kiosk's rules too: outside the field's hours
    unit.settings = {**unit.settings, "remote_per_address_per_day": 100}
    error = refusal(bookings.remote_ticket, session, unit, other, now=local(2026, 11, 23, 12),
                    address="10.0.0.7")
    assert error.code == "outside_hours"


def test_a_check_in_and_a_number_from_a_phone_move_the_queue_like_any_issue(world):
    """The screens follow the queue through the engine's signals (onestop/realtime): a
    check-in and a number taken from a phone send what a kiosk ticket sends."""
    from onestop import signals

    unit, session = world
    service = field(session)
    booking = _booked(session, unit, service)
    unit.settings = {**unit.settings, "remote_tickets": True}
    seen: list[tuple[str, Any]] = []

    def issued(_sender, ticket):
        seen.append(("issued", ticket.source))

    def queue_changed(_sender, unit_id, service_ids):
        seen.append(("queue", tuple(service_ids)))

    signals.ticket_issued.connect(issued)
    signals.queue_changed.connect(queue_changed)
    try:
        bookings.check_in(session, unit, booking, actor=WEB, now=local(2026, 11, 23, 9, 30))
        bookings.remote_ticket(session, unit, service, now=local(2026, 11, 23, 9, 31),
                               address="10.0.0.9")
    finally:
        signals.ticket_issued.disconnect(issued)
        signals.queue_changed.disconnect(queue_changed)
    assert seen == [("issued", "booking"), ("queue", (service.id,)),
                    ("issued", "remote"), ("queue", (service.id,))]
