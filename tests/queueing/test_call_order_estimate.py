"""People ahead and the wait follow the real call order (issue 17, items 1, 2, 5 and 16).

Engine level, on the demo centre (Monday 23 November 2026): counter 1 serves TPHT only,
counter 2 TPHT and NV, counter 4 LDTBXH and YT.
"""

from __future__ import annotations

import datetime as dt

import pytest

from onestop.queueing import engine
from onestop.queueing.errors import DomainError
from onestop.queueing.models import Ticket
from tests.conftest import local


def at(hour: int, minute: int = 0, second: int = 0) -> dt.datetime:
    return local(2026, 11, 23, hour, minute) + dt.timedelta(seconds=second)


def ahead(centre, ticket: Ticket) -> int:
    return engine.waiting_ahead(centre.session, ticket)


def issue_mix(centre, kinds: str, start: dt.datetime) -> list[Ticket]:
    """``"NNP"``: a normal, a normal, an elderly ticket of TPHT, a minute apart."""
    return [centre.issue("TPHT", now=start + dt.timedelta(minutes=i),
                         priority="elderly" if kind == "P" else "none")
            for i, kind in enumerate(kinds)]


def test_elderly_behind_five_normal_tickets_is_told_nobody_is_ahead(centre):
    normal = issue_mix(centre, "NNNNN", at(8))
    elderly = centre.issue("TPHT", now=at(8, 10), priority="elderly")
    assert ahead(centre, elderly) == 0
    assert engine.estimate_for(centre.session, centre.unit, elderly) == (0, 0)
    # ... and everyone issued before them learns that the elderly citizen goes first
    assert [ahead(centre, t) for t in normal] == [1, 2, 3, 4, 5]
    assert engine.estimate_for(centre.session, centre.unit, normal[0]) == (1, 5)
    centre.open(1)
    assert centre.call_next(1, now=at(9)).id == elderly.id


ORDERS = ["NNNPNNPPN", "PNNNNNNPP", "NPNPNPNNNNPP", "PPPPN"]


@pytest.mark.parametrize("kinds", ORDERS)
@pytest.mark.parametrize("mode", ["strict", "interleave"])
def test_people_ahead_is_the_number_of_calls_before_each_ticket(centre, mode, kinds):
    """One counter open: each ticket's people ahead, read before any call, is exactly how
    many tickets the counter then calls before it."""
    centre.settings(priority_mode=mode, interleave_normal=2)
    centre.open(1, now=at(7, 30))
    tickets = issue_mix(centre, kinds, at(8))
    told = {t.id: ahead(centre, t) for t in tickets}
    order = [centre.call_next(1, now=at(9, i)).id for i in range(len(tickets))]
    assert {ticket_id: order.index(ticket_id) for ticket_id in order} == told


@pytest.mark.parametrize("kinds", ORDERS)
def test_interleave_counts_the_normal_calls_the_counter_already_made(centre, kinds):
    """The counter has made its N normal calls before these tickets came: the next priority
    ticket is due at once, and the people ahead say so."""
    centre.settings(priority_mode="interleave", interleave_normal=3)
    centre.open(1, now=at(7, 30))
    for minute in range(3):
        centre.issue("TPHT", now=at(7, 40 + minute))
        centre.call_next(1, now=at(7, 50 + minute))
    tickets = issue_mix(centre, kinds, at(8))
    told = {t.id: ahead(centre, t) for t in tickets}
    order = [centre.call_next(1, now=at(9, i)).id for i in range(len(tickets))]
    assert {ticket_id: order.index(ticket_id) for ticket_id in order} == told
    first_priority = next(t for t in tickets if t.priority != "none")
    assert told[first_priority.id] == 0


def test_interleave_normal_ticket_has_the_due_priority_tickets_ahead(centre):
    centre.settings(priority_mode="interleave", interleave_normal=2)
    normal = issue_mix(centre, "NNNNN", at(8))
    late = issue_mix(centre, "PPP", at(8, 30))
    # N N P N N P N ...: the 3rd normal has one priority ticket ahead, the 5th two
    assert [ahead(centre, t) for t in normal] == [0, 1, 3, 4, 6]
    assert [ahead(centre, t) for t in late] == [2, 5, 7]


def _served_history(centre, minutes: int) -> None:
    """Two TPHT citizens served at counter 1, ``minutes`` each: the field's mean."""
    counter = centre.counter(1)
    for i in range(2):
        centre.issue("TPHT", now=at(7, 30 + i))
        centre.call_next(1, now=at(8, i * 20))
        engine.finish(centre.session, counter, actor=centre.clerk(1),
                      now=at(8, i * 20 + minutes))


def test_a_paused_counter_leaves_the_estimate_at_once(centre):
    centre.open(1, now=at(7, 30))
    _served_history(centre, 10)
    centre.open(2, now=at(8, 45))
    waiting = [centre.issue("TPHT", now=at(8, 50 + m)) for m in range(4)]
    # two counters serve TPHT: 3 ahead x 10 minutes / 2; the rates are cached given now
    assert engine.estimate_for(centre.session, centre.unit, waiting[3], at(9)) == (3, 15)
    engine.pause_counter(centre.session, centre.counter(2), actor=centre.clerk(2), now=at(9),
                         reason="họp")
    # a second later, within the cache's life: the paused counter serves nobody
    assert engine.estimate_for(centre.session, centre.unit, waiting[3], at(9, 0, 1)) == (3, 30)
    engine.resume_counter(centre.session, centre.counter(2), actor=centre.clerk(2),
                          now=at(9, 0, 2))
    assert engine.estimate_for(centre.session, centre.unit, waiting[3], at(9, 0, 3)) == (3, 15)


