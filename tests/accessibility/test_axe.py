"""Accessibility checked by a tool no one here wrote: axe-core (npm, test-only, injected
from node_modules) in Chromium on every citizen-facing page and state. A page passes with
zero violations of impact "serious" or "critical" (docs/accessibility.md says what else is
and is not met). Each page is its own test (Vietnamese and English), each later state (a
ticket just issued, a lookup's result, the tablet asking for a rating, every booking step)
is walked as a citizen would."""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Callable, Iterator
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
LANGS = ("vi", "en")
KIOSK = (1080, 1920)
PHONE = (390, 844)
HALL = (1920, 1080)
TABLET = (1280, 800)
SNAPSHOT = "() => document.querySelector('[data-snapshots]')?.dataset.snapshots >= 1"
APPLICANT = {"name": "Nguyễn Văn An", "id_number": "001203004005", "phone": "0912345678",
             "address": "Số 2 đường Lê Lợi"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, browser: Any) -> Iterator[Server]:
    assert AXE.is_file(), "axe-core is not installed: run `npm ci`"
    srv = Server(tmp_path_factory.mktemp("axe"))
    srv.start()
    srv.unit_settings(announcement_repeat=1, kiosk_idle_seconds=600, remote_tickets=True)
    try:
        yield srv
    finally:
        srv.stop()


def token(base: str, user: str) -> dict[str, str]:
    res = requests.post(f"{base}/api/v1/auth/token", json={"username": user, "password": "demo"}, timeout=5)
    return {"Authorization": f"Bearer {res.json()['token']}"}


def call(base: str, auth: dict[str, str], path: str, body: Any = None) -> dict[str, Any]:
    res = requests.post(f"{base}/api/v1{path}", json=body, headers=auth, timeout=10)
    assert res.status_code in (200, 201), res.text
    return dict(res.json())


def axe(page: Any) -> list[str]:
    """The serious and critical violations on the page as it is now, one line each."""
    page.wait_for_load_state("load")
    page.wait_for_timeout(300)  # fonts, the last paint
    page.add_script_tag(path=str(AXE))
    found = page.evaluate(RUN)
    return [f"{v['id']} ({v['impact']}) {v['help']} at {v['nodes']}" for v in found if v["impact"] in BAD]


def check(browser: Any, url: str, size: tuple[int, int], lang: str, ready: str | None = None,
          walk: Callable[[Any], list[str]] | None = None, cookies: list[dict[str, Any]] | None = None,
          high_contrast: bool = False, first: bool = True) -> list[str]:
    """Open ``url`` in ``lang`` (the pages' own switch: the ``lang`` cookie), wait for
    ``ready``, run axe; ``walk`` moves on through later states and returns their findings."""
    # the pages' CSP forbids inline scripts: the test's own injection is let through
    context = browser.new_context(viewport={"width": size[0], "height": size[1]}, bypass_csp=True)
    host = url.split("/")[2].split(":")[0]
    context.add_cookies([{"name": "lang", "value": lang, "domain": host, "path": "/"}, *(cookies or [])])
    page = context.new_page()
    try:
        if high_contrast:  # the citizen's toggle, remembered for the session (a11y.js)
            page.add_init_script("sessionStorage.setItem('onestop-a11y', 'on')")
        page.goto(url, wait_until="load")
        if ready:
            page.wait_for_function(ready, timeout=10000)
        report = [f"{url}: {line}" for line in axe(page)] if first else []
        if walk:
            report += walk(page)
        return report
    finally:
        context.close()


def first_state_pages(server: Server) -> list[tuple[str, str, tuple[int, int], str | None]]:
    base = server.base
    ticket = Api(base).issue(1)
    return [
        ("kiosk home", f"{base}/kiosk/", KIOSK, None),
        ("kiosk field", f"{base}/kiosk/field/1", KIOSK, None),
        ("kiosk catalogue", f"{base}/kiosk/procedures", KIOSK, None),
        ("kiosk procedure", f"{base}/kiosk/procedures/1", KIOSK, None),
        ("kiosk lookup", f"{base}/kiosk/lookup", KIOSK, None),
        ("kiosk booking check-in", f"{base}/kiosk/booking", KIOSK, None),
        ("lookup page", f"{base}/lookup/", PHONE, None),
        ("ticket page", f"{base}/t/{ticket['id']}?k={ticket_token(SECRET, int(ticket['id']))}", PHONE, None),
        ("tablet pairing", f"{base}/counter/tablet/pair", TABLET, None),
        ("hall display", f"{base}/display/?voice=chime", HALL, SNAPSHOT),
        ("number from a phone /q/", f"{base}/q/", PHONE, None),
    ]


