"""Every page works under the strict Content-Security-Policy: Chromium reports no violation.

A real server (with markup in its names, see live.py) serves each page to Debian's Chromium
as the right person or device; the page's ``securitypolicyviolation`` events and console are
collected and must stay empty. A page that is added to the app without being listed here
fails ``test_every_page_is_walked``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from tests.security.live import Site, hostile_site, new_page, sign_in, violations

pytestmark = pytest.mark.browser
SETTLE_MS = 800  # scripts load, sockets connect, first fetches answer

# (who, path): who is None (anonymous), a device kind (its cookie) or a user name
ANONYMOUS = ["/", "/login", "/kiosk/", "/kiosk/procedures", "/kiosk/procedures/1", "/kiosk/lookup",
             "/kiosk/booking",
             "/kiosk/pair", "/kiosk/field/1", "/display/", "/display/pair", "/display/counter/1",
             "/lookup/", "/api/v1/docs", "/counter/tablet/pair", "{ticket_page}", "{lookup_page}"]
# the citizen's phone pages (kiosk/booking_pages.py), walked at 390x844 in a test of their own
PHONE = ["/book/", "/book/1/", "/book/1/day", "/q/", "/q/1", "{book:slot}", "{book:contact}",
         "{book:manage}", "{book:cancel}"]
DEVICES = [("kiosk", "/kiosk/"), ("kiosk", "/kiosk/field/1"), ("kiosk", "/kiosk/lookup"),
           ("kiosk", "/kiosk/booking"), ("display", "/display/"), ("counter-display", "/display/counter/"),
           ("tablet", "/counter/tablet")]
STAFF = [("clerk1", "/counter/"), ("clerk1", "/counter/book"), ("admin", "/admin/printers"),
         ("clerk1", "/counter/reception"),
         ("clerk1", "/counter/dossiers"), ("clerk1", "/counter/dossiers/{dossier_code}"),
         ("admin", "/admin/province"), ("admin", "/admin/notifications"),
         ("admin", "/admin/notifications/templates"),
         ("clerk1", "/admin/bookings"), ("clerk1", "/admin/bookings/new"),
         ("admin", "/admin/booking-settings"), ("admin", "/admin/services/1/booking"),
         ("manager", "/manager/"), ("manager", "/manager/reports"), ("manager", "/manager/staffing"),
         ("admin", "/manager/overview"),
         ("admin", "/admin/"), ("admin", "/admin/audit"), ("admin", "/admin/calendar"),
         ("admin", "/admin/counters"), ("admin", "/admin/counters/1"), ("admin", "/admin/counters/new"),
         ("admin", "/admin/devices"), ("admin", "/admin/devices/new"), ("admin", "/admin/devices/1/edit"),
         ("admin", "/admin/display"), ("admin", "/admin/media"),
         ("admin", "/admin/procedures"), ("admin", "/admin/ratings"), ("admin", "/admin/services"),
         ("admin", "/admin/services/1"), ("admin", "/admin/services/new"), ("admin", "/admin/units"),
         ("admin", "/admin/units/1"), ("admin", "/admin/users"),
         ("admin", "/admin/users/1"), ("admin", "/admin/users/new"), ("admin", "/admin/webhooks"),
         ("admin", "/admin/webhooks/new")]
# GET routes that are not pages (data, images, sound, downloads) or only redirect
NOT_PAGES = {"/healthz", "/readyz", "/metrics", "/display/config.json", "/display/announcement.json",
             "/display/chime.wav", "/display/voice.wav", "/kiosk/say.wav", "/media/<name>",
             "/counter/tablet/state.json",
             "/kiosk/qr/<int:ticket_id>.svg", "/admin/procedures/export.<fmt>", "/docs/oauth2-redirect",
             "/admin/bookings/poster.pdf", "/b/<code>/qr.svg", "/b/<code>/calendar.ics",
             "/counter/reception/link/<int:ticket_id>",  # JSON: the ticket page's link and QR
             # only an admin of no unit opens it (the demo admin is bound: 403); the same
             # template as /admin/units/1, which is walked
             "/admin/units/new"}


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, browser: Any,
         cheap_password_hashing: None) -> Iterator[Site]:
    with hostile_site(tmp_path_factory.mktemp("csp")) as live:
        yield live


def _url(site: Site, path: str) -> str:
    if path == "{ticket_page}":
        from onestop.tokens import ticket_token
        from tests.conftest import SECRET

        return f"{site.base}/t/{site.ticket['id']}?k={ticket_token(SECRET, int(site.ticket['id']))}"
    if path == "{lookup_page}":  # the receipt's QR names the public address: keep only the path
        return site.base + "/" + site.dossier["lookup_url"].split("://", 1)[1].split("/", 1)[1]
    if path.startswith("{book:"):  # the booking pages: one booking made through them
        from tests.bookings_pages.helpers import book_over_http

        if not hasattr(site, "booking_pages"):
            site.booking_pages = book_over_http(site.base)  # type: ignore[attr-defined]
        return str(site.booking_pages[path[6:-1]])  # type: ignore[attr-defined]
    return site.base + path


def _visit(page: Any, url: str) -> int:
    response = page.goto(url, wait_until="load")
    page.wait_for_timeout(SETTLE_MS)
    return int(response.status) if response else 0


def _check(page: Any, url: str, failures: list[str]) -> None:
    status = _visit(page, url)
    if status != 200:
        failures.append(f"{url}: HTTP {status}")
    failures.extend(f"{url}: {v}" for v in violations(page))
    page.problems.clear()


def test_anonymous_pages(site: Site, browser: Any) -> None:
    failures: list[str] = []
    for path in ANONYMOUS:
        page = new_page(browser, site)
        _check(page, _url(site, path), failures)
        page.context.close()
    assert not failures, "\n".join(failures)


def test_phone_pages(site: Site, browser: Any) -> None:
    failures: list[str] = []
    for path in PHONE:
        page = new_page(browser, site, viewport={"width": 390, "height": 844})
        _check(page, _url(site, path), failures)
        page.context.close()
    assert not failures, "\n".join(failures)


def test_device_pages(site: Site, browser: Any) -> None:
    failures: list[str] = []
    for kind, path in DEVICES:
        page = new_page(browser, site, device=kind)
        _check(page, _url(site, path), failures)
        page.context.close()
    assert not failures, "\n".join(failures)


def test_staff_pages(site: Site, browser: Any) -> None:
    failures: list[str] = []
    pages: dict[str, Any] = {}
    for username, path in STAFF:
        if username not in pages:
            pages[username] = new_page(browser, site)
            sign_in(pages[username], site.base, username)
        _check(pages[username], site.base + path.replace("{dossier_code}", site.dossier["code"]), failures)
    for page in pages.values():
        page.context.close()
    assert not failures, "\n".join(failures)


def test_kiosk_ticket_screen_and_scanner_garbage(site: Site, browser: Any) -> None:
    """Screens a script builds: the ticket after a tap; a barcode scanner typing garbage gets
    a clear message (no error, no crash), and a real scan still works after it."""
    page = new_page(browser, site, device="kiosk", viewport={"width": 1080, "height": 1920})
    _visit(page, site.base + "/kiosk/field/1")
    page.click("#go")
    page.wait_for_function("() => document.getElementById('t-number').textContent.length > 0")
    _visit(page, site.base + "/kiosk/lookup")
    lookup_url = site.dossier["lookup_url"]
    for junk in ("x" * 400, "http://h/lookup/%E0%A4%A?k=1", "]C1\u00a7\u00b0^^~~``||\\//",
                 "Nguyễn Văn An <script>", lookup_url.replace("?k=", "?k=%%%")):
        page.keyboard.type(junk, delay=3)
        page.keyboard.press("Enter")
        page.wait_for_selector("#lk-msg:not(.is-info)", state="visible")
        message = page.inner_text("#lk-msg").strip()
        assert message in ("Mã vừa quét không phải mã tra cứu hồ sơ.",
                           "Không tìm thấy hồ sơ. Vui lòng kiểm tra lại mã hồ sơ hoặc hỏi cán bộ."), message
        page.wait_for_timeout(200)
    # a scan is told from typing by its keys' pace (kiosk/static/kiosk/scan.js): on a loaded
    # machine the browser can stall mid-burst, and a citizen would scan again, as here
    for _attempt in range(3):
        page.keyboard.type(lookup_url, delay=3)
        page.keyboard.press("Enter")
        try:
            page.wait_for_selector("#lk-result:not([hidden])", timeout=8000)
            break
        except PlaywrightTimeout:
            page.wait_for_timeout(300)
    assert page.is_visible("#lk-result"), "a real scan after the garbage found nothing"
    assert not violations(page), violations(page)
    page.context.close()


def test_the_probe_sees_a_violation(site: Site, browser: Any) -> None:
    """The check above can fail: an inline script added at run time is reported."""
    page = new_page(browser, site)
    _visit(page, site.base + "/")
    page.evaluate("() => { const s = document.createElement('script'); s.textContent = 'window.x = 1';"
                  " document.body.appendChild(s); }")
    page.wait_for_timeout(300)
    assert any("script-src" in v for v in violations(page)), violations(page)
    assert page.evaluate("window.x") is None
    page.context.close()


def test_every_page_is_walked(tmp_path: Path) -> None:
    """A new page must be added to the lists above (and so be checked)."""
    from onestop.app import create_app
    from tests.conftest import app_config

    app = create_app(app_config(tmp_path))
    walked = {p for p in ANONYMOUS if not p.startswith("{")} | {p for _w, p in DEVICES} | {
        p.replace("{dossier_code}", "<code>") for _w, p in STAFF} | {"/t/<int:ticket_id>", "/lookup/<code>"}
    walked |= {p for p in PHONE if not p.startswith("{")} | {
        "/book/<int:service_id>/slot", "/book/<int:service_id>/contact", "/b/<code>", "/b/<code>/cancel"}
    missing = []
    for rule in app.url_map.iter_rules():
        if "GET" not in (rule.methods or ()) or "static" in rule.endpoint or rule.rule.startswith("/api/"):
            continue
        path = rule.rule
        concrete = path.replace("<int:counter_id>", "1").replace("<int:service_id>", "1").replace(
            "<int:unit_id>", "1").replace("<int:user_id>", "1").replace("<int:procedure_id>", "1").replace(
            "<int:number>", "1").replace("<int:device_id>", "1")
        if path not in NOT_PAGES and path not in walked and concrete not in walked:
            missing.append(path)
    assert not missing, f"pages not walked by the CSP test: {missing}"
