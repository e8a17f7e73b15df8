"""Accessibility checked by a tool no one here wrote: axe-core (npm, test-only, injected
from node_modules) in Chromium on every citizen-facing page and state. A page passes with
zero violations of impact "serious" or "critical" (docs/accessibility.md says what else is
and is not met)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from onestop.tokens import ticket_token
from tests.conftest import SECRET
from tests.display.test_browser import Api, Server

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
BAD = ("serious", "critical")
RUN = """async () => {
  const r = await axe.run(document, {resultTypes: ['violations']});
  return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}));
}"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, browser: Any) -> Iterator[Server]:
    assert AXE.is_file(), "axe-core is not installed: run `npm ci`"
    srv = Server(tmp_path_factory.mktemp("axe"))
    srv.start()
    srv.unit_settings(announcement_repeat=1)
    try:
        yield srv
    finally:
        srv.stop()


def violations(browser: Any, url: str, size: tuple[int, int], ready: str | None = None,
               action: str | None = None) -> list[dict[str, Any]]:
    # the pages' CSP forbids inline scripts: the test's own injection is let through
    context = browser.new_context(viewport={"width": size[0], "height": size[1]}, bypass_csp=True)
    page = context.new_page()
    try:
        page.goto(url, wait_until="load")
        if ready:
            page.wait_for_function(ready, timeout=10000)
        if action:
            page.evaluate(action)
            page.wait_for_timeout(300)
        page.wait_for_timeout(300)
        page.add_script_tag(path=str(AXE))
        found = page.evaluate(RUN)
    finally:
        context.close()
    return [v for v in found if v["impact"] in BAD]


KIOSK = (1080, 1920)
PHONE = (390, 844)
HALL = (1920, 1080)
SNAPSHOT = "() => document.querySelector('[data-snapshots]')?.dataset.snapshots >= 1"


def pages(server: Server) -> list[tuple[str, str, tuple[int, int], str | None]]:
    api = Api(server.base)
    ticket = api.issue(1)
    base = server.base
    found = [
        ("kiosk home", f"{base}/kiosk/", KIOSK, None),
        ("kiosk field", f"{base}/kiosk/field/1", KIOSK, None),
        ("kiosk catalogue", f"{base}/kiosk/procedures", KIOSK, None),
        ("kiosk procedure", f"{base}/kiosk/procedures/1", KIOSK, None),
        ("kiosk lookup", f"{base}/kiosk/lookup", KIOSK, None),
        ("lookup page", f"{base}/lookup/", PHONE, None),
        ("ticket page", f"{base}/t/{ticket['id']}?k={ticket_token(SECRET, int(ticket['id']))}", PHONE, None),
        ("tablet", f"{base}/counter/tablet/pair", (1280, 800), None),
        ("hall display", f"{base}/display/?voice=chime", HALL, SNAPSHOT),
    ]
    for path in ("/book/", "/q/"):  # the booking pages, where they exist
        if requests.get(base + path, timeout=5).status_code == 200:
            found.append((f"booking {path}", base + path, PHONE, None))
    return found


def test_citizen_pages_have_no_serious_or_critical_violations(server: Server, browser: Any) -> None:
    report = []
    for name, url, size, ready in pages(server):
        for lang in ("vi", "en"):
            sep = "&" if "?" in url else "?"
            for v in violations(browser, f"{url}{sep}lang={lang}", size, ready):
                report.append(f"{name} [{lang}]: {v['id']} ({v['impact']}) {v['help']} at {v['nodes']}")
    assert report == [], "\n".join(report)