@pytest.mark.parametrize("lang", LANGS)
def test_first_screens(server: Server, browser: Any, lang: str) -> None:
    report = []
    for name, url, size, ready in first_state_pages(server):
        report += [f"{name} [{lang}] {line}" for line in check(browser, url, size, lang, ready)]
    assert report == [], "\n".join(report)


def kiosk_cookie(server: Server, browser: Any) -> list[dict[str, Any]]:
    """A paired kiosk's cookies (paired once per module, through its pairing page)."""
    if not hasattr(server, "kiosk_cookies"):
        code = json.loads(server.cli("device", "add", "--kind", "kiosk", "--name", "Ki-ốt axe",
                                     "--json"))["pairing_code"]
        context = browser.new_context()
        page = context.new_page()
        page.goto(f"{server.base}/kiosk/pair?code={code}")
        page.wait_for_url(f"{server.base}/kiosk/", timeout=15000)
        server.kiosk_cookies = [c for c in context.cookies() if c["name"] != "lang"]  # type: ignore[attr-defined]
        context.close()
    return list(server.kiosk_cookies)  # type: ignore[attr-defined]


def take_ticket(page: Any) -> list[str]:
    page.click(".tile.is-open >> nth=0")
    page.wait_for_url("**/kiosk/field/*")
    report = [f"kiosk field (paired): {line}" for line in axe(page)]
    page.click("#go")
    page.wait_for_function("() => document.getElementById('t-number').textContent.length > 0")
    page.wait_for_function("() => (q => q.complete && q.naturalWidth > 0)(document.getElementById('t-qr'))")
    return report + [f"kiosk ticket screen: {line}" for line in axe(page)]


@pytest.mark.parametrize("lang", LANGS)
def test_kiosk_ticket_just_issued(server: Server, browser: Any, lang: str) -> None:
    report = check(browser, f"{server.base}/kiosk/", KIOSK, lang, walk=take_ticket,
                   cookies=kiosk_cookie(server, browser))
    assert report == [], "\n".join(report)


@pytest.mark.parametrize("lang", LANGS)
def test_kiosk_ticket_in_high_contrast(server: Server, browser: Any, lang: str) -> None:
    report = check(browser, f"{server.base}/kiosk/", KIOSK, lang, walk=take_ticket,
                   cookies=kiosk_cookie(server, browser), high_contrast=True)
    assert report == [], "\n".join(report)


def ready_dossier(server: Server) -> dict[str, Any]:
    if not hasattr(server, "dossier"):
        base, clerk = server.base, token(server.base, "clerk1")
        call(base, clerk, "/counters/1/open")
        call(base, clerk, "/tickets", {"service_id": 1})
        ticket = call(base, clerk, "/counters/1/call-next")
        dossier = call(base, clerk, "/dossiers", {"procedure_code": "1.001193", "applicant": APPLICANT,
                                                  "ticket_id": ticket["id"]})
        call(base, clerk, f"/dossiers/{dossier['code']}/status", {"state": "processing"})
        call(base, clerk, f"/dossiers/{dossier['code']}/status", {"state": "ready", "place": "Quầy số 1"})
        call(base, clerk, "/counters/1/finish", {"outcome": "served"})
        server.dossier = dossier  # type: ignore[attr-defined]
    return dict(server.dossier)  # type: ignore[attr-defined]


@pytest.mark.parametrize("lang", LANGS)
def test_lookup_results(server: Server, browser: Any, lang: str) -> None:
    dossier = ready_dossier(server)

    def scanned(page: Any) -> list[str]:
        from tests.kiosk.test_pickup_browser import scan
        scan(page, dossier["lookup_url"])
        return [f"kiosk lookup result: {line}" for line in axe(page)]

    report = check(browser, f"{server.base}/kiosk/lookup", KIOSK, lang, walk=scanned,
                   cookies=kiosk_cookie(server, browser))
    report += [f"lookup page result: {line}" for line in check(browser, dossier["lookup_url"], PHONE, lang)]
    assert report == [], "\n".join(report)


