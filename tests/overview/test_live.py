"""The overview against one real server (issue 22 item 5): a real Socket.IO client of a
supervisor hears a change in their unit and never one in another unit; the page in
Chromium (1920x1080 wall screen, 1366x768 PC) shows the supervisor's units and a tile's
figure moves after a ticket is issued in that unit. Screenshots: /tmp/overview_*.png."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import socketio

from tests.livesrv import loaded_demo_server
from tests.overview.helpers import PASSWORD, add_supervisor, add_unit, busy_day

WALL = {"width": 1920, "height": 1080}
DESK = {"width": 1366, "height": 768}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory,
           cheap_password_hashing: None) -> Iterator[dict[str, Any]]:
    """The demo centre, X02 (a busy morning) and X03 (another supervisor's), each with a
    clerk; the supervisor 'giamsat' watches the demo centre and X02."""
    from sqlalchemy import select

    from onestop.db import utcnow
    from onestop.queueing.models import Service
    from onestop.units.models import Unit

    services: dict[str, int | None] = {}

    def prepare(session: Any) -> None:
        home = session.scalars(select(Unit)).one()
        x02, x03 = add_unit(session, "X02", "UBND xã Hòa Lạc"), add_unit(session, "X03", "UBND xã Yên Bình")
        busy_day(session, x02, issued=6, served=2, open_counters=1, happy=2, at=utcnow())
        busy_day(session, x03, issued=2, served=0, open_counters=0, at=utcnow())
        add_supervisor(session, "giamsat", [home, x02])
        for unit in (x02, x03):
            services[unit.code] = session.scalars(select(Service.id)
                                                  .where(Service.unit_id == unit.id)).first()

    with loaded_demo_server(tmp_path_factory.mktemp("overview"), prepare) as base:
        yield {"base": base, "services": services}


def token(base: str, username: str, password: str = PASSWORD) -> str:
    res = requests.post(f"{base}/api/v1/auth/token", json={"username": username, "password": password},
                        timeout=30)
    assert res.status_code == 201, res.text
    return str(res.json()["token"])


def issue_in(server: dict[str, Any], code: str) -> str:
    res = requests.post(f"{server['base']}/api/v1/tickets", json={"service_id": server["services"][code]},
                        headers={"Authorization": f"Bearer {token(server['base'], f'clerk-{code}')}"},
                        timeout=30)
    assert res.status_code == 201, res.text
    return str(res.json()["label"])


def test_a_real_socket_hears_its_units_only(server):
    heard: list[dict[str, Any]] = []
    got = threading.Event()
    client = socketio.Client(reconnection=False)

    @client.on("overview.changed", namespace="/overview")
    def changed(data: dict[str, Any]) -> None:
        heard.append(data)
        got.set()

    client.connect(server["base"], namespaces=["/overview"], transports=["websocket"],
                   auth={"token": token(server["base"], "giamsat")}, wait_timeout=10)
    try:
        issue_in(server, "X03")  # another supervisor's commune: never heard here
        issue_in(server, "X02")
        assert got.wait(10), "no overview.changed within 10 s"
        time.sleep(0.5)
        units = requests.get(f"{server['base']}/api/v1/overview", timeout=30, headers={
            "Authorization": f"Bearer {token(server['base'], 'giamsat')}"}).json()["units"]
        x02 = next(t for t in units if t["unit"]["code"] == "X02")
        assert {h["unit_id"] for h in heard} == {x02["unit"]["id"]}
    finally:
        client.disconnect()


def signed_in(browser: Any, base: str, viewport: dict[str, int]) -> Any:
    page = browser.new_context(viewport=viewport).new_page()
    page.goto(f"{base}/manager/overview")
    page.fill("input[name=username]", "giamsat")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/manager/overview")
    page.wait_for_selector("#unit-X02 .fig-waiting dd")
    return page


def test_the_wall_screen_updates_after_a_ticket(server, browser):
    page = signed_in(browser, server["base"], WALL)
    page.wait_for_selector("#live-status.ok")
    assert page.locator(".unit-tile").count() == 2 and page.locator("#unit-X03").count() == 0
    before = int(page.inner_text("#unit-X02 .fig-waiting dd"))
    assert "Hòa Lạc" in page.inner_text("#unit-X02 h2")
    issue_in(server, "X02")
    deadline = time.monotonic() + 15
    while int(page.inner_text("#unit-X02 .fig-waiting dd")) != before + 1:
        assert time.monotonic() < deadline, "the tile did not change within 15 s"
        page.wait_for_timeout(100)
    page.screenshot(path="/tmp/overview_wall.png")
    # on the wall: the figures big enough to read across the room
    size = page.evaluate("parseFloat(getComputedStyle("
                         "document.querySelector('#unit-X02 .fig-waiting dd')).fontSize)")
    assert size >= 28
    page.context.close()


def test_the_pc_screen_fits(server, browser):
    page = signed_in(browser, server["base"], DESK)
    # the socket's connect loads the tiles again and replaces them: a box measured on the
    # tile being replaced is None (seen once in CI), so measure once it is connected, and
    # again if the tile was swapped meanwhile
    page.wait_for_selector("#live-status.ok")
    deadline = time.monotonic() + 5
    while (box := page.locator("#unit-X02").bounding_box()) is None:
        assert time.monotonic() < deadline, "the tile never had a box"
        page.wait_for_timeout(100)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert box["x"] + box["width"] <= DESK["width"]
    page.screenshot(path="/tmp/overview_pc.png")
    page.context.close()
