"""A kiosk's ticket is printed on its TCP printer: QR, commit-before-print, failure modes."""

from __future__ import annotations

import sqlite3
import time
from typing import Any

import pytest

from hardware.printing import PrintResult, PrintState
from hardware.printing.fakeprinter import FakePrinter, Mode, decode
from onestop.printing import dispatch
from onestop.tokens import ticket_url
from tests.conftest import SECRET, bearer, token_for
from tests.hardware.conftest import read_qr
from tests.printing.conftest import (
    add_printing_device,
    alarms,
    issue_at,
    jobs,
    refused_uri,
    staff_socket,
    ticket_of,
)


def test_kiosk_ticket_is_printed_with_its_public_qr(app, client, printer: FakePrinter):
    token, kiosk_id = add_printing_device(app, "kiosk", "Ki-ốt sảnh", printer.uri)
    body = issue_at(client, token)
    assert body["print_state"] == "printed" and body["print_error"] is None
    [data] = printer.wait_for_jobs(1)
    decoded = decode(data)
    assert decoded.initialized and len(decoded.cuts) == 1 and decoded.rasters
    page = decoded.page()
    assert page is not None and page.width == 576
    url = ticket_url(app.config["PUBLIC_BASE_URL"], SECRET, body["id"])
    assert f"/t/{body['id']}?k=" in url
    assert read_qr(page) == [url]
    [job] = jobs(app)
    assert (job["ticket_id"], job["device_id"], job["kind"], job["state"], job["attempts"]) == (
        body["id"], kiosk_id, "ticket", "printed", 1)
    assert job["payload"] is None and job["agent_device_id"] is None and job["printer_uri"] == printer.uri
    assert body["print_job_id"] == job["id"]
    assert ticket_of(app, body["id"]) == ("waiting", "printed")


def test_58mm_paper_from_the_device_settings(app, client, printer: FakePrinter):
    token, _ = add_printing_device(app, "kiosk", "Ki-ốt 58", printer.uri, paper_mm=58)
    body = issue_at(client, token)
    page = decode(printer.wait_for_jobs(1)[0]).page()
    assert page is not None and page.width == 384
    assert read_qr(page) == [ticket_url(app.config["PUBLIC_BASE_URL"], SECRET, body["id"])]


def test_kiosk_without_printer_and_staff_issue_print_nothing(app, client, printer: FakePrinter):
    token, _ = add_printing_device(app, "kiosk", "Ki-ốt không máy in")
    assert issue_at(client, token)["print_state"] == "none"
    assert issue_at(client, token_for(client, "clerk1"))["print_state"] == "none"
    assert jobs(app) == [] and printer.jobs() == []


