"""The /display blueprint (pages, config, announcement audio) and what /display receives."""

from __future__ import annotations

from typing import Any

import pytest

from hardware.voice import spoken_sentence
from onestop.accounts.models import Device
from onestop.extensions import socketio
from tests.api.helpers import add_device, in_db, unit_of
from tests.conftest import bearer, token_for


def api(app: Any) -> tuple[Any, dict[str, str]]:
    """A cookie-less client with the admin's bearer token (acts for any counter)."""
    client = app.test_client()
    return client, bearer(token_for(client, "admin"))


def call(app: Any, counter: int, service: int = 1, open_first: bool = True) -> dict[str, Any]:
    client, auth = api(app)
    assert client.post("/api/v1/tickets", json={"service_id": service}, headers=auth).status_code == 201
    if open_first:
        client.post(f"/api/v1/counters/{counter}/open", headers=auth)
    res = client.post(f"/api/v1/counters/{counter}/call-next", headers=auth)
    assert res.status_code == 200, res.get_json()
    return dict(res.get_json())


def set_unit(app: Any, **settings: Any) -> None:
    with in_db(app) as session:
        unit = unit_of(session)
        unit.settings = {**(unit.settings or {}), **settings}


def test_pages_render(client: Any) -> None:
    hall = client.get("/display/")
    assert hall.status_code == 200
    html = hall.get_data(as_text=True)
    assert "<script>" not in html and "onclick" not in html  # CSP-ready: scripts are files
    assert "Số vừa gọi" in html and "Số người đang chờ" in html
    counter = client.get("/display/counter/3")
    assert counter.status_code == 200 and 'data-counter-number="3"' in counter.get_data(as_text=True)
    assert client.get("/display/counter/99").status_code == 404
    assert client.get("/display/counter/").status_code == 404
    pair = client.get("/display/pair?code=ABC123").get_data(as_text=True)
    assert 'data-code="ABC123"' in pair and "<script>" not in pair


def test_config_merges_unit_device_and_query(app: Any, client: Any) -> None:
    set_unit(app, display_notice="Nghỉ lễ 2/9", announcement_voice="browser")
    cfg = client.get("/display/config.json?zone=A").get_json()
    assert cfg["notice"] == "Nghỉ lễ 2/9" and cfg["zones"] == ["A"]
    assert cfg["voice"] == "browser" and cfg["chain"] == ["browser", "chime"]
    assert cfg["unit"]["timezone"] == "Asia/Ho_Chi_Minh" and cfg["now"].endswith("Z")
    token = add_device(app, "display", "Màn hình sảnh")
    with in_db(app) as session:
        device = session.query(Device).filter_by(name="Màn hình sảnh").one()
        device.settings = {"zones": ["B"], "voice": "chime"}
    paired = app.test_client()
    paired.set_cookie("onestop_device", token)
    cfg = paired.get("/display/config.json?zone=A").get_json()
    assert cfg["zones"] == ["B"] and cfg["voice"] == "chime" and cfg["device"]["kind"] == "display"
    assert paired.get("/display/config.json?voice=espeak").get_json()["voice"] == "espeak"


def test_counter_display_device_goes_to_its_counter(app: Any) -> None:
    token = add_device(app, "counter-display", "LED quầy 2", counter_number=2)
    paired = app.test_client()
    paired.set_cookie("onestop_device", token)
    res = paired.get("/display/counter/")
    assert res.status_code == 302 and res.headers["Location"].endswith("/display/counter/2")


def test_announcement_and_audio(app: Any, client: Any, espeak: str) -> None:
    ticket = call(app, 1)
    info = client.get(f"/display/announcement.json?ticket={ticket['id']}&counter=1").get_json()
    assert info["text"] == spoken_sentence(ticket["label"], 1)
    assert info["display_text"] == f"Xin mời công dân có số thứ tự {ticket['label']} đến quầy số 1"
    assert info["server_voice"] == "espeak" and info["repeat"] == 2
    wav = client.get(info["audio_url"])
    assert wav.status_code == 200 and wav.mimetype == "audio/wav" and wav.data[:4] == b"RIFF"
    shorter = client.get(info["audio_url"].replace("repeat=2", "repeat=1"))
    assert len(shorter.data) < len(wav.data)
    browser = client.get(f"/display/announcement.json?ticket={ticket['id']}&counter=1&voice=browser")
    assert browser.get_json()["audio_url"] is None
    chime = client.get("/display/chime.wav")
    assert chime.status_code == 200 and chime.data[:4] == b"RIFF"


