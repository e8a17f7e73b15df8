"""/agent in process: authentication, delivery on connect, compare-and-set acks, expiry,
status reports, routing of kiosks to agents."""

from __future__ import annotations

import base64
import datetime as dt
from typing import Any

import pytest

from hardware.printing.fakeprinter import decode
from onestop.extensions import socketio
from onestop.printing.models import PrintJob
from onestop.realtime import events as ev
from onestop.tokens import ticket_url
from tests.api.helpers import update_row
from tests.conftest import SECRET, bearer, token_for
from tests.hardware.conftest import read_qr
from tests.printing.conftest import add_printing_device, alarms, issue_at, jobs, staff_socket, ticket_of


def agent_socket(app: Any, token: str | None) -> Any:
    auth = {"token": token} if token else None
    return socketio.test_client(app, namespace=ev.AGENT_NS, flask_test_client=app.test_client(), auth=auth)


def printed_jobs(sio: Any) -> list[dict[str, Any]]:
    return [e["args"][0] for e in sio.get_received(ev.AGENT_NS) if e["name"] == ev.JOB_PRINT]


def ack(sio: Any, job_id: int, state: str = "printed", **extra: Any) -> Any:
    return sio.emit(ev.JOB_ACK, {"job_id": job_id, "state": state, **extra}, namespace=ev.AGENT_NS,
                    callback=True)


@pytest.fixture
def agent(app: Any) -> tuple[str, int]:
    return add_printing_device(app, "agent", "Máy in ki-ốt sảnh")


@pytest.fixture
def kiosk(app: Any, agent: tuple[str, int]) -> tuple[str, int]:
    return add_printing_device(app, "kiosk", "Ki-ốt sảnh", "agent")


def test_only_agent_tokens_connect(app, kiosk):
    assert not agent_socket(app, None).is_connected(ev.AGENT_NS)
    assert not agent_socket(app, "osd_bogus").is_connected(ev.AGENT_NS)
    assert not agent_socket(app, kiosk[0]).is_connected(ev.AGENT_NS)


def test_a_job_goes_to_the_connected_agent(app, client, agent, kiosk):
    sio = agent_socket(app, agent[0])
    assert sio.is_connected(ev.AGENT_NS) and printed_jobs(sio) == []
    ticket = issue_at(client, kiosk[0])
    assert ticket["print_state"] == "queued_for_agent" and ticket["print_error"] is None
    [message] = printed_jobs(sio)
    assert (message["ticket_id"], message["label"], message["kind"]) == (ticket["id"], "A001", "ticket")
    assert 0 < message["expires_in"] <= 120
    page = decode(base64.b64decode(message["data"])).page()
    assert page is not None
    assert read_qr(page) == [ticket_url(app.config["PUBLIC_BASE_URL"], SECRET, ticket["id"])]
    [job] = jobs(app)
    assert (job["state"], job["agent_device_id"], job["device_id"], job["printer_uri"]) == (
        "pending", agent[1], kiosk[1], f"agent://{agent[1]}")
    assert job["payload"] and ticket_of(app, ticket["id"]) == ("waiting", "queued_for_agent")
    assert ack(sio, message["job_id"]) == {"recorded": True}
    assert ack(sio, message["job_id"]) == {"recorded": False}  # done exactly once
    assert ack(sio, message["job_id"], "failed", error="printer_paper_out") == {"recorded": False}
    [job] = jobs(app)
    assert job["state"] == "printed" and job["payload"] is None and job["done_at"] is not None
    assert ticket_of(app, ticket["id"]) == ("waiting", "printed")


def test_waiting_jobs_are_sent_on_connect_and_again_until_acked(app, client, agent, kiosk):
    staff = staff_socket(app)
    first, second = issue_at(client, kiosk[0]), issue_at(client, kiosk[0])
    # the agent has never connected: staff hear it once per queued job
    assert [a["reason"] for a in alarms(staff)] == ["agent_offline", "agent_offline"]
    sio = agent_socket(app, agent[0])
    messages = printed_jobs(sio)
    assert [m["ticket_id"] for m in messages] == [first["id"], second["id"]]
    assert ack(sio, messages[0]["job_id"]) == {"recorded": True}
    sio.disconnect(ev.AGENT_NS)
    assert [a["reason"] for a in alarms(staff)] == ["agent_offline"]
    again = agent_socket(app, agent[0])
    assert [m["ticket_id"] for m in printed_jobs(again)] == [second["id"]]  # the unacked one only
    assert [j["attempts"] for j in jobs(app)] == [1, 2]


def test_an_expired_job_is_never_delivered(app, client, agent, kiosk):
    ticket = issue_at(client, kiosk[0])
    [job] = jobs(app)
    update_row(app, PrintJob, job["id"], expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1))
    staff = staff_socket(app)
    sio = agent_socket(app, agent[0])
    assert printed_jobs(sio) == []
    [job] = jobs(app)
    assert (job["state"], job["error"], job["payload"]) == ("expired", "print_expired", None)
    assert ticket_of(app, ticket["id"]) == ("waiting", "failed")
    [alarm] = alarms(staff)
    assert (alarm["reason"], alarm["ticket"]["id"]) == ("job_expired", ticket["id"])
    assert ack(sio, job["id"], "failed") == {"recorded": False}  # too late for a failure ...
    assert ack(sio, job["id"], "printed") == {"recorded": True}  # ... but a real print is the truth
    assert ticket_of(app, ticket["id"]) == ("waiting", "printed")