def test_the_ticket_is_committed_and_the_database_free_while_printing(app, client, printer, monkeypatch):
    """While bytes go to the printer, another connection sees the ticket and can take the
    SQLite write lock at once: a print never holds the transaction."""
    token, _ = add_printing_device(app, "kiosk", "Ki-ốt", printer.uri)
    path = app.config["DATABASE_URL"].removeprefix("sqlite:///")
    seen: dict[str, Any] = {}
    real = dispatch.send_bounded

    def spy(driver: Any, data: bytes, deadline_s: float) -> Any:
        other = sqlite3.connect(path, timeout=0.2, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")  # fails with "database is locked" if anyone writes
            seen["tickets"] = other.execute("SELECT id, state FROM tickets").fetchall()
            other.execute("ROLLBACK")
        finally:
            other.close()
        return real(driver, data, deadline_s)

    monkeypatch.setattr(dispatch, "send_bounded", spy)
    body = issue_at(client, token)
    assert seen["tickets"] == [(body["id"], "waiting")]
    assert body["print_state"] == "printed"


FAILURES = [
    # mode, expected print_state, expected error code, alarm reason
    (Mode.PAPER_OUT, "failed", "printer_paper_out", "print_failed"),
    (Mode.COVER_OPEN, "failed", "printer_offline", "print_failed"),
    (Mode.SILENT, "sent", "printer_no_answer", "print_unconfirmed"),
    (Mode.HANG, None, None, None),  # takes the connection, reads nothing: sent or failed
    (Mode.DROP, "failed", "printer_unreachable", "print_failed"),
    (Mode.DROP_MID_JOB, "failed", "printer_unreachable", "print_failed"),
    ("refused", "failed", "printer_unreachable", "print_failed"),
]


@pytest.mark.parametrize("mode, state, error, reason", FAILURES, ids=[str(f[0]) for f in FAILURES])
def test_a_broken_printer_never_blocks_the_kiosk_nor_loses_the_ticket(app, client, printer: FakePrinter,
                                                                      mode, state, error, reason):
    uri = refused_uri() if mode == "refused" else printer.uri
    if mode != "refused":
        printer.mode = mode
    token, kiosk_id = add_printing_device(app, "kiosk", "Ki-ốt sảnh", uri)
    staff = staff_socket(app, "clerk1")
    start = time.monotonic()
    res = client.post("/api/v1/tickets", json={"service_id": 1}, headers=bearer(token))
    elapsed = time.monotonic() - start
    assert res.status_code == 201 and elapsed < 4.5, (res.status_code, elapsed)
    body = res.get_json()
    assert body["state"] == "waiting" and body["label"] == "A001"
    got = body["print_state"]
    assert got == state if state else got in ("sent", "failed")
    if got == "failed":
        assert body["print_error"]["code"] == (error or body["print_error"]["code"])
        assert body["print_error"]["message"]  # Vietnamese, for the kiosk screen
    else:
        assert body["print_error"] is None
    # the ticket is valid and waiting, a clerk can call it
    assert ticket_of(app, body["id"]) == ("waiting", got)
    [job] = jobs(app)
    assert job["state"] == got and job["error"] and job["device_id"] == kiosk_id
    if error:
        assert job["error"] == error
    [alarm] = alarms(staff)
    assert alarm["ticket"] == {"id": body["id"], "label": "A001"}
    assert (alarm["device"]["id"], alarm["error"], alarm["job_id"]) == (kiosk_id, job["error"], job["id"])
    if reason:
        assert alarm["reason"] == reason
    if error == "printer_unreachable":  # the status page says so too
        manager = token_for(client, "manager")
        rows = client.get("/api/v1/printers", headers=bearer(manager)).get_json()["devices"]
        assert {d["id"]: d["status"]["state"] for d in rows}[kiosk_id] == "offline"


def test_a_failed_print_shows_on_the_printers_api(app, client, printer: FakePrinter):
    printer.mode = Mode.PAPER_OUT
    token, kiosk_id = add_printing_device(app, "kiosk", "Ki-ốt sảnh", printer.uri)
    body = issue_at(client, token)
    data = client.get("/api/v1/printers", headers=bearer(token_for(client, "manager"))).get_json()
    kiosk = next(d for d in data["devices"] if d["id"] == kiosk_id)
    assert kiosk["status"]["state"] == "paper_out" and kiosk["status"]["label"] == "Hết giấy"
    [failed] = data["failed_jobs"]
    assert (failed["ticket_id"], failed["ticket_label"], failed["error"]) == (body["id"], "A001",
                                                                             "printer_paper_out")
    assert "hết giấy" in failed["message"]


def test_bounded_uri_caps_each_driver_step():
    assert dispatch.bounded_uri("tcp://10.0.0.5:9100", 3.0) == "tcp://10.0.0.5:9100?timeout=1&status_timeout=1"
    assert dispatch.bounded_uri("tcp://h?timeout=0.5&confirm=0", 3.0) == \
        "tcp://h?timeout=0.5&confirm=0&status_timeout=1"
    assert dispatch.bounded_uri("tcp://h?timeout=30", 6.0) == "tcp://h?timeout=2&status_timeout=2"


def test_send_bounded_stops_waiting_at_the_deadline():
    class Slow:
        uri = "slow://"

        def send(self, data: bytes) -> Any:
            time.sleep(1.0)
            return PrintResult(PrintState.PRINTED)  # too late: nobody waits for it

    start = time.monotonic()
    result = dispatch.send_bounded(Slow(), b"x", 0.2)  # type: ignore[arg-type]
    assert time.monotonic() - start < 0.6
    assert result.state.value == "sent" and "not confirmed" in result.detail
