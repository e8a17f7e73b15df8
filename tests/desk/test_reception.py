"""The reception desk over HTTP (issue 22 item 2): tickets issued on a citizen's behalf with a
note, a phone and a priority reason; printed on a printer the desk chooses; the reception
role's reach (no admin, manager or counter pages, no counter actions)."""

from __future__ import annotations

from sqlalchemy import select

from hardware.printing.fakeprinter import FakePrinter, decode
from onestop.queueing.models import Ticket
from onestop.tokens import ticket_url
from tests.api.helpers import act, assert_error, in_db, ok, ticket_row
from tests.backoffice.conftest import login
from tests.conftest import SECRET, bearer, token_for
from tests.desk.helpers import PASSWORD, add_user, events
from tests.hardware.conftest import read_qr
from tests.printing.conftest import add_printing_device, jobs


def _reception(app, client):
    add_user(app, "letan", "reception")
    return token_for(client, "letan", PASSWORD)


def test_reception_issues_with_note_phone_and_priority_reason(app, client):
    desk = _reception(app, client)
    res = client.post("/api/v1/tickets", headers=bearer(desk), json={
        "service_id": 1, "priority": "elderly", "priority_reason": "82 tuổi",
        "note": "Cụ nghe kém, nói to", "phone": "0912 345 678"})
    assert res.status_code == 201, res.get_json()
    ticket = res.get_json()
    assert (ticket["source"], ticket["priority"], ticket["note"]) == ("reception", "elderly",
                                                                      "Cụ nghe kém, nói to")
    with in_db(app) as session:
        assert session.get(Ticket, ticket["id"]).phone == "+84912345678"
    assert events(app, ticket["id"])[-1][0::3] == ("priority", {"priority": "elderly", "reason": "82 tuổi"})
    # the clerk who calls it sees the note
    clerk = token_for(client, "clerk1")
    ok(act(client, clerk, 1, "open"))
    called = ok(act(client, clerk, 1, "call-next"))
    assert (called["id"], called["note"]) == (ticket["id"], "Cụ nghe kém, nói to")
    assert_error(client.post("/api/v1/tickets", headers=bearer(desk),
                             json={"service_id": 1, "phone": "12345"}), 422, "invalid_phone")


def test_a_kiosk_cannot_write_a_note(app, client):
    kiosk, _ = add_printing_device(app, "kiosk", "Ki-ốt sảnh")
    assert_error(client.post("/api/v1/tickets", headers=bearer(kiosk),
                             json={"service_id": 1, "note": "xin gọi trước"}), 403, "forbidden")


def test_reception_prints_on_the_desk_printer_it_chose(app, client):
    desk = _reception(app, client)
    with FakePrinter() as printer:
        _token, printer_id = add_printing_device(app, "printer", "Máy in bàn đón tiếp", printer.uri)
        ticket = ok(client.post("/api/v1/tickets", headers=bearer(desk), json={"service_id": 1}), 201)
        assert ticket["print_state"] == "none"
        printed = ok(client.post(f"/api/v1/tickets/{ticket['id']}/print", headers=bearer(desk),
                                 json={"device_id": printer_id}))
        assert printed["print_state"] == "printed"
        page = decode(printer.wait_for_jobs(1)[0]).page()
    assert read_qr(page) == [ticket_url(app.config["PUBLIC_BASE_URL"], SECRET, ticket["id"])]
    assert [(j["device_id"], j["state"]) for j in jobs(app)] == [(printer_id, "printed")]
    # a display is no printer; nor is another unit's device or an unknown id
    _t, display_id = add_printing_device(app, "display", "Màn hình")
    for device_id in (display_id, 99999):
        assert_error(client.post(f"/api/v1/tickets/{ticket['id']}/print", headers=bearer(desk),
                                 json={"device_id": device_id}), 404, "printer_not_found")


def test_reception_reaches_the_desk_only(app, client):
    _reception(app, client)
    web = app.test_client()
    assert login(web, "letan", PASSWORD).status_code == 302
    assert web.get("/counter/reception").status_code == 200
    for page in ("/admin/", "/admin/users", "/admin/devices", "/manager/", "/counter/", "/counter/book"):
        assert web.get(page).status_code == 403, page
    token = token_for(client, "letan", PASSWORD)
    assert_error(act(client, token, 1, "open"), 403)
    assert_error(client.get("/api/v1/dashboard", headers=bearer(token)), 403)
    assert_error(client.post("/api/v1/dashboard/message", headers=bearer(token),
                             json={"text": "x"}), 403)
    # the ticket's page link and its QR, for the citizen's phone
    ticket = ok(client.post("/api/v1/tickets", headers=bearer(token), json={"service_id": 1}), 201)
    link = web.get(f"/counter/reception/link/{ticket['id']}").get_json()
    assert link["url"] == ticket_url(app.config["PUBLIC_BASE_URL"], SECRET, ticket["id"])
    assert web.get(link["qr"]).headers["X-Ticket-Url"] == link["url"]
    assert ticket_row(app, ticket["id"])["state"] == "waiting"
    with in_db(app) as session:
        assert session.scalar(select(Ticket.source).where(Ticket.id == ticket["id"])) == "reception"
