"""The dossier engine: codes, tracking book, appointment, states, supplement, apology."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re

import pytest
from sqlalchemy import func, select

from onestop import signals
from onestop.db import DailyCounter
from onestop.dossiers import engine
from onestop.dossiers.engine import apologise, change_state, is_overdue
from onestop.dossiers.models import Dossier, DossierEvent
from onestop.queueing.engine import SYSTEM, issue_ticket
from onestop.queueing.errors import DomainError
from onestop.queueing.models import Service, Ticket
from onestop.units.models import Unit, UnitDay
from tests.conftest import MONDAY_9, local
from tests.dossiers.conftest import APPLICANT, SAME_DAY, TEN_DAYS, THREE_DAYS, demo_unit, procedure, receive

FRIDAY_15 = local(2026, 11, 27, 15, 0)


def test_code_is_unit_date_and_four_digit_daily_number(session):
    first = receive(session, MONDAY_9)
    second = receive(session, MONDAY_9, code=SAME_DAY)
    next_day = receive(session, local(2026, 11, 25, 8))
    assert first.code == "H56.12.3-261123-0001"
    assert second.code == "H56.12.3-261123-0002"
    assert next_day.code == "H56.12.3-261125-0001"
    assert (first.number, second.number, next_day.number) == (1, 2, 1)
    assert re.fullmatch(r"H56\.12\.3-\d{6}-\d{4,}", first.code)


def test_the_business_date_is_the_units_local_date(session):
    # 23:30 on Sunday 22/11 in UTC is 06:30 on Monday 23/11 in Hà Nội
    dossier = receive(session, dt.datetime(2026, 11, 22, 23, 30, tzinfo=dt.UTC))
    assert dossier.code.endswith("-261123-0001")
    assert dossier.business_date == dt.date(2026, 11, 23)


def test_code_grows_past_four_digits(session):
    unit = demo_unit(session)
    session.add(DailyCounter(scope=f"dossier:{unit.id}", business_date=dt.date(2026, 11, 23), last=9999))
    session.flush()
    assert receive(session, MONDAY_9).code == "H56.12.3-261123-10000"


def test_tracking_book_line_per_field_and_year(session):
    a = receive(session, MONDAY_9, code=SAME_DAY)  # TPHT
    b = receive(session, MONDAY_9, code=THREE_DAYS)  # DKKD
    c = receive(session, local(2026, 11, 25, 9), code=SAME_DAY)
    d = receive(session, local(2027, 1, 4, 9), code=SAME_DAY)
    assert (a.book_volume, a.book_line, a.book_year) == ("TPHT/2026", 1, 2026)
    assert (b.book_volume, b.book_line) == ("DKKD/2026", 1)
    assert (c.book_volume, c.book_line) == ("TPHT/2026", 2)
    assert (d.book_volume, d.book_line, d.book_year) == ("TPHT/2027", 1, 2027)


def test_receive_records_everything_and_an_event(session):
    unit = demo_unit(session)
    service = session.get(Service, procedure(session, SAME_DAY).service_id)
    ticket = issue_ticket(session, unit, service, actor=SYSTEM, now=MONDAY_9, always_open=True)
    dossier = receive(session, MONDAY_9, code=SAME_DAY, ticket=ticket,
                      documents=[{"name": "Tờ khai", "count": 1}, {"name": "Giấy chứng sinh", "count": 2}])
    assert dossier.state == "received"
    assert dossier.ticket_id == ticket.id and dossier.service_id == service.id
    assert dossier.received_at == MONDAY_9 and dossier.received_by_id == 3
    assert dossier.documents == [{"name": "Tờ khai", "count": 1, "form": "ban_chinh"},
                                 {"name": "Giấy chứng sinh", "count": 2, "form": "ban_chinh"}]
    assert (dossier.applicant_name, dossier.applicant_phone) == ("Nguyễn Văn An", "0912345678")
    # same-day procedure: due at closing today
    assert dossier.appointment_at == local(2026, 11, 23, 17, 0)
    events = session.scalars(select(DossierEvent).where(DossierEvent.dossier_id == dossier.id)).all()
    assert [(e.action, e.from_state, e.to_state, e.actor_user_id) for e in events] == [
        ("receive", None, "received", 3)]


def test_appointment_skips_the_vietnamese_cultural_day_and_weekend(session):
    # 3 working days from Monday 23/11/2026: 24/11 is Ngày Văn hóa Việt Nam -> 25, 26, 27
    assert receive(session, MONDAY_9, code=THREE_DAYS).appointment_at == local(2026, 11, 27, 17, 0)
    # 10 working days from Monday: 25, 26, 27, 30/11, 1, 2, 3, 4, 7, 8/12
    assert receive(session, MONDAY_9, code=TEN_DAYS).appointment_at == local(2026, 12, 8, 17, 0)


def test_appointment_uses_the_units_days(session):
    unit = demo_unit(session)
    session.add_all([UnitDay(unit_id=unit.id, date=dt.date(2026, 11, 28), kind="working"),
                     UnitDay(unit_id=unit.id, date=dt.date(2026, 12, 1), kind="off")])
    session.flush()
    # Friday 15:00 + 3: Saturday 28 (make-up), Monday 30, (1/12 off) Wednesday 2/12
    assert receive(session, FRIDAY_15, code=THREE_DAYS).appointment_at == local(2026, 12, 2, 17, 0)


def test_appointment_across_tet_2027(session):
    dossier = receive(session, local(2027, 2, 3, 10), code=THREE_DAYS)
    assert dossier.appointment_at == local(2027, 2, 15, 17, 0)  # 11, 12, (13-14 weekend) 15


@pytest.mark.parametrize("field,value", [
    ("name", ""), ("name", "x" * 201), ("name", "<script>alert(1)</script>"), ("name", "An\x00"),
    ("id_number", "12345678"), ("id_number", "1234567890123"), ("id_number", "12345678a"),
    ("phone", "12345"), ("phone", "091234567890"), ("phone", "09123abc78"),
    ("email", "not-an-email"), ("address", "x" * 301), ("on_behalf_of", "<b>")])
def test_bad_applicant_is_refused_before_a_number_is_taken(session, field, value):
    bad = dataclasses.replace(APPLICANT, **{field: value})
    with pytest.raises(DomainError) as error:
        receive(session, MONDAY_9, applicant=bad)
    assert (error.value.code, error.value.status, error.value.details) == (
        "invalid_applicant", 422, {"field": field})
    assert session.scalar(select(func.count()).select_from(DailyCounter)) == 0


def test_phone_is_normalised(session):
    for given in ["+84912345678", "0912 345 678", "091.234.5678"]:
        assert receive(session, MONDAY_9, applicant=dataclasses.replace(
            APPLICANT, phone=given)).applicant_phone == "0912345678"


@pytest.mark.parametrize("documents", [
    [{"name": "", "count": 1}], [{"name": "A", "count": 0}], [{"name": "A", "count": True}],
    [{"name": "A", "count": "2"}], [{"name": "A"}] * 51])
def test_bad_documents_are_refused(session, documents):
    with pytest.raises(DomainError) as error:
        receive(session, MONDAY_9, documents=documents)
    assert error.value.code == "invalid_documents"


def test_procedure_and_ticket_of_another_unit_are_refused(session):
    other = Unit(code="X01", name="Khác")
    session.add(other)
    session.flush()
    proc = procedure(session, SAME_DAY)
    with pytest.raises(DomainError) as error:
        engine.receive_dossier(session, other, proc, APPLICANT, actor=SYSTEM, now=MONDAY_9)
    assert (error.value.code, error.value.status) == ("procedure_not_found", 404)
    ticket = Ticket(unit_id=other.id, service_id=proc.service_id, issued_service_id=proc.service_id,
                    business_date=MONDAY_9.date(), number=1, label="Z001", issued_at=MONDAY_9,
                    queue_at=MONDAY_9)
    session.add(ticket)
    session.flush()
    with pytest.raises(DomainError) as error:
        receive(session, MONDAY_9, ticket=ticket)
    assert error.value.code == "ticket_not_found"
    proc.active = False
    with pytest.raises(DomainError) as error:
        receive(session, MONDAY_9, code=SAME_DAY)
    assert error.value.code == "procedure_inactive"


# --- states ---------------------------------------------------------------------------


def _events(session, dossier):
    return [(e.action, e.from_state, e.to_state) for e in session.scalars(
        select(DossierEvent).where(DossierEvent.dossier_id == dossier.id).order_by(DossierEvent.id))]


def test_happy_path_received_processing_ready_returned(session):
    dossier = receive(session, MONDAY_9)
    for state in ("processing", "ready", "returned"):
        change_state(session, dossier, state, actor=SYSTEM, now=MONDAY_9 + dt.timedelta(hours=1))
    assert dossier.state == "returned"
    assert dossier.ready_at == dossier.closed_at == MONDAY_9 + dt.timedelta(hours=1)
    assert _events(session, dossier) == [
        ("receive", None, "received"), ("state", "received", "processing"),
        ("state", "processing", "ready"), ("state", "ready", "returned")]


@pytest.mark.parametrize("path,refused", [
    ([], "ready"), ([], "returned"), (["processing"], "returned"), (["processing"], "received"),
    (["processing", "ready"], "processing"), (["processing", "ready"], "rejected"),
    (["processing", "ready", "returned"], "processing"), (["withdrawn"], "processing"),
    (["processing"], "processing"), (["processing", "ready"], "withdrawn")])
def test_transitions_outside_the_table_are_refused(session, path, refused):
    dossier = receive(session, MONDAY_9)
    for state in path:
        change_state(session, dossier, state, actor=SYSTEM, now=MONDAY_9)
    before = dossier.state
    with pytest.raises(DomainError) as error:
        change_state(session, dossier, refused, actor=SYSTEM, now=MONDAY_9, note="x")
    assert (error.value.code, error.value.status) == ("invalid_transition", 409)
    assert error.value.details == {"from_state": before, "to_state": refused}
    assert dossier.state == before


def test_supplement_only_once_and_then_the_clock_restarts(session):
    dossier = receive(session, MONDAY_9, code=THREE_DAYS)
    with pytest.raises(DomainError) as error:
        change_state(session, dossier, "supplement_requested", actor=SYSTEM, now=MONDAY_9)
    assert error.value.code == "note_required"
    change_state(session, dossier, "supplement_requested", actor=SYSTEM, now=MONDAY_9,
                 note="Thiếu bản sao căn cước")
    assert (dossier.supplement_count, dossier.supplement_note) == (1, "Thiếu bản sao căn cước")
    assert not is_overdue(dossier, local(2027, 1, 1))  # waiting for the citizen
    supplemented = local(2026, 12, 2, 10)
    change_state(session, dossier, "processing", actor=SYSTEM, now=supplemented)
    assert dossier.appointment_at == local(2026, 12, 7, 17, 0)  # 3, 4, 7 December
    with pytest.raises(DomainError) as error:
        change_state(session, dossier, "supplement_requested", actor=SYSTEM, now=supplemented, note="lại")
    assert (error.value.code, error.value.status) == ("supplement_already_requested", 409)
    assert dossier.state == "processing" and dossier.supplement_count == 1


def test_rejection_needs_a_reason(session):
    dossier = receive(session, MONDAY_9)
    with pytest.raises(DomainError) as error:
        change_state(session, dossier, "rejected", actor=SYSTEM, now=MONDAY_9, note="  ")
    assert (error.value.code, error.value.status) == ("note_required", 422)
    change_state(session, dossier, "rejected", actor=SYSTEM, now=MONDAY_9, note="Không thuộc thẩm quyền")
    assert dossier.state == "rejected" and dossier.note == "Không thuộc thẩm quyền"


def test_signals_are_sent(session):
    seen: list[tuple[str, str, str | None]] = []

    def on_received(_sender, dossier):
        seen.append(("received", dossier.code, None))

    def on_changed(_sender, dossier, action, from_state):
        seen.append((action, dossier.state, from_state))

    with signals.dossier_received.connected_to(on_received), \
            signals.dossier_changed.connected_to(on_changed):
        dossier = receive(session, MONDAY_9, code=THREE_DAYS)
        change_state(session, dossier, "processing", actor=SYSTEM, now=MONDAY_9)
        apologise(session, dossier, dt.date(2026, 12, 3), "Chờ ý kiến", actor=SYSTEM,
                  now=local(2026, 11, 27, 9))
    assert seen == [("received", dossier.code, None), ("state", "processing", "received"),
                    ("apology", "processing", "processing")]


# --- overdue and apology ----------------------------------------------------------------


def test_overdue_is_derived(session):
    dossier = receive(session, MONDAY_9, code=THREE_DAYS)  # due Friday 27/11 17:00
    assert not is_overdue(dossier, local(2026, 11, 27, 17, 0))
    assert is_overdue(dossier, local(2026, 11, 27, 17, 1))
    change_state(session, dossier, "processing", actor=SYSTEM, now=MONDAY_9)
    assert is_overdue(dossier, local(2026, 11, 30, 9))
    change_state(session, dossier, "ready", actor=SYSTEM, now=local(2026, 11, 30, 9))
    assert not is_overdue(dossier, local(2026, 12, 30, 9))


def test_apology_only_when_overdue_or_due_by_the_next_working_day(session):
    dossier = receive(session, MONDAY_9, code=TEN_DAYS)  # due Tuesday 8/12
    with pytest.raises(DomainError) as error:
        apologise(session, dossier, dt.date(2026, 12, 15), "Chậm", actor=SYSTEM, now=local(2026, 12, 3, 9))
    assert (error.value.code, error.value.status) == ("apology_not_due", 409)
    # Monday 7/12: due the next working day
    apologise(session, dossier, dt.date(2026, 12, 15), "Cần xác minh thực địa", actor=SYSTEM,
              now=local(2026, 12, 7, 9))
    assert dossier.new_appointment_at == local(2026, 12, 15, 17, 0)
    assert dossier.due_at == dossier.new_appointment_at
    assert dossier.appointment_at == local(2026, 12, 8, 17, 0)
    assert (dossier.apology_count, dossier.apology_reason) == (1, "Cần xác minh thực địa")
    assert not is_overdue(dossier, local(2026, 12, 10, 9))
    assert _events(session, dossier)[-1] == ("apology", "received", "received")


def test_apology_at_most_once(session):
    dossier = receive(session, MONDAY_9, code=THREE_DAYS)
    late = local(2026, 11, 30, 9)
    apologise(session, dossier, dt.date(2026, 12, 2), "Chậm", actor=SYSTEM, now=late)
    with pytest.raises(DomainError) as error:
        apologise(session, dossier, dt.date(2026, 12, 4), "Chậm nữa", actor=SYSTEM,
                  now=local(2026, 12, 3, 9))
    assert (error.value.code, error.value.status) == ("apology_already_given", 409)
    assert dossier.new_appointment_at == local(2026, 12, 2, 17, 0)


def test_apology_new_date_must_be_a_later_working_day(session):
    dossier = receive(session, MONDAY_9, code=THREE_DAYS)  # due Friday 27/11
    late = local(2026, 11, 30, 9)
    for day, reason in [(dt.date(2026, 11, 27), "not_later"), (dt.date(2026, 11, 30), "not_later"),
                        (dt.date(2026, 12, 5), "not_working_day")]:
        with pytest.raises(DomainError) as error:
            apologise(session, dossier, day, "Chậm", actor=SYSTEM, now=late)
        assert (error.value.code, error.value.details) == ("invalid_new_appointment", {"reason": reason})
    with pytest.raises(DomainError) as error:
        apologise(session, dossier, dt.date(2026, 12, 2), " ", actor=SYSTEM, now=late)
    assert error.value.code == "reason_required"
    assert dossier.apology_count == 0


def test_no_apology_for_a_finished_dossier(session):
    dossier = receive(session, MONDAY_9, code=THREE_DAYS)
    for state in ("processing", "ready"):
        change_state(session, dossier, state, actor=SYSTEM, now=local(2026, 11, 30, 9))
    with pytest.raises(DomainError) as error:
        apologise(session, dossier, dt.date(2026, 12, 2), "Chậm", actor=SYSTEM, now=local(2026, 11, 30, 10))
    assert error.value.code == "apology_not_due"


def test_code_is_unique_in_the_database(session):
    from sqlalchemy.exc import IntegrityError

    first = receive(session, MONDAY_9)
    clone = Dossier(**{c.key: getattr(first, c.key) for c in Dossier.__table__.columns if c.key != "id"})
    clone.number, clone.book_line = 99, 99
    session.add(clone)
    with pytest.raises(IntegrityError):
        session.flush()
