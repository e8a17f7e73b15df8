"""The queue engine's rules, called directly with a session, an actor and ``now``.

Every test runs on the demo centre (Monday 23 November 2026 unless said otherwise).
Counter 1 serves TPHT (prefix A); counter 2 TPHT, NV; counter 4 LDTBXH (prefix C), YT;
counter 8 TPHT, LDTBXH, YT, GD, VHTT, NN.
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from onestop import signals
from onestop.queueing import engine, policy
from onestop.queueing.errors import DomainError, NotFound
from onestop.queueing.models import CounterEvent, Ticket, TicketEvent
from tests.conftest import local


def at(hour: int, minute: int = 0) -> dt.datetime:
    """A moment on Monday 23 November 2026, Hà Nội time."""
    return local(2026, 11, 23, hour, minute)


def labels(tickets: list[Ticket]) -> list[str]:
    return [t.label for t in tickets]


def refused(call, *args, **kwargs) -> DomainError:
    with pytest.raises(DomainError) as caught:
        call(*args, **kwargs)
    return caught.value


def reload(centre, ticket: Ticket) -> Ticket:
    centre.session.refresh(ticket)
    return ticket


# --- numbering -----------------------------------------------------------------------


def test_numbers_follow_each_other_per_service(centre):
    tickets = [centre.issue("TPHT", now=at(8, m)) for m in range(3)]
    assert labels(tickets) == ["A001", "A002", "A003"]
    assert [t.number for t in tickets] == [1, 2, 3]
    assert {t.business_date for t in tickets} == {dt.date(2026, 11, 23)}


def test_each_service_has_its_own_sequence(centre):
    centre.issue("TPHT", now=at(8))
    centre.issue("TPHT", now=at(8, 1))
    land = centre.issue("DD", now=at(8, 2))
    assert (land.number, land.label) == (1, "B001")
    assert centre.issue("TPHT", now=at(8, 3)).label == "A003"


def test_each_business_date_starts_again_at_one(centre):
    centre.issue("TPHT", now=at(8))
    centre.issue("TPHT", now=at(8, 1))
    tuesday = centre.issue("TPHT", now=local(2026, 11, 24, 8, 0))
    assert (tuesday.business_date, tuesday.label) == (dt.date(2026, 11, 24), "A001")


def test_number_block_labels(centre):
    service = centre.service("TPHT")
    service.prefix, service.block_start, service.block_end = "", 1001, 1999
    tickets = [centre.issue("TPHT", now=at(8, m)) for m in range(2)]
    assert labels(tickets) == ["1001", "1002"]
    assert [t.number for t in tickets] == [1001, 1002]


def test_number_block_end_reached(centre):
    service = centre.service("TPHT")
    service.prefix, service.block_start, service.block_end = "", 1001, 1002
    service.daily_cap = None
    centre.issue("TPHT", now=at(8))
    centre.issue("TPHT", now=at(8, 1))
    assert refused(centre.issue, "TPHT", now=at(8, 2)).code == "daily_cap_reached"


def test_daily_cap_refuses_without_consuming_a_number(centre):
    service = centre.service("TPHT")
    service.daily_cap = 2
    centre.issue("TPHT", now=at(8))
    centre.issue("TPHT", now=at(8, 1))
    error = refused(centre.issue, "TPHT", now=at(8, 2))
    assert (error.code, error.details["cap"]) == ("daily_cap_reached", 2)
    assert centre.session.scalar(select(Ticket.id).where(Ticket.number == 3)) is None
    service.daily_cap = 3
    third = centre.issue("TPHT", now=at(8, 3))
    assert (third.number, third.label) == (3, "A003")


def test_daily_cap_is_per_service(centre):
    centre.service("TPHT").daily_cap = 1
    centre.issue("TPHT", now=at(8))
    refused(centre.issue, "TPHT", now=at(8, 1))
    assert centre.issue("DD", now=at(8, 2)).label == "B001"


def test_invalid_priority(centre):
    error = refused(centre.issue, "TPHT", now=at(8), priority="vip")
    assert (error.code, error.status) == ("invalid_priority", 422)
    centre.settings(priority_classes=["elderly"])
    assert refused(centre.issue, "TPHT", now=at(8), priority="pregnant").code == "invalid_priority"
    assert centre.issue("TPHT", now=at(8), priority="elderly").label == "A001"


# --- waiting and estimates -----------------------------------------------------------


def test_waiting_ahead_counts_earlier_waiting_tickets_of_the_service(centre):
    first, second, third = (centre.issue("TPHT", now=at(8, m)) for m in range(3))
    centre.issue("DD", now=at(7, 45))  # another queue
    assert [engine.waiting_ahead(centre.session, t) for t in (first, second, third)] == [0, 1, 2]
    centre.open(1)
    centre.call_next(1, now=at(8, 30))
    assert engine.waiting_ahead(centre.session, reload(centre, first)) == 0
    assert engine.waiting_ahead(centre.session, third) == 1


def test_estimate_grows_with_people_ahead(centre):
    tickets = [centre.issue("TPHT", now=at(8, m)) for m in range(4)]
    estimates = [engine.estimate_for(centre.session, centre.unit, t) for t in tickets]
    # no history: the unit's default of 5 minutes a citizen, one counter assumed
    assert estimates == [(0, 0), (1, 5), (2, 10), (3, 15)]


def test_estimate_uses_recent_service_times_and_open_counters(centre):
    centre.open(1, now=at(7, 30))
    counter = centre.counter(1)
    for minute in (0, 10):
        centre.issue("TPHT", now=at(7, 30 + minute))
        centre.call_next(1, now=at(8, minute))
        engine.finish(centre.session, counter, actor=centre.clerk(1), now=at(8, minute + 10))
    waiting = [centre.issue("TPHT", now=at(8, 30 + m)) for m in range(4)]
    # 10 minutes a citizen, one counter open
    assert engine.estimate_for(centre.session, centre.unit, waiting[3]) == (3, 30)
    centre.open(2, now=at(8, 40))
    # ... now two counters serve TPHT
    assert engine.estimate_for(centre.session, centre.unit, waiting[3]) == (3, 15)
    assert engine.estimate_for(centre.session, centre.unit, waiting[1]) == (1, 5)


# --- call next -----------------------------------------------------------------------


def test_fifo_calls_oldest_first_across_the_counters_services(centre):
    centre.issue("LDTBXH", now=at(8))
    centre.issue("TPHT", now=at(8, 5))
    centre.issue("LDTBXH", now=at(8, 10))
    centre.open(8)
    assert [centre.call_next(8).label for _ in range(3)] == ["C001", "A001", "C002"]


def test_order_mode_prefers_the_counters_first_service(centre):
    centre.counter(8).service_mode = "order"
    centre.issue("LDTBXH", now=at(8))
    centre.issue("LDTBXH", now=at(8, 1))
    centre.issue("TPHT", now=at(8, 5))
    centre.open(8)
    assert [centre.call_next(8).label for _ in range(3)] == ["A001", "C001", "C002"]


def test_weighted_mode_follows_the_weight_shares(centre):
    counter = centre.counter(8)
    counter.service_mode = "weighted"
    counter.links[0].weight = 2  # TPHT twice as often as LDTBXH
    for minute in range(3):
        centre.issue("LDTBXH", now=at(8, minute))
    for minute in range(4):
        centre.issue("TPHT", now=at(8, 10 + minute))
    centre.open(8)
    calls = [centre.call_next(8, now=at(9, m)).label for m in range(6)]
    assert calls == ["A001", "C001", "A002", "A003", "C002", "A004"]


def test_strict_priority_goes_before_earlier_normal_tickets(centre):
    centre.issue("TPHT", now=at(8))
    centre.issue("TPHT", now=at(8, 5))
    centre.issue("TPHT", now=at(8, 10), priority="elderly")
    centre.open(1)
    assert [centre.call_next(1).label for _ in range(3)] == ["A003", "A001", "A002"]


def test_deep_queues_the_best_ticket_far_back_is_still_called_first(centre):
    """Call-next reads only the head of each (field, priority class) queue; a priority ticket
    behind many normal ones, in another field, or a ticket sent to this very counter, must still
    win, and a long queue keeps its order."""
    for minute in range(12):
        centre.issue("TPHT", now=at(8, minute))  # A001..A012
    for minute in range(9):
        centre.issue("LDTBXH", now=at(8, 20 + minute))  # C001..C009
    centre.issue("LDTBXH", now=at(8, 40), priority="pregnant")  # C010, behind 9 normal
    centre.issue("TPHT", now=at(8, 41), priority="elderly")  # A013, behind 12 normal
    for number in (1, 8):
        centre.open(number)
    taken = centre.call_next(1, now=at(9))
    assert taken.label == "A013"
    engine.transfer(centre.session, centre.unit, centre.counter(1), actor=centre.clerk(1),
                    now=at(9, 1), to_counter_id=centre.counter(8).id)
    calls = [centre.call_next(8, now=at(9, 2 + m)).label for m in range(23)]
    # priority first (strict), the one sent to this counter before the other; then oldest first
    assert calls == (["A013", "C010"] + [f"A{n:03}" for n in range(1, 13)]
                     + [f"C{n:03}" for n in range(1, 10)])


def test_interleave_mode_calls_n_normal_then_one_priority(centre):
    centre.settings(priority_mode="interleave", interleave_normal=2)
    centre.issue("TPHT", now=at(8), priority="elderly")  # A001
    for minute in range(1, 5):
        centre.issue("TPHT", now=at(8, minute))  # A002..A005
    centre.issue("TPHT", now=at(8, 6), priority="disabled")  # A006
    centre.open(1)
    calls = [centre.call_next(1, now=at(9, m)).label for m in range(6)]
    assert calls == ["A002", "A003", "A001", "A004", "A005", "A006"]


def test_interleave_after_a_long_run_of_normal_calls(centre):
    """The count of normal calls stops at N (the counter row is not rewritten on every call)
    and a priority citizen who arrives after many normal calls is called next."""
    centre.settings(priority_mode="interleave", interleave_normal=2)
    for minute in range(8):
        centre.issue("TPHT", now=at(8, minute))  # A001..A008
    centre.open(1)
    first = [centre.call_next(1, now=at(9, m)).label for m in range(5)]
    assert first == ["A001", "A002", "A003", "A004", "A005"]
    assert centre.counter(1).calls_since_priority == 2
    centre.issue("TPHT", now=at(9, 10), priority="elderly")  # A009
    later = [centre.call_next(1, now=at(9, 11 + m)).label for m in range(4)]
    assert later == ["A009", "A006", "A007", "A008"]
    assert centre.counter(1).calls_since_priority == 2


def test_call_next_needs_an_open_counter(centre):
    centre.issue("TPHT", now=at(8))
    error = refused(centre.call_next, 1)
    assert (error.code, error.details["state"]) == ("counter_not_open", "closed")
    centre.open(1)
    engine.pause_counter(centre.session, centre.counter(1), actor=centre.clerk(1), now=at(9),
                         reason="break")
    assert refused(centre.call_next, 1).code == "counter_not_open"


def test_call_next_on_empty_queue(centre):
    centre.open(1)
    with pytest.raises(NotFound) as caught:
        centre.call_next(1)
    assert (caught.value.code, caught.value.status) == ("queue_empty", 404)


def test_call_next_only_sees_the_counters_services(centre):
    centre.issue("DD", now=at(8))
    centre.open(1)
    with pytest.raises(NotFound):
        centre.call_next(1)


def test_call_next_finishes_the_current_ticket(centre):
    first = centre.issue("TPHT", now=at(8))
    centre.issue("TPHT", now=at(8, 1))
    centre.open(1)
    assert centre.call_next(1, now=at(9)).id == first.id
    second = centre.call_next(1, now=at(9, 7))
    first = reload(centre, first)
    assert (first.state, first.outcome) == ("done", "served")
    assert first.finished_at == at(9, 7)
    assert (second.state, second.counter_id, second.called_at) == ("called", 1, at(9, 7))


def test_two_counters_never_get_the_same_ticket(centre):
    for minute in range(9):
        centre.issue("TPHT", now=at(8, minute))
    centre.open(1)
    centre.open(2)
    called = [centre.call_next(1 if i % 2 == 0 else 2, now=at(9, i)) for i in range(9)]
    assert len(set(labels(called))) == 9
    assert sorted(labels(called)) == [f"A{n:03d}" for n in range(1, 10)]
    with pytest.raises(NotFound):
        centre.call_next(2, now=at(9, 30))


def test_call_next_skips_a_candidate_another_counter_claimed(centre, monkeypatch):
    taken = centre.issue("TPHT", now=at(8))
    free = centre.issue("TPHT", now=at(8, 1))
    centre.open(1)
    centre.open(2)
    assert centre.call_next(2).id == taken.id
    # a stale read that still lists the ticket counter 2 holds: the claim must fail on it
    monkeypatch.setattr(policy, "candidates",
                        lambda *_args: [(taken.id, "none"), (free.id, "none")])
    assert centre.call_next(1).id == free.id
    assert reload(centre, taken).counter_id == centre.counter(2).id


# --- recall, skip, requeue, direct call --------------------------------------------


def test_recall_counts_and_turns_missed_past_the_limit(centre):
    centre.settings(recall_limit=2)
    centre.issue("TPHT", now=at(8))
    centre.open(1)
    counter = centre.counter(1)
    ticket = centre.call_next(1, now=at(9))
    for expected in (1, 2):
        again = engine.recall(centre.session, centre.unit, counter, actor=centre.clerk(1),
                              now=at(9, expected))
        assert (again.state, again.recall_count) == ("called", expected)
    last = engine.recall(centre.session, centre.unit, counter, actor=centre.clerk(1),
                         now=at(9, 3))
    assert last.id == ticket.id
    assert last.state == "missed"
    event = centre.session.scalars(select(TicketEvent).where(TicketEvent.ticket_id == ticket.id)
                                   .order_by(TicketEvent.id.desc())).first()
    assert (event.action, event.details) == ("skip", {"reason": "recall_limit"})


def test_recall_needs_a_current_ticket(centre):
    centre.open(1)
    error = refused(engine.recall, centre.session, centre.unit, centre.counter(1),
                    actor=centre.clerk(1), now=at(9))
    assert error.code == "no_current_ticket"


def test_skip_marks_missed(centre):
    centre.issue("TPHT", now=at(8))
    centre.open(1)
    centre.call_next(1)
    ticket = engine.skip(centre.session, centre.counter(1), actor=centre.clerk(1), now=at(9, 2))
    assert (ticket.state, ticket.finished_at) == ("missed", at(9, 2))
    assert engine.current_ticket(centre.session, centre.counter(1)) is None


def test_requeue_puts_a_missed_ticket_at_the_back(centre):
    first = centre.issue("TPHT", now=at(8))
    centre.issue("TPHT", now=at(8, 1))
    centre.issue("TPHT", now=at(8, 2))
    centre.open(1)
    centre.call_next(1, now=at(9))
    engine.skip(centre.session, centre.counter(1), actor=centre.clerk(1), now=at(9, 1))
    back = engine.requeue(centre.session, first, actor=centre.clerk(1), now=at(9, 30))
    assert (back.state, back.counter_id, back.finished_at) == ("waiting", None, None)
    assert engine.waiting_ahead(centre.session, back) == 2
    assert [centre.call_next(1, now=at(10, m)).label for m in range(3)] == [
        "A002", "A003", "A001"]


def test_requeue_only_a_missed_ticket(centre):
    ticket = centre.issue("TPHT", now=at(8))
    error = refused(engine.requeue, centre.session, ticket, actor=centre.clerk(1), now=at(9))
    assert (error.code, error.details["state"]) == ("invalid_state", "waiting")


def test_call_ticket_calls_a_missed_ticket_directly(centre):
    first = centre.issue("TPHT", now=at(8))
    second = centre.issue("TPHT", now=at(8, 1))
    centre.open(1)
    centre.call_next(1, now=at(9))
    engine.skip(centre.session, centre.counter(1), actor=centre.clerk(1), now=at(9, 1))
    called = engine.call_ticket(centre.session, centre.counter(1),
                                first.id, actor=centre.clerk(1), now=at(9, 20))
    assert (called.id, called.state, called.called_at) == (first.id, "called", at(9, 20))
    assert reload(centre, second).state == "waiting"


# --- transfer ------------------------------------------------------------------------


def _transfer_setup(centre):
    centre.issue("LDTBXH", now=at(7, 50))  # C001, before A001
    centre.issue("TPHT", now=at(8))  # A001
    centre.issue("LDTBXH", now=at(8, 5))  # C002, after A001
    centre.issue("LDTBXH", now=at(8, 10))  # C003
    centre.open(1)
    centre.open(4)
    ticket = centre.call_next(1, now=at(8, 15))
    moved = engine.transfer(centre.session, centre.unit, centre.counter(1),
                            actor=centre.clerk(1), now=at(8, 20),
                            service_id=centre.service("LDTBXH").id)
    assert moved.id == ticket.id
    return moved


def test_transfer_keeps_the_original_place(centre):
    moved = _transfer_setup(centre)
    assert (moved.state, moved.label, moved.counter_id) == ("waiting", "A001", None)
    assert moved.service_id == centre.service("LDTBXH").id
    assert moved.queue_at == at(8)
    calls = [centre.call_next(4, now=at(9, m)).label for m in range(4)]
    assert calls == ["C001", "A001", "C002", "C003"]


def test_transfer_goes_to_the_back_without_keep_place(centre):
    centre.settings(transfer_keeps_place=False)
    moved = _transfer_setup(centre)
    assert moved.queue_at == at(8, 20)
    calls = [centre.call_next(4, now=at(9, m)).label for m in range(4)]
    assert calls == ["C001", "C002", "C003", "A001"]


def test_transfer_to_a_counter_only_that_counter_calls_it(centre):
    first = centre.issue("TPHT", now=at(8))
    centre.issue("TPHT", now=at(8, 1))
    for number in (1, 2, 8):
        centre.open(number)
    centre.call_next(1, now=at(9))
    moved = engine.transfer(centre.session, centre.unit, centre.counter(1),
                            actor=centre.clerk(1), now=at(9, 5),
                            to_counter_id=centre.counter(2).id)
    assert (moved.state, moved.target_counter_id) == ("waiting", centre.counter(2).id)
    assert centre.call_next(8, now=at(9, 10)).label == "A002"  # older A001 is not for it
    with pytest.raises(NotFound):
        centre.call_next(8, now=at(9, 11))
    with pytest.raises(NotFound):
        centre.call_next(1, now=at(9, 12))
    called = centre.call_next(2, now=at(9, 13))
    assert (called.id, called.label, called.counter_id) == (first.id, "A001", 2)


def test_transfer_needs_exactly_one_target(centre):
    centre.issue("TPHT", now=at(8))
    centre.open(1)
    centre.call_next(1)
    error = refused(engine.transfer, centre.session, centre.unit, centre.counter(1),
                    actor=centre.clerk(1), now=at(9, 1))
    assert error.code == "transfer_target_required"


# --- park ----------------------------------------------------------------------------


def test_park_and_unpark_at_the_same_counter(centre):
    first = centre.issue("TPHT", now=at(8))
    second = centre.issue("TPHT", now=at(8, 1))
    centre.open(1)
    centre.call_next(1, now=at(9))
    parked = engine.park(centre.session, centre.counter(1), actor=centre.clerk(1),
                         now=at(9, 2), note="photocopy")
    assert (parked.state, parked.counter_id) == ("parked", 1)
    assert engine.current_ticket(centre.session, centre.counter(1)) is None
    assert centre.call_next(1, now=at(9, 3)).id == second.id  # a parked ticket is not queued
    back = engine.call_ticket(centre.session, centre.counter(1), first.id,
                              actor=centre.clerk(1), now=at(9, 10))
    assert (back.id, back.state, back.counter_id) == (first.id, "called", 1)
    assert reload(centre, second).state == "done"
    event = centre.session.scalars(select(TicketEvent).where(TicketEvent.ticket_id == first.id)
                                   .order_by(TicketEvent.id.desc())).first()
    assert (event.action, event.from_state, event.to_state) == ("unpark", "parked", "called")


def test_unpark_from_another_counter_is_refused(centre):
    first = centre.issue("TPHT", now=at(8))
    centre.open(1)
    centre.open(2)
    centre.call_next(1, now=at(9))
    engine.park(centre.session, centre.counter(1), actor=centre.clerk(1), now=at(9, 2))
    error = refused(engine.call_ticket, centre.session, centre.counter(2), first.id,
                    actor=centre.clerk(2), now=at(9, 5))
    assert error.code == "parked_elsewhere"
    assert reload(centre, first).state == "parked"


# --- finish, pause, open ------------------------------------------------------------


def test_finish_with_outcome(centre):
    centre.issue("TPHT", now=at(8))
    centre.open(1)
    called = centre.call_next(1, now=at(9))
    serving = engine.start_serving(centre.session, centre.counter(1), actor=centre.clerk(1),
                                   now=at(9, 2))
    assert (serving.state, serving.serving_at) == ("serving", at(9, 2))
    done = engine.finish(centre.session, centre.counter(1), actor=centre.clerk(1),
                         now=at(9, 12), outcome="dossier_received")
    assert done.id == called.id
    assert (done.state, done.outcome, done.finished_at) == ("done", "dossier_received", at(9, 12))
    assert engine.current_ticket(centre.session, centre.counter(1)) is None


def test_call_next_finishes_the_ticket_at_the_counter(centre):
    """Served from the call when the clerk never pressed "start", from the start otherwise;
    the finish event says which state the ticket left."""
    first, second, third = (centre.issue("TPHT", now=at(8, m)) for m in (1, 2, 3))
    centre.open(1)
    centre.call_next(1, now=at(9))
    centre.call_next(1, now=at(9, 10))
    engine.start_serving(centre.session, centre.counter(1), actor=centre.clerk(1), now=at(9, 12))
    centre.call_next(1, now=at(9, 30))
    done = [reload(centre, t) for t in (first, second)]
    assert [(t.state, t.outcome, t.serving_at, t.finished_at) for t in done] == [
        ("done", "served", at(9), at(9, 10)), ("done", "served", at(9, 12), at(9, 30))]
    assert reload(centre, third).state == "called"
    finishes = centre.session.scalars(select(TicketEvent).where(TicketEvent.action == "finish")
                                      .order_by(TicketEvent.id)).all()
    assert [(e.ticket_id, e.from_state, e.to_state, e.details) for e in finishes] == [
        (first.id, "called", "done", {"outcome": "served"}),
        (second.id, "serving", "done", {"outcome": "served"})]


def test_finish_without_a_current_ticket_is_refused(centre):
    centre.open(1)
    error = refused(engine.finish, centre.session, centre.counter(1), actor=centre.clerk(1),
                    now=at(9))
    assert error.code == "no_current_ticket"


def test_pause_with_reason_and_resume(centre):
    counter = centre.open(1)
    engine.pause_counter(centre.session, counter, actor=centre.clerk(1), now=at(10),
                         reason="meeting")
    assert (counter.state, counter.pause_reason) == ("paused", "meeting")
    engine.resume_counter(centre.session, counter, actor=centre.clerk(1), now=at(10, 20))
    assert (counter.state, counter.pause_reason) == ("open", None)
    events = centre.session.scalars(select(CounterEvent).where(CounterEvent.counter_id ==
                                                               counter.id)
                                    .order_by(CounterEvent.id)).all()
    assert [(e.action, e.from_state, e.to_state) for e in events] == [
        ("open", "closed", "open"), ("pause", "open", "paused"), ("resume", "paused", "open")]
    assert events[1].details == {"reason": "meeting"}
    assert {e.actor_user_id for e in events} == {centre.user_id("clerk1")}


def test_pause_needs_an_open_counter(centre):
    counter = centre.counter(1)
    error = refused(engine.pause_counter, centre.session, counter, actor=centre.clerk(1),
                    now=at(9), reason="break")
    assert (error.code, error.details["state"]) == ("counter_not_open", "closed")
    centre.open(1)
    engine.pause_counter(centre.session, counter, actor=centre.clerk(1), now=at(9), reason="x")
    assert refused(engine.pause_counter, centre.session, counter, actor=centre.clerk(1),
                   now=at(9, 1), reason="y").code == "counter_not_open"
    engine.resume_counter(centre.session, counter, actor=centre.clerk(1), now=at(9, 2))
    assert refused(engine.resume_counter, centre.session, counter, actor=centre.clerk(1),
                   now=at(9, 3)).code == "counter_not_paused"


def test_open_counter_taken_by_another_clerk(centre):
    counter = centre.open(1)
    assert (counter.state, counter.clerk_id) == ("open", centre.user_id("clerk1"))
    error = refused(engine.open_counter, centre.session, counter, centre.user_id("clerk2"),
                    now=at(9, 5))
    assert (error.code, error.details["clerk_id"]) == ("counter_taken", centre.user_id("clerk1"))
    assert counter.clerk_id == centre.user_id("clerk1")
    # the same clerk may open again; after sign-out another clerk may take it
    engine.open_counter(centre.session, counter, centre.user_id("clerk1"), now=at(9, 6))
    engine.close_counter(centre.session, counter, actor=centre.clerk(1), now=at(9, 7))
    engine.open_counter(centre.session, counter, centre.user_id("clerk2"), now=at(9, 8))
    assert counter.clerk_id == centre.user_id("clerk2")


def test_close_counter_finishes_the_ticket_being_served(centre):
    centre.issue("TPHT", now=at(8))
    counter = centre.open(1)
    ticket = centre.call_next(1, now=at(9))
    engine.start_serving(centre.session, counter, actor=centre.clerk(1), now=at(9, 1))
    engine.close_counter(centre.session, counter, actor=centre.clerk(1), now=at(9, 5))
    assert (counter.state, counter.clerk_id) == ("closed", None)
    assert (reload(centre, ticket).state, ticket.outcome) == ("done", "counter_closed")


def test_close_counter_marks_a_called_ticket_missed(centre):
    centre.issue("TPHT", now=at(8))
    counter = centre.open(1)
    ticket = centre.call_next(1, now=at(9))
    engine.close_counter(centre.session, counter, actor=centre.clerk(1), now=at(9, 5))
    assert (reload(centre, ticket).state, ticket.outcome) == ("missed", None)


# --- close of day --------------------------------------------------------------------


def test_close_day_expires_open_tickets(centre):
    done, missed, parked, called, waiting = (centre.issue("TPHT", now=at(8, m)) for m in range(5))
    counter = centre.open(1)
    clerk = centre.clerk(1)
    centre.call_next(1, now=at(9))
    engine.finish(centre.session, counter, actor=clerk, now=at(9, 5))
    centre.call_next(1, now=at(9, 6))
    engine.skip(centre.session, counter, actor=clerk, now=at(9, 7))
    centre.call_next(1, now=at(9, 8))
    engine.park(centre.session, counter, actor=clerk, now=at(9, 9))
    centre.call_next(1, now=at(9, 10))
    tomorrow = centre.issue("TPHT", now=local(2026, 11, 24, 0, 10), always_open=True)
    assert engine.close_day(centre.session, centre.unit, now=at(17, 30)) == 4
    states = {t.label: reload(centre, t).state for t in (done, missed, parked, called, waiting)}
    assert states == {"A001": "done", "A002": "expired", "A003": "expired", "A004": "expired",
                      "A005": "expired"}
    assert reload(centre, done).finished_at == at(9, 5)
    assert reload(centre, waiting).finished_at == at(17, 30)
    assert reload(centre, tomorrow).state == "waiting"
    events = centre.session.scalars(select(TicketEvent).where(
        TicketEvent.ticket_id == waiting.id, TicketEvent.action == "expire")).all()
    assert [(e.from_state, e.to_state, e.actor_user_id) for e in events] == [
        ("waiting", "expired", None)]


# --- audit trail and signals --------------------------------------------------------


def test_every_change_writes_an_event_with_its_actor(centre):
    clerk = centre.clerk(1)
    ticket = centre.issue("TPHT", now=at(8), actor=clerk, source="counter")
    counter = centre.open(1)
    centre.call_next(1, now=at(9))
    engine.recall(centre.session, centre.unit, counter, actor=clerk, now=at(9, 1))
    engine.finish(centre.session, counter, actor=clerk, now=at(9, 9), outcome="served")
    events = centre.session.scalars(select(TicketEvent).where(TicketEvent.ticket_id == ticket.id)
                                    .order_by(TicketEvent.id)).all()
    assert [(e.action, e.from_state, e.to_state, e.at) for e in events] == [
        ("issue", None, "waiting", at(8)),
        ("call", "waiting", "called", at(9)),
        ("recall", "called", "called", at(9, 1)),
        ("finish", "called", "done", at(9, 9)),
    ]
    assert {e.actor_user_id for e in events} == {clerk.user_id}
    assert [e.counter_id for e in events] == [None, 1, 1, 1]
    assert {e.service_id for e in events} == {centre.service("TPHT").id}
    assert events[0].details == {"priority": "none", "source": "counter"}
    assert events[2].details == {"count": 1}
    assert events[3].details == {"outcome": "served"}


def test_ticket_called_signal_with_recall_flag(centre):
    centre.issue("TPHT", now=at(8))
    counter = centre.open(1)
    seen = []

    def receiver(sender, **kwargs):
        seen.append((kwargs["ticket"].label, kwargs["counter"].number, kwargs["recall"]))

    with signals.ticket_called.connected_to(receiver):
        centre.call_next(1, now=at(9))
        engine.recall(centre.session, centre.unit, counter, actor=centre.clerk(1), now=at(9, 1))
    assert seen == [("A001", 1, False), ("A001", 1, True)]


@pytest.mark.postgres
def test_numbering_and_cap_on_postgresql(pg_centre):
    pg_centre.service("TPHT").daily_cap = 2
    assert [pg_centre.issue("TPHT", now=at(8, m)).label for m in range(2)] == ["A001", "A002"]
    assert refused(pg_centre.issue, "TPHT", now=at(8, 2)).code == "daily_cap_reached"
    pg_centre.service("TPHT").daily_cap = 3
    assert pg_centre.issue("TPHT", now=at(8, 3)).label == "A003"
    tuesday = pg_centre.issue("TPHT", now=local(2026, 11, 24, 0, 1), always_open=True)
    assert (tuesday.business_date, tuesday.label) == (dt.date(2026, 11, 24), "A001")