@pytest.mark.parametrize("lang", LANGS)
def test_tablet_asking_for_a_rating(server: Server, browser: Any, lang: str) -> None:
    base = server.base
    device = json.loads(server.cli("device", "add", "--kind", "tablet", "--counter", "3",
                                   "--name", f"Máy đánh giá {lang}", "--json"))
    clerk = token(base, "clerk3")
    call(base, clerk, "/counters/3/open")

    def rate(page: Any) -> list[str]:
        page.wait_for_url(f"{base}/counter/tablet", timeout=10000)
        page.wait_for_selector("#tablet[data-connected='1']", timeout=10000)
        page.wait_for_function("() => window.__heartbeats >= 1", timeout=10000)
        report = [f"tablet idle: {line}" for line in axe(page)]
        ticket = call(base, clerk, "/tickets", {"service_id": 2})
        assert call(base, clerk, "/counters/3/call-next")["id"] == ticket["id"]
        call(base, clerk, "/counters/3/finish", {"outcome": "served"})
        page.wait_for_selector("[data-level=dissatisfied]", state="visible", timeout=10000)
        report += [f"tablet rating: {line}" for line in axe(page)]
        page.click("[data-level=dissatisfied]")
        page.wait_for_selector("#screen-reason", state="visible")
        return report + [f"tablet reasons: {line}" for line in axe(page)]

    report = check(browser, f"{base}/counter/tablet/pair?code={device['pairing_code']}", TABLET, lang,
                   walk=rate, first=False)  # the pairing page moves on by itself
    assert report == [], "\n".join(report)


@pytest.mark.parametrize("lang", LANGS)
def test_booking_pages_every_step(server: Server, browser: Any, lang: str) -> None:
    base = server.base

    def book(page: Any) -> list[str]:
        report = []
        for step, link in (("procedure", ".ph-choice >> nth=0"), ("day", ".ph-skip"),
                           ("slot", "a.ph-day >> nth=0"), ("contact", "a.ph-slot >> nth=0")):
            page.click(link)
            page.wait_for_load_state("load")
            report += [f"/book/ {step} {page.url}: {line}" for line in axe(page)]
        page.fill("#ph-phone", "12")  # a wrong phone: the error on the same screen
        page.click("#ph-contact [type=submit]")
        page.wait_for_load_state("load")
        report += [f"/book/ contact refused: {line}" for line in axe(page)]
        page.fill("#ph-phone", f"09123450{'1' if lang == 'vi' else '2'}{'7'}")
        page.fill("#ph-name", "Trần Thị Bình")
        page.click("#ph-contact [type=submit]")
        page.wait_for_url("**/b/*", timeout=10000)
        report += [f"/b/<code>?k= confirmation: {line}" for line in axe(page)]
        page.click("#ph-cancel")
        page.wait_for_load_state("load")
        return report + [f"/b/<code>/cancel: {line}" for line in axe(page)]

    report = check(browser, f"{base}/book/", PHONE, lang, walk=book)
    assert report == [], "\n".join(report)


@pytest.mark.parametrize("lang", LANGS)
def test_number_from_a_phone(server: Server, browser: Any, lang: str) -> None:
    def take(page: Any) -> list[str]:
        page.click("a.ph-choice >> nth=0")
        page.wait_for_load_state("load")
        report = [f"/q/ field {page.url}: {line}" for line in axe(page)]
        page.click("#ph-take")
        page.wait_for_load_state("load")
        # a ticket's page, or (a field closed today: the demo's --always-open is the kiosk's)
        # the refusal on the same screen
        assert "/t/" in page.url or page.is_visible("#ph-error"), page.inner_text("body")
        return report + [f"/q/ taken {page.url}: {line}" for line in axe(page)]

    report = check(browser, f"{server.base}/q/", PHONE, lang, walk=take)
    assert report == [], "\n".join(report)


# --- the kiosk's audio guidance, contrast mode and keypad (issue 23 item 3) -----------------

def kiosk_page(server: Server, browser: Any, lang: str = "vi") -> tuple[Any, Any]:
    context = browser.new_context(viewport={"width": KIOSK[0], "height": KIOSK[1]})
    context.add_cookies([{"name": "lang", "value": lang, "domain": "127.0.0.1", "path": "/"},
                         *kiosk_cookie(server, browser)])
    page = context.new_page()
    page.goto(f"{server.base}/kiosk/")
    page.wait_for_selector("#tiles .tile.is-open")
    return context, page


