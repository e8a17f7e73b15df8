"""The procedure chosen at the kiosk stays on the ticket: the API answers it, the clerk's
card shows it, and the kiosk's slip names it and lists its documents (unit setting
``slip_documents``)."""

from __future__ import annotations

from typing import Any

from hardware.printing.fakeprinter import FakePrinter, decode
from hardware.printing.render import ticket_lines
from onestop.printing import dispatch
from onestop.units.models import Unit
from tests.api.helpers import act, assert_error, in_db, ok, ticket_count
from tests.conftest import bearer, token_for
from tests.counter.conftest import SAME_DAY, THREE_DAYS
from tests.printing.conftest import add_printing_device

BIRTH = "Đăng ký khai sinh"


def _issue(client: Any, token: str, **body: Any) -> Any:
    return client.post("/api/v1/tickets", json={"service_id": 1, **body}, headers=bearer(token))


def test_the_ticket_keeps_the_procedure(app, client, frozen):
    clerk = token_for(client, "clerk1")
    res = _issue(client, clerk, procedure_code=SAME_DAY)
    assert res.status_code == 201, res.get_data(as_text=True)
    ticket = res.get_json()
    assert (ticket["procedure_code"], ticket["procedure"]) == (SAME_DAY, BIRTH)
    again = ok(client.get(f"/api/v1/tickets/{ticket['id']}"))
    assert (again["procedure_code"], again["procedure"]) == (SAME_DAY, BIRTH)
    plain = ok(_issue(client, clerk), 201)
    assert (plain["procedure_code"], plain["procedure"]) == (None, None)
    # on the clerk's card once called
    ok(act(client, clerk, 1, "open"))
    ok(act(client, clerk, 1, "call-next"))
    current = ok(client.get("/api/v1/counters/1/queue", headers=bearer(clerk)))["current"]
    assert current["id"] == ticket["id"]
    assert (current["procedure_code"], current["procedure"]) == (SAME_DAY, BIRTH)


def test_a_procedure_of_another_field_or_unknown_is_refused(app, client, frozen):
    clerk = token_for(client, "clerk1")
    before = ticket_count(app)
    for code in (THREE_DAYS, "9.999999"):  # of the business-registration field; nobody's
        error = assert_error(_issue(client, clerk, procedure_code=code), 422, "invalid_procedure")
        assert error["procedure_code"] == code
    for bad in ("", "x" * 41, 5):
        assert_error(_issue(client, clerk, procedure_code=bad), 422)
    assert ticket_count(app) == before


def _printed_slips(monkeypatch: Any) -> list[Any]:
    slips: list[Any] = []
    real = dispatch.ticket_job

    def spy(slip: Any, **kwargs: Any) -> Any:
        slips.append(slip)
        return real(slip, **kwargs)

    monkeypatch.setattr(dispatch, "ticket_job", spy)
    return slips


def test_the_kiosk_slip_names_the_procedure_and_its_documents(app, client, frozen, monkeypatch):
    slips = _printed_slips(monkeypatch)
    with FakePrinter() as printer:
        kiosk, _ = add_printing_device(app, "kiosk", "Ki-ốt sảnh", printer.uri)
        ok(_issue(client, kiosk), 201)
        ok(_issue(client, kiosk, procedure_code=SAME_DAY), 201)
        plain_page, proc_page = (decode(data).page() for data in printer.wait_for_jobs(2))
    plain, chosen = (ticket_lines(slip) for slip in slips)
    assert plain["procedure"] == "" and plain["documents"] == ""
    assert chosen["procedure"] == f"Thủ tục: {BIRTH}"
    assert chosen["documents"].split("\n") == [
        "Giấy tờ cần chuẩn bị:", "1. Tờ khai đăng ký khai sinh", "2. Giấy chứng sinh",
        "3. Giấy tờ tùy thân của người đi đăng ký"]
    assert plain_page is not None and proc_page is not None
    assert proc_page.height > plain_page.height + 100  # the lines are on the paper


def test_the_unit_may_leave_the_documents_off_the_slip(app, client, frozen, monkeypatch):
    with in_db(app) as session:
        unit = session.query(Unit).one()
        unit.settings = {**(unit.settings or {}), "slip_documents": False}
    slips = _printed_slips(monkeypatch)
    with FakePrinter() as printer:
        kiosk, _ = add_printing_device(app, "kiosk", "Ki-ốt sảnh", printer.uri)
        ok(_issue(client, kiosk, procedure_code=SAME_DAY), 201)
        printer.wait_for_jobs(1)
    words = ticket_lines(slips[0])
    assert words["procedure"] == f"Thủ tục: {BIRTH}" and words["documents"] == ""