def test_the_estimate_says_when_no_counter_of_the_field_is_open(centre):
    waiting = [centre.issue("TPHT", now=at(8, m)) for m in range(2)]
    result = engine.estimate(centre.session, centre.unit, waiting[0], at(8, 5))
    assert (result.ahead, result.minutes, result.counters_open) == (0, 0, 0)
    centre.open(2, now=at(8, 6))  # serves TPHT
    assert engine.estimate(centre.session, centre.unit, waiting[0], at(8, 7)).counters_open == 1
    engine.pause_counter(centre.session, centre.counter(2), actor=centre.clerk(2), now=at(8, 8),
                         reason="nghỉ")
    assert engine.estimate(centre.session, centre.unit, waiting[1], at(8, 9)).counters_open == 0


# --- transfer keeps the place the ticket last had -------------------------------------


def test_a_missed_citizen_who_came_back_keeps_the_later_place_on_transfer(centre):
    """Missed, back in the queue at 09:30, then transferred: behind those waiting since
    08:30 in the new field, not at the place of the 08:00 issue."""
    centre.open(1, now=at(7, 30))
    centre.open(4, now=at(7, 30))
    a001 = centre.issue("TPHT", now=at(8))
    assert centre.call_next(1, now=at(8, 5)).id == a001.id
    engine.skip(centre.session, centre.counter(1), actor=centre.clerk(1), now=at(8, 10))
    c001, c002 = (centre.issue("LDTBXH", now=at(8, 30 + m)) for m in range(2))
    engine.requeue(centre.session, a001, actor=centre.clerk(1), now=at(9, 30))
    assert centre.call_next(1, now=at(9, 31)).id == a001.id
    moved = engine.transfer(centre.session, centre.unit, centre.counter(1),
                            actor=centre.clerk(1), now=at(9, 35),
                            service_id=centre.service("LDTBXH").id)
    assert moved.queue_at == at(9, 30)
    assert ahead(centre, moved) == 2
    calls = [centre.call_next(4, now=at(9, 40 + m)).id for m in range(3)]
    assert calls == [c001.id, c002.id, a001.id]


def test_a_missed_ticket_called_back_directly_joins_when_it_came_back(centre):
    centre.open(1, now=at(7, 30))
    centre.open(4, now=at(7, 30))
    a001 = centre.issue("TPHT", now=at(8))
    centre.call_next(1, now=at(8, 5))
    engine.skip(centre.session, centre.counter(1), actor=centre.clerk(1), now=at(8, 10))
    c001 = centre.issue("LDTBXH", now=at(8, 30))
    engine.call_ticket(centre.session, centre.counter(1), a001.id, actor=centre.clerk(1),
                       now=at(9, 30))
    moved = engine.transfer(centre.session, centre.unit, centre.counter(1),
                            actor=centre.clerk(1), now=at(9, 35),
                            service_id=centre.service("LDTBXH").id)
    assert moved.queue_at == at(9, 30)
    assert [centre.call_next(4, now=at(9, 40 + m)).id for m in range(2)] == [c001.id, a001.id]


def test_transfer_of_a_ticket_never_missed_still_keeps_its_issue_place(centre):
    centre.open(1, now=at(7, 30))
    c001 = centre.issue("LDTBXH", now=at(8, 30))
    a001 = centre.issue("TPHT", now=at(8))
    centre.call_next(1, now=at(9))
    moved = engine.transfer(centre.session, centre.unit, centre.counter(1),
                            actor=centre.clerk(1), now=at(9, 5),
                            service_id=centre.service("LDTBXH").id)
    assert moved.id == a001.id and moved.queue_at == at(8)
    assert ahead(centre, reload(centre, c001)) == 1


def reload(centre, ticket: Ticket) -> Ticket:
    centre.session.refresh(ticket)
    return ticket


# --- a missed ticket of an earlier day ---------------------------------------------------


def test_a_missed_ticket_of_an_earlier_day_cannot_rejoin_today(centre):
    friday = local(2026, 11, 20, 9)
    centre.open(1, now=friday)
    old = centre.issue("TPHT", now=friday)
    centre.call_next(1, now=friday)
    engine.skip(centre.session, centre.counter(1), actor=centre.clerk(1), now=friday)
    with pytest.raises(DomainError) as caught:
        engine.requeue(centre.session, old, actor=centre.clerk(1), now=at(9))
    assert (caught.value.code, caught.value.status) == ("ticket_from_earlier_day", 409)
    with pytest.raises(DomainError) as caught:
        engine.call_ticket(centre.session, centre.counter(1), old.id, actor=centre.clerk(1),
                           now=at(9))
    assert caught.value.code == "ticket_from_earlier_day"
    assert reload(centre, old).state == "missed"
    # the same day it still can
    engine.requeue(centre.session, old, actor=centre.clerk(1), now=friday + dt.timedelta(hours=1))
    assert old.state == "waiting"