def test_keypad_alone_reaches_a_ticket(server: Server, browser: Any) -> None:
    """A kiosk with a physical keypad: Tab moves a visible focus, Enter takes the field and
    the ticket; no pointer event at all."""
    context, page = kiosk_page(server, browser)
    try:
        def tab_to(selector: str, limit: int = 40) -> None:
            for _ in range(limit):
                page.keyboard.press("Tab")
                if page.evaluate(f"() => document.activeElement.matches({selector!r})"):
                    ring = page.evaluate("() => getComputedStyle(document.activeElement).outlineStyle")
                    assert ring not in ("none", ""), "the focus must be visible"
                    return
            raise AssertionError(f"Tab never reached {selector}")

        tab_to(".tile.is-open")
        name = page.evaluate("() => document.activeElement.querySelector('.tile-name').textContent")
        page.keyboard.press("Enter")
        page.wait_for_url("**/kiosk/field/*")
        assert page.inner_text("h1") == name
        tab_to("[data-priority='elderly']")
        page.keyboard.press("Enter")
        assert page.get_attribute("[data-priority='elderly']", "aria-checked") == "true"
        tab_to("#go")
        page.keyboard.press("Enter")
        page.wait_for_function("() => document.getElementById('t-number').textContent.length > 0")
        assert "Người cao tuổi" in page.inner_text("#t-priority")
        tab_to("[data-action='home']")  # "Xong" is reachable too
    finally:
        context.close()


def test_guidance_asks_the_voice_for_the_screen_and_the_number(server: Server, browser: Any) -> None:
    context, page = kiosk_page(server, browser)
    try:
        with page.expect_response(lambda r: "/kiosk/say.wav" in r.url) as said:
            page.click("#guide-btn")
        assert said.value.status == 200 and said.value.headers["content-type"] == "audio/wav"
        text = page.evaluate("window.__guide[0].text")
        assert "Xin mời Quý công dân chọn lĩnh vực" in text and "Tư pháp – Hộ tịch" in text, text
        page.click("#guide-btn")  # stop

        page.click(".tile.is-open >> nth=0")
        page.wait_for_url("**/kiosk/field/*")
        page.click("#guide-btn")
        page.wait_for_function("() => window.__guide.length > 0")
        text = page.evaluate("window.__guide[0].text")
        assert "Quý công dân cần làm thủ tục nào?" in text and "Người cao tuổi" in text, text
        page.click("#guide-btn")

        page.click("#go")
        page.wait_for_function("() => document.getElementById('t-number').textContent.length > 0")
        label = page.inner_text("#t-number")
        with page.expect_response(lambda r: "/kiosk/say.wav" in r.url) as said:
            page.click("#guide-btn")
        assert said.value.status == 200
        text = page.evaluate("window.__guide[window.__guide.length - 1].text")
        assert text.startswith("Số thứ tự của Quý công dân là " + " ".join(label)), text
    finally:
        context.close()


def test_contrast_mode_is_kept_across_screens_and_dropped_on_idle(server: Server, browser: Any) -> None:
    context, page = kiosk_page(server, browser)
    hc = "() => document.documentElement.classList.contains('a11y-hc')"
    try:
        toggle = page.locator("[data-a11y-toggle]")
        toggle.click()
        assert page.evaluate(hc) and toggle.get_attribute("aria-pressed") == "true"
        colours = page.evaluate("() => [getComputedStyle(document.body).backgroundColor, "
                                "getComputedStyle(document.querySelector('.k-title')).color]")
        assert colours == ["rgb(0, 0, 0)", "rgb(255, 255, 255)"]
        page.click(".tile.is-open >> nth=0")
        page.wait_for_url("**/kiosk/field/*")
        assert page.evaluate(hc)  # remembered for the session
        size = page.evaluate("() => parseFloat(getComputedStyle("
                             "document.querySelector('.step-q small')).fontSize)")
        assert size >= 34
        # nobody touches the kiosk: home, normal screen (kiosk.js's idle, shortened here)
        page.evaluate("document.dispatchEvent(new Event('kiosk:idle'))")
        assert not page.evaluate(hc)
        assert page.evaluate("sessionStorage.getItem('onestop-a11y')") is None
    finally:
        context.close()
    # the ticket page and the tablet carry the same toggle
    ticket = Api(server.base).issue(1)
    phone = browser.new_page(viewport={"width": PHONE[0], "height": PHONE[1]})
    phone.goto(f"{server.base}/t/{ticket['id']}?k={ticket_token(SECRET, int(ticket['id']))}")
    phone.click("[data-a11y-toggle]")
    assert phone.evaluate(hc)
    phone.reload()
    assert phone.evaluate(hc)
    phone.close()


