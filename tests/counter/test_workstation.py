"""The clerk workstation page, its queue read endpoint and the one-tab lease."""

from __future__ import annotations

import json
import re
from typing import Any

from counter.lease import MemoryStore
from tests.api.helpers import act, assert_error, in_db, issue, ok
from tests.conftest import bearer, token_for
from tests.counter.conftest import receive, sign_in


def test_workstation_renders_for_a_clerk(client):
    sign_in(client, "clerk1")
    res = client.get("/counter/")
    assert res.status_code == 200
    page = res.get_data(as_text=True)
    for text in ("Gọi tiếp", "Gọi lại", "Vắng mặt", "Chuyển", "Tạm giữ", "Hoàn thành", "Tạm dừng",
                 "Tiếp nhận hồ sơ", "Đã tiếp nhận hồ sơ", "Hướng dẫn bổ sung", "Không thuộc thẩm quyền"):
        assert text in page, text
    for key in "NRVCGHPBT":
        assert f"<kbd>{key}</kbd>" in page
    texts = json.loads(re.search(r"data-texts='([^']*)'", page).group(1))  # type: ignore[union-attr]
    assert texts["outcomes"]["not_competent"] == "Không thuộc thẩm quyền"
    # CSP: no inline script and no inline handlers; every script is a file of ours
    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", page) == []
    assert not re.search(r"\son[a-z]+=", page)
    assert all(src.startswith("/") for src in re.findall(r'<script[^>]*src="([^"]+)"', page))
    assert client.get("/counter/static/counter/workstation.js").status_code == 200
    assert client.get("/counter/static/counter/intake.js").status_code == 200


def test_workstation_sends_anonymous_users_to_sign_in(client):
    res = client.get("/counter/")
    assert res.status_code == 302
    assert "/login?next=" in res.headers["Location"] and "counter" in res.headers["Location"]


def test_workstation_is_not_for_integration_accounts(app, client):
    from onestop.accounts import engine as accounts
    from tests.api.helpers import unit_of

    with in_db(app) as session:
        accounts.add_user(session, unit_of(session), "bridge", "integration-pass", "integration")
    page = client.get("/login").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    client.post("/login", data={"username": "bridge", "password": "integration-pass", "csrf_token": csrf})
    assert client.get("/counter/").status_code == 403


def test_queue_view_of_a_counter(client, frozen):
    clerk = token_for(client, "clerk1")
    assert_error(client.get("/api/v1/counters/1/queue"), 401)
    ok(act(client, clerk, 1, "open"))
    a1, a2, a3 = (issue(client, clerk, 1) for _ in range(3))
    a4 = issue(client, clerk, 1, priority="elderly")
    ok(act(client, clerk, 1, "call-next"))  # A004 (priority first)
    ok(act(client, clerk, 1, "skip"))
    ok(act(client, clerk, 1, "call-next"))  # A001
    ok(act(client, clerk, 1, "park", {"note": "Đi sao chụp giấy tờ"}))
    ok(act(client, clerk, 1, "call-next"))  # A002, served below
    receive(client, clerk, ticket_id=a2["id"])
    view = ok(client.get("/api/v1/counters/1/queue", headers=bearer(clerk)))
    assert view["counter"]["number"] == 1 and view["counter"]["clerk"]["full_name"] == "Trần Văn An"
    assert view["current"]["label"] == a2["label"] and view["current"]["state"] == "called"
    assert [d["code"] for d in view["current"]["dossiers"]] == ["H56.12.3-261123-0001"]
    assert view["fields"] == [{"service_id": 1, "name": "Tư pháp – Hộ tịch", "waiting": 1,
                               "tickets": [view["fields"][0]["tickets"][0]]}]
    assert view["fields"][0]["tickets"][0]["label"] == a3["label"]
    assert view["next_ticket_id"] == a3["id"]
    assert [t["label"] for t in view["missed"]] == [a4["label"]]
    assert [(t["label"], t["note"]) for t in view["parked"]] == [(a1["label"], "Đi sao chụp giấy tờ")]
    assert view["today"] == {"served": 0, "missed": 1, "avg_service_seconds": None}
    ok(act(client, clerk, 1, "finish", {"outcome": "dossier_received"}))
    today = ok(client.get("/api/v1/counters/1/queue", headers=bearer(clerk)))["today"]
    assert today == {"served": 1, "missed": 1, "avg_service_seconds": 0}  # the frozen clock


def test_queue_view_shows_tickets_sent_to_this_counter(client, frozen):
    one, two = token_for(client, "clerk1"), token_for(client, "clerk2")
    ok(act(client, one, 1, "open"))
    ticket = issue(client, one, 1)
    ok(act(client, one, 1, "call-next"))
    ok(act(client, one, 1, "transfer", {"counter_id": 2}))
    fields = ok(client.get("/api/v1/counters/2/queue", headers=bearer(two)))["fields"]
    assert fields[0]["service_id"] is None and fields[0]["name"] == "Chuyển đến quầy này"
    assert [t["id"] for t in fields[0]["tickets"]] == [ticket["id"]]
    assert_error(client.get("/api/v1/counters/99/queue", headers=bearer(two)), 404, "counter_not_found")


def _lease(client: Any, csrf: str, tab: str, **extra: Any) -> Any:
    res = client.post("/counter/lease", json={"counter_id": 1, "tab": tab, **extra},
                      headers={"X-CSRFToken": csrf, "Accept": "application/json"})
    assert res.status_code == 200, res.get_data(as_text=True)[:300]
    return res.get_json()["active"]


def test_one_tab_drives_a_counter(client):
    csrf = sign_in(client, "clerk1")
    tab_a, tab_b = "a" * 32, "b" * 32
    assert _lease(client, csrf, tab_a) is True
    assert _lease(client, csrf, tab_a) is True  # renewal
    assert _lease(client, csrf, tab_b) is False  # a second tab: read-only
    assert _lease(client, csrf, tab_b, take=True) is True  # "Làm việc tại cửa sổ này"
    assert _lease(client, csrf, tab_a) is False
    assert _lease(client, csrf, tab_b, release=True) is False  # closed tab frees the counter
    assert _lease(client, csrf, tab_a) is True


def test_lease_needs_csrf_and_a_sane_body(client):
    csrf = sign_in(client, "clerk1")
    res = client.post("/counter/lease", json={"counter_id": 1, "tab": "a" * 32},
                      headers={"Accept": "application/json"})
    assert res.status_code == 400
    bad = client.post("/counter/lease", json={"counter_id": "1", "tab": "<x>"},
                      headers={"X-CSRFToken": csrf, "Accept": "application/json"})
    assert bad.status_code == 400


def test_a_lapsed_lease_frees_the_counter():
    store = MemoryStore(ttl=0)
    assert store.claim("k", "tab-a", take=False)
    assert store.claim("k", "tab-b", take=False)  # tab-a stopped renewing
    store = MemoryStore(ttl=60)
    assert store.claim("k", "tab-a", take=False) and not store.claim("k", "tab-b", take=False)
