"""Reprint, test slips, GET /printers, the on-demand status check and /admin/printers."""

from __future__ import annotations

import datetime as dt
import re
import time

from hardware.printing.fakeprinter import FakePrinter, Mode, decode
from onestop.queueing.models import Ticket
from onestop.tokens import ticket_url
from tests.api.helpers import assert_error, ok, update_row
from tests.api.test_errors import login_with_form
from tests.conftest import SECRET, bearer, token_for
from tests.hardware.conftest import read_qr
from tests.printing.conftest import add_printing_device, alarms, issue_at, jobs, staff_socket, ticket_of


def reprint(client, token, ticket_id, **body):
    return client.post(f"/api/v1/tickets/{ticket_id}/reprint", json=body, headers=bearer(token))


def test_staff_reprint_on_the_issuing_kiosk(app, client, printer: FakePrinter):
    printer.mode = Mode.PAPER_OUT
    kiosk, kiosk_id = add_printing_device(app, "kiosk", "Ki-ốt sảnh", printer.uri)
    ticket = issue_at(client, kiosk)
    assert ticket["print_state"] == "failed"
    printer.mode = Mode.NORMAL  # paper loaded
    printer.clear()
    clerk = token_for(client, "clerk1")
    body = ok(reprint(client, clerk, ticket["id"]))
    assert body["id"] == ticket["id"] and body["print_state"] == "printed" and body["print_error"] is None
    page = decode(printer.wait_for_jobs(1)[0]).page()
    assert page is not None
    assert read_qr(page) == [ticket_url(app.config["PUBLIC_BASE_URL"], SECRET, ticket["id"])]
    first, again = jobs(app, ticket["id"])
    assert (first["kind"], first["state"]) == ("ticket", "failed")
    assert (again["kind"], again["state"], again["device_id"]) == ("reprint", "printed", kiosk_id)
    assert again["requested_by_user_id"] is not None
    assert ticket_of(app, ticket["id"]) == ("waiting", "printed")


def test_reprint_at_a_counter_device(app, client, printer: FakePrinter, printer2: FakePrinter):
    kiosk, _ = add_printing_device(app, "kiosk", "Ki-ốt sảnh", printer.uri)
    _, led_id = add_printing_device(app, "counter-display", "Quầy 3", printer2.uri, counter_number=3)
    ticket = issue_at(client, kiosk)
    manager = token_for(client, "manager")
    body = ok(reprint(client, manager, ticket["id"], counter_id=3))
    assert body["print_state"] == "printed"
    assert len(printer2.wait_for_jobs(1)) == 1 and len(printer.jobs()) == 1
    assert jobs(app, ticket["id"])[-1]["device_id"] == led_id
    assert_error(reprint(client, manager, ticket["id"], counter_id=4), 409, "no_printer")
    assert_error(reprint(client, manager, ticket["id"], counter_id=999), 404, "counter_not_found")


def test_the_issuing_kiosk_may_reprint_within_a_minute(app, client, printer: FakePrinter):
    kiosk, _ = add_printing_device(app, "kiosk", "Ki-ốt sảnh", printer.uri)
    other, _ = add_printing_device(app, "kiosk", "Ki-ốt 2", printer.uri)
    ticket = issue_at(client, kiosk)
    assert ok(reprint(client, kiosk, ticket["id"]))["print_state"] == "printed"
    assert_error(reprint(client, other, ticket["id"]), 403, "forbidden")
    assert_error(reprint(client, kiosk, ticket["id"], counter_id=1), 403, "forbidden")
    ok(reprint(client, kiosk, ticket["id"]))
    assert_error(reprint(client, kiosk, ticket["id"]), 403, "reprint_not_allowed")  # twice is enough
    late = issue_at(client, kiosk)
    update_row(app, Ticket, late["id"], issued_at=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=2))
    assert_error(reprint(client, kiosk, late["id"]), 403, "reprint_not_allowed")
    assert_error(client.post(f"/api/v1/tickets/{late['id']}/reprint", json={}), 401, "unauthorized")
    assert len(printer.wait_for_jobs(4)) == 4


def test_reprint_refusals(app, client, printer: FakePrinter):
    clerk = token_for(client, "clerk1")
    staff_ticket = issue_at(client, clerk)
    assert_error(reprint(client, clerk, staff_ticket["id"]), 409, "no_printer")
    assert_error(reprint(client, clerk, 987654), 404, "ticket_not_found")
    kiosk, _ = add_printing_device(app, "kiosk", "Ki-ốt sảnh", printer.uri)
    ticket = issue_at(client, kiosk, service_id=1)
    update_row(app, Ticket, ticket["id"], state="done")
    assert_error(reprint(client, clerk, ticket["id"]), 409, "invalid_state")
    assert_error(client.post(f"/api/v1/tickets/{ticket['id']}/reprint", json={"x": 1},
                             headers=bearer(token_for(client, "manager"))), 422)