# --- English complete (issue 23 item 2) ------------------------------------------------------

VIETNAMESE = re.compile(r"[àáảãạăằắẳẵặâầấẩẫậèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵđ]",
                        re.IGNORECASE)


def data_names(server: Server) -> list[str]:
    """What has no English name: the unit, procedures and their fees and documents (the
    catalogue's free text), fields without name_en, clerks and citizens; longest first (a
    name may hold a shorter one)."""
    with sqlite3.connect(server.data_dir / "onestop.sqlite3") as con:
        names = [r[0] for r in con.execute(
            "SELECT name FROM units UNION SELECT name FROM procedures "
            "UNION SELECT name FROM services WHERE name_en IS NULL OR name_en = '' "
            "UNION SELECT full_name FROM users UNION SELECT fee FROM procedures")]
        for (docs,) in con.execute("SELECT documents FROM procedures"):
            names += [d if isinstance(d, str) else str(d.get("name", "")) for d in json.loads(docs or "[]")]
    # citizens (the lookup shows the applicant masked); the switch back names itself
    names += [APPLICANT["name"], "Nguyễn V** A*", "Trần Thị Bình", "Tiếng Việt"]
    return sorted({n for n in names if n}, key=len, reverse=True)


def vietnamese_left(page: Any, names: list[str]) -> list[str]:
    text = page.evaluate("() => document.body.innerText")
    for name in names:
        text = text.replace(name, "")
    return [line.strip() for line in text.splitlines() if VIETNAMESE.search(line)]


def test_english_is_complete_on_the_citizens_pages(server: Server, browser: Any) -> None:
    """Every citizen's page walked in English after one tap on its switch: no visible text
    with Vietnamese diacritics but data that has no English name."""
    names = data_names(server)
    base = server.base
    found: dict[str, list[str]] = {}
    context = browser.new_context(viewport={"width": KIOSK[0], "height": KIOSK[1]})
    context.add_cookies(kiosk_cookie(server, browser))
    page = context.new_page()

    def look(where: str) -> None:
        page.wait_for_load_state("load")
        page.wait_for_timeout(300)
        if left := vietnamese_left(page, names):
            found[where] = left

    try:
        page.goto(f"{base}/kiosk/")
        page.click('[data-action="lang"]')  # the kiosk's one tap
        page.wait_for_function("() => document.getElementById('kiosk').dataset.lang === 'en'")
        look("kiosk home")
        page.click(".tile.is-open >> nth=0")
        page.wait_for_url("**/kiosk/field/*")
        look("kiosk field")
        page.click("#go")
        page.wait_for_function("() => document.getElementById('t-number').textContent.length > 0")
        look("kiosk ticket")
        for path in ("/kiosk/procedures", "/kiosk/procedures/1", "/kiosk/lookup", "/kiosk/booking"):
            page.goto(base + path)
            look(path)
        page.set_viewport_size({"width": PHONE[0], "height": PHONE[1]})
        ticket = Api(base).issue(1)
        for path in (f"/t/{ticket['id']}?k={ticket_token(SECRET, int(ticket['id']))}", "/book/", "/q/",
                     "/lookup/"):
            page.context.clear_cookies()
            page.goto(base + path)
            page.click(".tp-lang, a[hreflang=en]")  # the phone pages' one tap
            page.wait_for_url("**lang=en*")
            look(path)
        page.goto(f"{base}/book/")  # the language stays through the booking's steps
        for step, link in (("procedure", ".ph-choice >> nth=0"), ("day", ".ph-skip"),
                           ("slot", "a.ph-day >> nth=0"), ("contact", "a.ph-slot >> nth=0")):
            page.click(link)
            look(f"/book/ {step}")
        page.goto(ready_dossier(server)["lookup_url"])
        look("lookup result")
    finally:
        context.close()
    assert found == {}, "\n".join(f"{k}: {v}" for k, v in found.items())
