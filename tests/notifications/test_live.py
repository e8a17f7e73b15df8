"""Against a real server (``onestop demo`` in a subprocess, its own sending loop) with the fake
SMS gateway, a ZNS address that refuses TCP, in Debian's Chromium:

- a citizen takes a number at a paired kiosk (1080x1920), types a phone on the on-screen
  keypad, and receives "còn 3 người" then "mời đến quầy số 1" from the server's own loop;
- the ticket page /t/ on a phone (390x844) has the same form;
- a gateway that hangs 30 s, answers 500 or garbage, or refuses TCP never delays a call,
  an issue or a page.

Screenshots: /tmp/notify_kiosk_keypad.png, /tmp/notify_kiosk_done.png, /tmp/notify_phone.png.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from onestop.tokens import ticket_token
from tests.conftest import SECRET, free_port
from tests.kiosk.test_browser import pairing_code
from tests.livesrv import demo_server
from tests.notifications.conftest import Gateway, running_gateway

KIOSK = {"width": 1080, "height": 1920}
PHONE = "0912345678"
FIELD = "Tư pháp – Hộ tịch"


@pytest.fixture(scope="module")
def gateway() -> Iterator[Gateway]:
    with running_gateway() as gw:
        yield gw


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, gateway: Gateway,
           cheap_password_hashing: None) -> Iterator[tuple[str, Path]]:
    from sqlalchemy.orm import Session

    from onestop import demo
    from onestop.db import make_engine
    from onestop.migrate import upgrade

    data_dir = tmp_path_factory.mktemp("notify")
    url = f"sqlite:///{data_dir / 'onestop.sqlite3'}"
    upgrade(url)
    engine = make_engine(url)
    with Session(engine) as session:
        unit = demo.load(session)
        unit.settings = {"kiosk_idle_seconds": 120}
        session.commit()
    engine.dispose()
    refused = f"http://127.0.0.1:{free_port()}/zns"  # nothing listens there
    env = {"ONESTOP_SMS_URL": gateway.url + "/sms", "ONESTOP_SMS_TOKEN": "t",
           "ONESTOP_ZNS_URL": refused, "ONESTOP_ZNS_TOKEN": "z",
           "ONESTOP_ZNS_TEMPLATES": "ticket.transferred=9",
           "ONESTOP_NOTIFY_POLL_S": "1", "ONESTOP_NOTIFY_BACKOFF_S": "1", "ONESTOP_NOTIFY_TIMEOUT_S": "5"}
    with demo_server(data_dir, **env) as base:
        yield base, data_dir


def clerk(base: str) -> dict[str, str]:
    token = requests.post(f"{base}/api/v1/auth/token", json={"username": "clerk1", "password": "demo"},
                          timeout=5).json()["token"]
    auth = {"Authorization": f"Bearer {token}"}
    requests.post(f"{base}/api/v1/counters/1/open", headers=auth, timeout=5)
    return auth


def issue(base: str, auth: dict[str, str], service: int) -> requests.Response:
    return requests.post(f"{base}/api/v1/tickets", json={"service_id": service}, headers=auth, timeout=5)


def drain(base: str, auth: dict[str, str]) -> None:
    """Call until nobody waits at counter 1 (a clean line for the next test)."""
    while requests.post(f"{base}/api/v1/counters/1/call-next", headers=auth, timeout=10).status_code == 200:
        pass


def field_id(base: str) -> int:
    services = requests.get(f"{base}/api/v1/services", timeout=5).json()
    items = services["services"] if isinstance(services, dict) else services
    return int(next(s["id"] for s in items if s["name"] == FIELD))


def wait_for(predicate: Any, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError("timed out")


def test_kiosk_keypad_then_near_and_called_from_the_servers_loop(server, browser, gateway):
    base, data_dir = server
    auth = clerk(base)
    drain(base, auth)
    service = field_id(base)
    for _ in range(4):  # four people before the citizen
        assert issue(base, auth, service).ok
    context = browser.new_context(viewport=KIOSK)
    page = context.new_page()
    page.goto(f"{base}/kiosk/pair")
    for key in pairing_code(data_dir):
        page.click(f'#keypad [data-key="{key}"]')
    page.click("#pair-go")
    page.wait_for_url(f"{base}/kiosk/", timeout=10000)
    page.get_by_role("button", name=FIELD).click()
    page.wait_for_url(re.compile(r".*/kiosk/field/\d+$"))
    page.click("#go")
    page.wait_for_function("() => document.getElementById('t-number').textContent.length > 0")
    label = page.inner_text("#t-number")
    assert page.inner_text("#t-ahead") == "4"
    page.get_by_role("button", name="Nhắn tin khi sắp đến lượt").click()
    assert "xoá khi kết thúc ngày làm việc" in page.inner_text(".t-notify-consent")
    assert page.is_disabled("#t-notify-go")
    for key in PHONE:
        page.click(f'#t-notify-pad [data-key="{key}"]')
    assert page.inner_text("#t-notify-phone") == "0912 345 678"
    page.locator("#t-notify-go").scroll_into_view_if_needed()
    page.screenshot(path="/tmp/notify_kiosk_keypad.png")
    page.click("#t-notify-go")
    page.wait_for_selector("#t-notify-msg.is-ok")
    assert "+84 91*****78" in page.inner_text("#t-notify-msg")
    page.screenshot(path="/tmp/notify_kiosk_done.png")
    context.close()

    before = len(gateway.received("/sms"))
    requests.post(f"{base}/api/v1/counters/1/call-next", headers=auth, timeout=5)  # now 3 ahead
    wait_for(lambda: len(gateway.received("/sms")) > before)
    near = gateway.received("/sms")[-1]
    assert near["to"] == "+84912345678" and "con 3 nguoi" in near["text"] and label in near["text"]
    for _ in range(4):
        requests.post(f"{base}/api/v1/counters/1/call-next", headers=auth, timeout=5)
    wait_for(lambda: len(gateway.received("/sms")) == before + 2)
    called = gateway.received("/sms")[-1]
    assert "quay so 1" in called["text"] and label in called["text"]
    time.sleep(1.5)  # a loop pass or two later: still exactly these two
    assert len(gateway.received("/sms")) == before + 2


def test_ticket_page_form_on_a_phone(server, browser, gateway):
    base, _ = server
    auth = clerk(base)
    drain(base, auth)
    ticket = requests.post(f"{base}/api/v1/tickets", json={"service_id": field_id(base)}, headers=auth,
                           timeout=5).json()
    page = browser.new_page(viewport={"width": 390, "height": 844})
    page.goto(f"{base}/t/{ticket['id']}?k={ticket_token(SECRET, ticket['id'])}")
    page.get_by_role("button", name="Nhắn tin khi sắp đến lượt").click()
    page.fill("#t-notify-phone", "0912 34")
    assert page.is_disabled("#t-notify-go")
    page.fill("#t-notify-phone", "0912 3456 7")  # a digit short of a number: the server says so
    page.click("#t-notify-go")
    page.wait_for_selector("#t-notify-msg:not([hidden])")
    assert "không hợp lệ" in page.inner_text("#t-notify-msg")
    page.fill("#t-notify-phone", "0987 654 321")
    page.click("#t-notify-go")
    page.wait_for_selector("#t-notify-msg.is-ok")
    assert "+84 98*****21" in page.inner_text("#t-notify-msg")
    page.screenshot(path="/tmp/notify_phone.png", full_page=True)
    page.close()


def _timed(call: Any) -> float:
    started = time.perf_counter()
    response = call()
    assert response.status_code < 300, response.text
    return time.perf_counter() - started


@pytest.mark.parametrize("mode", ["slow", "500", "garbage", "refused"])
def test_a_bad_gateway_never_delays_the_hall(server, gateway, mode):
    base, _ = server
    auth = clerk(base)
    drain(base, auth)
    service = field_id(base)
    ticket = issue(base, auth, service).json()
    page = f"{base}/t/{ticket['id']}?k={ticket_token(SECRET, ticket['id'])}"
    gateway.modes["/sms"] = "ok" if mode == "refused" else mode
    seen = len(gateway.requests)
    body = {"k": ticket_token(SECRET, ticket["id"]), "phone": PHONE}
    assert requests.post(f"{base}/api/v1/tickets/{ticket['id']}/notify", json=body,
                         timeout=5).status_code == 201
    if mode == "refused":  # a transfer goes by ZNS first, whose address refuses TCP, then SMS
        requests.post(f"{base}/api/v1/tickets", json={"service_id": service}, headers=auth, timeout=5)
        assert requests.post(f"{base}/api/v1/counters/1/call-next", headers=auth, timeout=5).ok
        assert requests.post(f"{base}/api/v1/counters/1/transfer", json={"service_id": service}, headers=auth,
                             timeout=5).ok
    # the loop is sending now (ticket.near: nobody ahead): for "slow" it hangs on the gateway
    wait_for(lambda: len(gateway.requests) > seen)
    times = []
    for _ in range(3):
        requests.post(f"{base}/api/v1/tickets", json={"service_id": service}, headers=auth, timeout=5)
        times.append(_timed(lambda: requests.post(f"{base}/api/v1/counters/1/call-next", headers=auth,
                                                  timeout=5)))
        times.append(_timed(lambda: requests.post(f"{base}/api/v1/tickets", json={"service_id": service},
                                                  headers=auth, timeout=5)))
        times.append(_timed(lambda: requests.get(page, timeout=5)))
    assert max(times) < 1.0, times  # the gateway hangs 30 s, the send's timeout is 5 s
    gateway.modes["/sms"] = "ok"