def test_test_slip_on_a_kiosk_printer(app, client, printer: FakePrinter):
    _, kiosk_id = add_printing_device(app, "kiosk", "Ki-ốt sảnh", printer.uri)
    manager = token_for(client, "manager")
    body = ok(client.post(f"/api/v1/printers/{kiosk_id}/test", headers=bearer(manager)))
    assert body["print_state"] == "printed" and body["device_id"] == kiosk_id
    page = decode(printer.wait_for_jobs(1)[0]).page()
    assert page is not None and read_qr(page) == [app.config["PUBLIC_BASE_URL"]]
    [job] = jobs(app)
    assert (job["kind"], job["ticket_id"], job["state"]) == ("test", None, "printed")
    clerk = token_for(client, "clerk1")
    assert_error(client.post(f"/api/v1/printers/{kiosk_id}/test", headers=bearer(clerk)), 403, "forbidden")
    assert_error(client.post("/api/v1/printers/99999/test", headers=bearer(manager)), 404, "device_not_found")


def test_printers_api_needs_admin_or_manager(app, client):
    assert_error(client.get("/api/v1/printers"), 401)
    assert_error(client.get("/api/v1/printers", headers=bearer(token_for(client, "clerk1"))), 403)
    assert_error(client.post("/api/v1/printers/check", headers=bearer(token_for(client, "clerk1"))), 403)
    ok(client.get("/api/v1/printers", headers=bearer(token_for(client, "admin"))))


def test_check_polls_direct_printers_and_raises_alarms(app, client, printer: FakePrinter,
                                                      printer2: FakePrinter):
    printer.mode = Mode.PAPER_OUT
    printer2.mode = Mode.SILENT
    _, out_id = add_printing_device(app, "kiosk", "Ki-ốt A", printer.uri)
    _, silent_id = add_printing_device(app, "kiosk", "Ki-ốt B", printer2.uri)
    _, bare_id = add_printing_device(app, "kiosk", "Ki-ốt C")
    staff = staff_socket(app)
    manager = token_for(client, "manager")
    before = {d["id"]: d["status"]["state"] for d in
              ok(client.get("/api/v1/printers", headers=bearer(manager)))["devices"]}
    assert before[out_id] == before[silent_id] == before[bare_id] == "unknown"
    start = time.monotonic()
    data = ok(client.post("/api/v1/printers/check", headers=bearer(manager)))
    assert time.monotonic() - start < 3.5  # both printers asked at once, 2 s timeout
    assert data["checked"] == 2
    status = {d["id"]: d["status"] for d in data["devices"]}
    assert (status[out_id]["state"], status[out_id]["label"]) == ("paper_out", "Hết giấy")
    assert (status[silent_id]["state"], status[silent_id]["label"]) == ("unknown", "Không rõ")
    assert status[bare_id]["state"] == "unknown"
    [alarm] = alarms(staff)
    assert (alarm["reason"], alarm["device"]["id"], alarm["ticket"]) == ("paper_out", out_id, None)
    printer2.mode = Mode.NORMAL
    data = ok(client.post("/api/v1/printers/check", headers=bearer(manager)))
    assert {d["id"]: d["status"]["label"] for d in data["devices"]}[silent_id] == "Đang hoạt động"
    assert alarms(staff) == []  # still out of paper: no new alarm
    printer.mode = Mode.PAPER_NEAR_END
    data = ok(client.post("/api/v1/printers/check", headers=bearer(manager)))
    assert {d["id"]: d["status"]["label"] for d in data["devices"]}[out_id] == "Sắp hết giấy"
    assert [a["reason"] for a in alarms(staff)] == ["paper_near_end"]


def test_admin_page_in_vietnamese_without_inline_script(app, client, printer: FakePrinter):
    printer.mode = Mode.PAPER_OUT
    kiosk, _ = add_printing_device(app, "kiosk", "Ki-ốt sảnh", printer.uri)
    issue_at(client, kiosk)
    login_with_form(client, "admin")
    res = client.get("/admin/printers")
    html = res.get_data(as_text=True)
    assert res.status_code == 200, html[:300]
    for text in ("Máy in phiếu", "Ki-ốt sảnh", "Hết giấy", "In lại", "Kiểm tra máy in ngay", "A001",
                 'name="csrf-token"'):
        assert text in html, text
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", html, re.S)
    assert scripts and all("src=" in attrs and not body.strip() for attrs, body in scripts)
    assert " on" + "click=" not in html
    assert client.get("/admin/static/printers.js").status_code == 200


def test_admin_page_refuses_clerks_and_strangers(app, client):
    res = app.test_client().get("/admin/printers")
    assert res.status_code == 302 and "/login" in res.headers["Location"]
    login_with_form(client, "clerk1")
    assert client.get("/admin/printers").status_code == 403


def test_admin_page_reprint_with_the_csrf_header(app, client, printer: FakePrinter):
    printer.mode = Mode.PAPER_OUT
    kiosk, _ = add_printing_device(app, "kiosk", "Ki-ốt sảnh", printer.uri)
    ticket = issue_at(client, kiosk)
    printer.mode = Mode.NORMAL
    login_with_form(client, "manager")
    html = client.get("/admin/printers").get_data(as_text=True)
    csrf = re.search(r'name="csrf-token" content="([^"]+)"', html).group(1)
    assert f'data-ticket="{ticket["id"]}"' in html
    url = f"/api/v1/tickets/{ticket['id']}/reprint"
    assert client.post(url, json={}).status_code == 400  # cookie auth without the CSRF header
    res = client.post(url, json={}, headers={"X-CSRFToken": csrf})
    assert res.status_code == 200 and res.get_json()["print_state"] == "printed"
