"""The link to the province's dossier system against a fake provincial server on a real port:
link mode over HTTP, pushes queued in the transaction of the change (retried after a 500 or
garbage, dead after N, never in the clerk's way), and the status the kiosk and /lookup show
(cached; "không kết nối được" within the time limit when the province is slow or down)."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

from onestop.db import utcnow
from onestop.integrations import status
from tests.api.helpers import act, assert_error, in_db, issue, ok
from tests.conftest import bearer, demo_app, token_for
from tests.dossiers.conftest import APPLICANT, APPLICANT_JSON, THREE_DAYS
from tests.integrations.conftest import TOKEN, closed_port_url, push_pass, pushes

PROVINCIAL = "000.00.14.H56-251203-0007"
NOT_CONNECTED = "Không kết nối được hệ thống của tỉnh"


def serving_ticket(client: Any, clerk: str) -> dict[str, Any]:
    ok(act(client, clerk, 1, "open"))
    issue(client, clerk)
    return ok(act(client, clerk, 1, "call-next"))


def receive_under(client: Any, clerk: str, ticket_id: int | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"procedure_code": THREE_DAYS, "applicant": dict(APPLICANT_JSON),
                            "documents": [{"name": "Tờ khai", "count": 1}]}
    if ticket_id is not None:
        body["ticket_id"] = ticket_id
    return ok(client.post("/api/v1/dossiers", json=body, headers=bearer(clerk)), 201)


def lookup_key(dossier: dict[str, Any]) -> str:
    return parse_qs(urlsplit(dossier["lookup_url"]).query)["k"][0]


def test_link_mode_stores_the_code_on_the_ticket_and_the_dossier_and_pushes_it(app, client, province):
    clerk = token_for(client, "clerk1")
    ticket = serving_ticket(client, clerk)
    url = f"/api/v1/tickets/{ticket['id']}/provincial-code"
    assert_error(client.post(url, json={"code": "<script>"}, headers=bearer(clerk)), 422,
                 "invalid_provincial_code")
    assert_error(client.post(url, json={"code": PROVINCIAL}), 401)
    assert_error(client.post(url, json={"code": PROVINCIAL}, headers=bearer(token_for(client, "clerk2"))),
                 403, "not_counter_clerk")
    linked = ok(client.post(url, json={"code": f"  {PROVINCIAL} "}, headers=bearer(clerk)))
    assert linked == {"ticket_id": ticket["id"], "provincial_code": PROVINCIAL, "dossiers": []}
    assert pushes(app) == []  # no dossier yet: nothing to push

    dossier = receive_under(client, clerk, ticket["id"])  # intake under the linked ticket
    with in_db(app) as session:
        from onestop.dossiers.models import Dossier
        from onestop.queueing.models import Ticket
        assert session.get(Ticket, ticket["id"]).provincial_code == PROVINCIAL
        row = session.query(Dossier).filter_by(code=dossier["code"]).one()
        assert row.provincial_code == PROVINCIAL
    [push] = pushes(app)
    assert push["state"] == "pending"
    body = push["payload"]
    assert (body["service"], body["isUpdating"]) == ("DongBoHoSoMC", "True")
    [record] = body["data"]
    assert record["MaHoSo"] == PROVINCIAL and record["SoBienNhan"] == dossier["code"]
    assert record["MaTTHC"] == THREE_DAYS and record["TrangThaiHoSo"] == "2"
    assert record["ChuHoSo"] == APPLICANT.name
    assert len(record["NgayTiepNhan"]) == 14 and len(record["NgayHenTra"]) == 14  # yyyyMMddHHmmss
    assert province.requests == []  # nothing was sent while the clerk worked

    result = push_pass(app)
    assert result.sent == 1
    assert province.requests == [body]
    assert province.headers[0]["Authorization"] == f"Bearer {TOKEN}"
    assert pushes(app)[0]["state"] == "sent"

    # no other dossier can take the same provincial code
    ok(act(client, clerk, 1, "finish", {"outcome": "done"}))
    issue(client, clerk)
    other = ok(act(client, clerk, 1, "call-next"))
    assert_error(client.post(f"/api/v1/tickets/{other['id']}/provincial-code", json={"code": PROVINCIAL},
                             headers=bearer(clerk)), 409, "provincial_code_taken")


def test_a_code_linked_after_intake_is_copied_to_the_dossier_and_its_timeline(app, client, province):
    clerk = token_for(client, "clerk1")
    ticket = serving_ticket(client, clerk)
    dossier = receive_under(client, clerk, ticket["id"])
    assert pushes(app) == []  # PROVINCE_PUSH=linked: an unlinked dossier is not pushed
    url = f"/api/v1/tickets/{ticket['id']}/provincial-code"
    linked = ok(client.post(url, json={"code": PROVINCIAL}, headers=bearer(clerk)))
    assert linked["dossiers"] == [dossier["code"]]
    [push] = pushes(app)
    assert push["payload"]["data"][0]["MaHoSo"] == PROVINCIAL
    timeline = ok(client.get(f"/api/v1/dossiers/{dossier['code']}", headers=bearer(clerk)))
    assert dossier["code"] in str(timeline)


def test_no_province_configured_hides_the_link(tmp_path):
    with demo_app(tmp_path) as plain:
        c = plain.test_client()
        clerk = token_for(c, "clerk1")
        ticket = serving_ticket(c, clerk)
        assert_error(c.post(f"/api/v1/tickets/{ticket['id']}/provincial-code", json={"code": PROVINCIAL},
                            headers=bearer(clerk)), 404, "province_link_disabled")
        dossier = receive_under(c, clerk, ticket["id"])
        ok(c.post(f"/api/v1/dossiers/{dossier['code']}/status", json={"state": "processing"},
                  headers=bearer(clerk)))
        assert pushes(plain) == []
        # a code that only the province would know is just an unknown code without a key
        assert_error(c.get(f"/api/v1/lookup?code={PROVINCIAL}"), 422, "lookup_key_required")


def test_pushes_are_retried_after_errors_and_garbage_and_dead_after_the_last_attempt(app, client, province):
    clerk = token_for(client, "clerk1")
    ticket = serving_ticket(client, clerk)
    ok(client.post(f"/api/v1/tickets/{ticket['id']}/provincial-code", json={"code": PROVINCIAL},
                   headers=bearer(clerk)))
    dossier = receive_under(client, clerk, ticket["id"])
    ok(client.post(f"/api/v1/dossiers/{dossier['code']}/status", json={"state": "processing"},
                   headers=bearer(clerk)))
    first, second = pushes(app)
    assert [p["payload"]["data"][0]["TrangThaiHoSo"] for p in (first, second)] == ["2", "4"]

    now = utcnow()
    province.mode = "error"
    result = push_pass(app, now)
    assert (result.sent, result.failed) == (0, 1)
    assert len(province.requests) == 1  # the newer state waits behind the older one
    row = pushes(app)[0]
    assert row["state"] == "pending" and row["attempts"] == 1 and row["last_error"].startswith("http_500")
    assert push_pass(app, now + dt.timedelta(seconds=5)).ids == []  # backoff: 10 s

    province.mode = "garbage"
    result = push_pass(app, now + dt.timedelta(seconds=11))
    assert result.failed == 1 and "bad_response" in pushes(app)[0]["last_error"]

    province.mode = "ok"
    result = push_pass(app, now + dt.timedelta(seconds=80))
    assert result.sent == 2  # the old state, then the new one, in order
    assert [r["data"][0]["TrangThaiHoSo"] for r in province.requests[-2:]] == ["2", "4"]

    ok(client.post(f"/api/v1/dossiers/{dossier['code']}/status", json={"state": "ready"},
                   headers=bearer(clerk)))
    province.mode = "refuse"  # error_code 1: the province did not take it
    later = now + dt.timedelta(minutes=5)
    for step in range(3):
        push_pass(app, later + dt.timedelta(minutes=2 * step))
    last = pushes(app)[-1]
    assert (last["state"], last["attempts"]) == ("dead", 3)
    assert "error_code" in last["last_error"]

    admin = token_for(client, "admin")
    listed = ok(client.get("/api/v1/integrations/province", headers=bearer(admin)))
    assert listed["counts"] == {"pending": 0, "sent": 2, "dead": 1}
    assert listed["pushes"][0]["state"] == "dead" and listed["pushes"][0]["status"] == "9"
    assert ok(client.post("/api/v1/integrations/province/retry", headers=bearer(admin))) == {"retried": 1}
    province.mode = "ok"
    assert push_pass(app).sent == 1


def test_the_clerk_never_waits_for_a_hanging_province(app, client, province):
    province.mode = "slow"
    province.delay = 5.0
    clerk = token_for(client, "clerk1")
    ticket = serving_ticket(client, clerk)
    t0 = time.monotonic()
    ok(client.post(f"/api/v1/tickets/{ticket['id']}/provincial-code", json={"code": PROVINCIAL},
                   headers=bearer(clerk)))
    dossier = receive_under(client, clerk, ticket["id"])
    ok(client.post(f"/api/v1/dossiers/{dossier['code']}/status", json={"state": "processing"},
                   headers=bearer(clerk)))
    assert time.monotonic() - t0 < 1.5
    assert province.requests == [] and len(pushes(app)) == 2
    # the loop's pass gives up after the time limit and leaves the rest for the next pass
    t0 = time.monotonic()
    result = push_pass(app)
    assert time.monotonic() - t0 < 3.0
    assert result.failed == 1 and len(province.requests) == 1
    assert pushes(app)[0]["last_error"] == "timeout"


def test_a_rolled_back_change_pushes_nothing(app, client, province):
    clerk = token_for(client, "clerk1")
    ticket = serving_ticket(client, clerk)
    ok(client.post(f"/api/v1/tickets/{ticket['id']}/provincial-code", json={"code": PROVINCIAL},
                   headers=bearer(clerk)))
    dossier = receive_under(client, clerk, ticket["id"])
    assert_error(client.post(f"/api/v1/dossiers/{dossier['code']}/status", json={"state": "returned"},
                             headers=bearer(clerk)), 409)
    assert len(pushes(app)) == 1


def test_lookup_shows_the_provinces_status_of_a_linked_and_a_provincial_only_code(app, client, province):
    clerk = token_for(client, "clerk1")
    ticket = serving_ticket(client, clerk)
    ok(client.post(f"/api/v1/tickets/{ticket['id']}/provincial-code", json={"code": PROVINCIAL},
                   headers=bearer(clerk)))
    dossier = receive_under(client, clerk, ticket["id"])
    province.dossiers[PROVINCIAL] = {"MaHoSo": PROVINCIAL, "TrangThaiHoSo": "4",
                                     "TenTTHC": "Đăng ký hộ kinh doanh",
                                     "NgayTiepNhan": "20261203080000", "NgayHenTra": "20261208170000"}
    view = ok(client.get(f"/api/v1/lookup?code={dossier['code']}&k={lookup_key(dossier)}"))
    assert view["source"] == "local" and view["state"] == "received"
    assert view["provincial"]["state_label"] == "Đang xử lý"
    assert view["provincial"]["appointment_date"] == "08/12/2026"
    page = client.get(f"/lookup/{dossier['code']}?k={lookup_key(dossier)}").get_data(as_text=True)
    assert "Đang xử lý" in page and PROVINCIAL in page

    # a code only the province knows: its status, nothing personal, no key needed
    province.dossiers["G22.39-241125-0012"] = {"MaHoSo": "G22.39-241125-0012", "TrangThaiHoSo": "9",
                                               "ChuHoSo": "Trần Thị Bình", "SoDienThoai": "0987654321"}
    only = ok(client.get("/api/v1/lookup?code=G22.39-241125-0012"))
    assert (only["source"], only["state"], only["state_label"]) == ("province", "ready", "Đã xử lý xong")
    assert only["applicant_name"] == "" and "Bình" not in str(only) and "0987654321" not in str(only)
    page = client.get("/lookup/?code=G22.39-241125-0012")
    assert page.status_code == 200 and "Đã xử lý xong" in page.get_data(as_text=True)
    assert "Bình" not in page.get_data(as_text=True)
    assert_error(client.get("/api/v1/lookup?code=G22.39-999999-0001"), 404, "dossier_not_found")
    # our own codes still need the QR key or the phone digits
    assert_error(client.get(f"/api/v1/lookup?code={dossier['code']}"), 422, "lookup_key_required")
    english = ok(client.get("/api/v1/lookup?code=G22.39-241125-0012&lang=en"))
    assert english["state_label"] != "Đã xử lý xong"


def test_lookup_says_not_connected_within_the_time_limit_and_caches_it(app, client, province):
    for mode in ("slow", "error", "garbage", "down"):
        status.clear_cache()
        if mode == "down":
            app.config["PROVINCE_URL"] = closed_port_url()
        else:
            province.mode = mode
        t0 = time.monotonic()
        answer = ok(client.get("/api/v1/lookup?code=G22.39-241125-0012"))
        took = time.monotonic() - t0
        assert took < 2.5, (mode, took)
        assert answer["state"] == "unknown" and answer["state_label"] == NOT_CONNECTED, mode
        assert answer["provincial"]["reachable"] is False
        t0 = time.monotonic()
        ok(client.get("/api/v1/lookup?code=G22.39-241125-0012"))
        assert time.monotonic() - t0 < 0.5, mode  # the "no answer" is kept for a few seconds
    page = client.get("/lookup/?code=G22.39-241125-0012").get_data(as_text=True)
    assert NOT_CONNECTED in page


def test_cli_push_sends_what_is_due(app, client, province, monkeypatch):
    from click.testing import CliRunner

    from onestop.cli import main

    clerk = token_for(client, "clerk1")
    ticket = serving_ticket(client, clerk)
    ok(client.post(f"/api/v1/tickets/{ticket['id']}/provincial-code", json={"code": PROVINCIAL},
                   headers=bearer(clerk)))
    receive_under(client, clerk, ticket["id"])
    monkeypatch.setenv("ONESTOP_DATABASE_URL", app.config["DATABASE_URL"])
    monkeypatch.setenv("ONESTOP_PROVINCE_URL", province.url)
    result = CliRunner().invoke(main, ["integrations", "push"])
    assert result.exit_code == 0, result.output
    assert "sent 1" in result.output and len(province.requests) == 1
    monkeypatch.setenv("ONESTOP_PROVINCE_URL", "")
    assert CliRunner().invoke(main, ["integrations", "push"]).exit_code != 0