@pytest.mark.parametrize("query", ["ticket=1", "ticket=x&counter=1", "ticket=999&counter=1",
                                   "ticket=1&counter=999"])
def test_announcement_rejects_bad_ids(client: Any, query: str) -> None:
    res = client.get(f"/display/announcement.json?{query}", headers={"Accept": "application/json"})
    assert res.status_code in (400, 404) and "error" in res.get_json()


def test_unit_settings_shape_the_sentence(app: Any, client: Any) -> None:
    set_unit(app, announcement_template="Mời số {số} tới quầy {quầy}", announcement_read_prefix=False,
             announcement_repeat=1)
    ticket = call(app, 1)
    info = client.get(f"/display/announcement.json?ticket={ticket['id']}&counter=1").get_json()
    assert info["text"] == "Mời số một tới quầy một" and info["repeat"] == 1


def received(client: Any, name: str) -> list[dict[str, Any]]:
    return [p["args"][0] for p in client.get_received("/display") if p["name"] == name]


def ok(res: Any) -> bool:
    return bool(res.status_code == 200)


def test_display_learns_when_a_counter_frees_up(app: Any) -> None:
    client, auth = api(app)
    assert ok(client.post("/api/v1/counters/1/open", headers=auth))
    assert ok(client.post("/api/v1/counters/5/open", headers=auth))
    hall = socketio.test_client(app, namespace="/display")
    zone_b = socketio.test_client(app, namespace="/display", auth={"zone": "B"})
    hall.get_received("/display")
    zone_b.get_received("/display")
    call(app, 1, open_first=False)
    assert received(hall, "counter.changed") == []  # the call itself says it: no idle flash
    call(app, 1, open_first=False)  # call-next finishes the first ticket: still no counter.changed
    events = [p["name"] for p in hall.get_received("/display")]
    assert events.count("ticket.called") == 1 and "counter.changed" not in events
    assert ok(client.post("/api/v1/counters/1/finish", json={"outcome": "served"}, headers=auth))
    changed = received(hall, "counter.changed")
    assert len(changed) == 1 and changed[0]["counter"]["serving"] is None
    assert changed[0]["counter"]["state"] == "open" and changed[0]["counter"]["zone"] == "A"
    assert ok(client.post("/api/v1/counters/1/pause", json={"reason": "Họp"}, headers=auth))
    paused = received(hall, "counter.changed")[0]["counter"]
    assert paused["state"] == "paused" and paused["pause_reason"] == "Họp"
    assert zone_b.get_received("/display") == []  # counter 1 and field A are zone A
    call(app, 5, service=4, open_first=False)  # Kinh tế – Hạ tầng: zone B
    assert ok(client.post("/api/v1/counters/5/skip", headers=auth))
    events = [p["name"] for p in zone_b.get_received("/display")]
    assert {"ticket.called", "queue.changed", "counter.changed"} <= set(events)
    assert events[-1] == "counter.changed"  # the skip freed counter 5
    hall.disconnect(namespace="/display")
    zone_b.disconnect(namespace="/display")


def test_counter_changed_carries_the_ticket_being_served(app: Any) -> None:
    ticket = call(app, 2)
    hall = socketio.test_client(app, namespace="/display")
    hall.get_received("/display")
    client, auth = api(app)
    assert ok(client.post("/api/v1/counters/2/pause", json={"reason": "x"}, headers=auth))
    serving = received(hall, "counter.changed")[0]["counter"]["serving"]
    assert serving["label"] == ticket["label"] and serving["service"] == "Tư pháp – Hộ tịch"
    hall.disconnect(namespace="/display")