def test_a_failed_ack_alarms_staff(app, client, agent, kiosk):
    sio = agent_socket(app, agent[0])
    ticket = issue_at(client, kiosk[0])
    staff = staff_socket(app)
    [message] = printed_jobs(sio)
    assert ack(sio, message["job_id"], "failed", error="printer_paper_out", detail="paper out") == {
        "recorded": True}
    [alarm] = alarms(staff)
    assert (alarm["reason"], alarm["error"], alarm["device"]["id"]) == (
        "print_failed", "printer_paper_out", kiosk[1])
    assert ticket_of(app, ticket["id"]) == ("waiting", "failed")


def test_an_agent_cannot_ack_another_agents_job(app, client, agent, kiosk):
    other, _ = add_printing_device(app, "agent", "Máy in khác")
    pinned, _ = add_printing_device(app, "kiosk", "Ki-ốt 2", f"agent://{agent[1]}")
    sio = agent_socket(app, agent[0])
    issue_at(client, pinned)
    [message] = printed_jobs(sio)
    intruder = agent_socket(app, other)
    assert printed_jobs(intruder) == []
    assert ack(intruder, message["job_id"]) == {"recorded": False}
    assert ack(intruder, message["job_id"], "bogus") == {"recorded": False, "error": "bad_request"}
    assert jobs(app)[0]["state"] == "pending"


def test_status_reports_are_stored_and_alarm_once(app, client, agent, kiosk):
    staff = staff_socket(app)
    sio = agent_socket(app, agent[0])
    manager = token_for(client, "manager")

    def report(state: str) -> Any:
        return sio.emit(ev.AGENT_STATUS, {"state": state, "detail": state}, namespace=ev.AGENT_NS,
                        callback=True)

    assert report("paper_out") == {"ok": True}
    assert report("paper_out") == {"ok": True}
    assert report("nonsense") == {"ok": False, "error": "bad_request"}
    assert [a["reason"] for a in alarms(staff)] == ["paper_out"]
    data = client.get("/api/v1/printers", headers=bearer(manager)).get_json()
    rows = {d["id"]: d for d in data["devices"]}
    assert rows[agent[1]]["status"]["state"] == "paper_out" and rows[agent[1]]["status"]["agent_connected"]
    assert rows[kiosk[1]]["agent_id"] == agent[1] and rows[kiosk[1]]["status"]["label"] == "Hết giấy"
    assert report("online") == {"ok": True}
    sio.disconnect(ev.AGENT_NS)
    data = client.get("/api/v1/printers", headers=bearer(manager)).get_json()
    rows = {d["id"]: d for d in data["devices"]}
    assert rows[kiosk[1]]["status"]["label"] == "Mất kết nối"
    assert rows[agent[1]]["status"]["agent_connected"] is False


def test_a_revoked_agent_is_cut_off(app, client, agent, kiosk):
    from onestop.accounts.models import Device

    sio = agent_socket(app, agent[0])
    issue_at(client, kiosk[0])
    [message] = printed_jobs(sio)
    update_row(app, Device, agent[1], revoked_at=dt.datetime.now(dt.UTC))
    assert ack(sio, message["job_id"]) == {"recorded": False, "error": "unauthorized"}
    assert jobs(app)[0]["state"] == "pending"


@pytest.mark.parametrize("agents, uri, error", [
    (0, "agent", "agent_missing"),
    (2, "agent", "agent_ambiguous"),
    (1, "agent://9999", "agent_missing"),
])
def test_kiosk_to_agent_routing_errors(app, client, agents, uri, error):
    for i in range(agents):
        add_printing_device(app, "agent", f"Agent {i}")
    token, _ = add_printing_device(app, "kiosk", "Ki-ốt", uri)
    staff = staff_socket(app)
    body = issue_at(client, token)
    assert body["print_state"] == "failed" and body["print_error"]["code"] == error
    assert ticket_of(app, body["id"]) == ("waiting", "failed")
    [alarm] = alarms(staff)
    assert alarm["error"] == error


def test_explicit_agent_id_with_several_agents(app, client):
    add_printing_device(app, "agent", "Agent 1")
    token2, agent2 = add_printing_device(app, "agent", "Agent 2")
    kiosk, _ = add_printing_device(app, "kiosk", "Ki-ốt", f"agent://{agent2}")
    sio = agent_socket(app, token2)
    assert issue_at(client, kiosk)["print_state"] == "queued_for_agent"
    assert len(printed_jobs(sio)) == 1


def test_test_slip_through_an_agent(app, client, agent):
    sio = agent_socket(app, agent[0])
    res = client.post(f"/api/v1/printers/{agent[1]}/test", headers=bearer(token_for(client, "admin")))
    assert res.status_code == 200 and res.get_json()["print_state"] == "queued_for_agent"
    [message] = printed_jobs(sio)
    assert message["kind"] == "test" and message["ticket_id"] is None
