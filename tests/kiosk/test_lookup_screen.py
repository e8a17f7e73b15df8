"""The kiosk's dossier lookup screen (/kiosk/lookup): the page through Flask's test client,
then in Debian's Chromium against a real server: a USB scanner's burst of keystrokes, slow
human typing (no scan), a scan that is no lookup code, a forged token, 429, the code and
phone digits on the on-screen keyboard, the supplement and overdue cases, the camera's
decoder served from our own vendor folder (fed a picture: no camera is opened), and the
way home when idle.

Screenshots go to /tmp/kiosk_lookup_*.png (portrait 1080x1920) for a human to look at.
"""

from __future__ import annotations

import base64
import datetime as dt
import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from onestop.dossiers.lookup import mask_name
from tests.livesrv import demo_server

KIOSK = {"width": 1080, "height": 1920}
IDLE = 6  # seconds: the unit's kiosk_idle_seconds for these tests
NAME = "Nguyễn Thị Ánh Tuyết"
APPLICANT = {"name": NAME, "id_number": "001190012345", "phone": "0912345678"}
VENDOR = "/static/vendor/barcode-detector/"


# --- the page, through the test client ------------------------------------------------------

def test_page_renders_without_inline_script(client):
    res = client.get("/kiosk/lookup")
    assert res.status_code == 200
    html = res.get_data(as_text=True)
    assert "Tra cứu hồ sơ" in html and "Quét bằng camera" in html
    assert "Ví dụ: H56.12.3-" in html  # the unit's own code format
    assert 'data-t-garbage="Mã vừa quét không phải mã tra cứu hồ sơ."' in html
    assert 'data-t-not-found="Không tìm thấy hồ sơ. Vui lòng kiểm tra lại mã hồ sơ hoặc hỏi cán bộ."' in html
    scripts = re.findall(r"<script\b([^>]*)>(.*?)</script>", html, re.S)
    assert scripts and all("src=" in attrs and not body.strip() for attrs, body in scripts)
    assert not re.search(r"\son[a-z]+\s*=", html), "inline event handler"
    assert "javascript:" not in html
    ids = re.findall(r'\sid="([^"]+)"', html)
    assert len(ids) == len(set(ids)), "duplicate ids"
    # the camera's code is not part of the page: loaded on demand only
    assert 'data-detector-js="/static/vendor/barcode-detector/barcode-detector.js"' in html
    assert 'src="/static/vendor/barcode-detector' not in html
    assert 'href="/kiosk/lookup"' in client.get("/kiosk/").get_data(as_text=True)


# --- the browser, against a real server ------------------------------------------------------

@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory,
           cheap_password_hashing: None) -> Iterator[tuple[str, Path]]:
    data_dir = tmp_path_factory.mktemp("lookup")
    _prepare(data_dir)
    with demo_server(data_dir) as base:
        yield base, data_dir


def _prepare(data_dir: Path) -> None:
    """The demo centre, made here with cheap password hashes (saves the server seconds)."""
    from sqlalchemy.orm import Session

    from onestop import demo
    from onestop.db import make_engine
    from onestop.migrate import upgrade

    url = f"sqlite:///{data_dir / 'onestop.sqlite3'}"
    upgrade(url)
    engine = make_engine(url)
    with Session(engine) as session:
        unit = demo.load(session)
        unit.settings = {"kiosk_idle_seconds": IDLE}
        session.commit()
    engine.dispose()


def _make_overdue(data_dir: Path, code: str) -> None:
    """Move a dossier's appointment into the past (the server reads the real clock)."""
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from onestop.db import make_engine
    from onestop.dossiers.models import Dossier

    engine = make_engine(f"sqlite:///{data_dir / 'onestop.sqlite3'}")
    with Session(engine) as session:
        dossier = session.scalars(select(Dossier).where(Dossier.code == code)).one()
        dossier.appointment_at = dt.datetime.now(dt.UTC) - dt.timedelta(days=3)
        session.commit()
    engine.dispose()


def _clerk(base: str) -> dict[str, str]:
    token = requests.post(f"{base}/api/v1/auth/token", json={"username": "clerk1", "password": "demo"},
                          timeout=10).json()["token"]
    return {"Authorization": f"Bearer {token}"}


def _dossier(base: str, auth: dict[str, str]) -> dict[str, Any]:
    res = requests.post(f"{base}/api/v1/dossiers", headers=auth, timeout=10,
                        json={"procedure_code": "1.001193", "applicant": APPLICANT})
    assert res.status_code == 201, res.text
    return dict(res.json())


def _qr_png(text: str) -> str:
    """``text`` as a QR code picture, base64 PNG (what a camera would see)."""
    import qrcode

    out = io.BytesIO()
    qrcode.make(text, border=4, box_size=8).save(out, format="PNG")
    return base64.b64encode(out.getvalue()).decode()


def _scan(page: Any, text: str, delay: float = 5) -> None:
    """A USB scanner: the text as fast keystrokes, then Enter (a person: delay=120)."""
    page.keyboard.type(text, delay=delay)
    page.keyboard.press("Enter")


def _message(page: Any, after: str = "") -> str:
    """The screen's message once it is an answer (not "searching"), and other than ``after``
    (the one still shown from the scan before: a new scan only replaces it when processed)."""
    page.wait_for_function(
        "(after) => { const m = document.getElementById('lk-msg');"
        " return !!m && m.offsetParent !== null && !m.classList.contains('is-info')"
        " && m.innerText.trim() !== after; }", arg=after)
    return str(page.inner_text("#lk-msg")).strip()


def test_scan_type_and_read_the_result(server, browser):
    base, data_dir = server
    auth = _clerk(base)
    dossier = _dossier(base, auth)
    code, url = dossier["code"], dossier["lookup_url"]
    assert re.fullmatch(r"H56\.12\.3-\d{6}-\d{4}", code) and f"/lookup/{code}?k=" in url

    context = browser.new_context(viewport=KIOSK)
    page = context.new_page()
    outside: list[str] = []
    lookups: list[str] = []
    vendor: list[tuple[str, int]] = []
    page.on("request", lambda r: outside.append(r.url)
            if not r.url.startswith((base, "data:", "blob:")) else None)
    page.on("request", lambda r: lookups.append(r.url) if "/api/v1/lookup" in r.url else None)
    page.on("response", lambda r: vendor.append((r.url, r.status)) if VENDOR in r.url else None)
    context.route(re.compile(r"^(?!" + re.escape(base) + r"|data:|blob:).*"), lambda route: route.abort())

    # first load, cold cache: the whole screen within the kiosk's page weight (DESIGN §7)
    weight: list[int] = []
    page.on("requestfinished", lambda r: weight.append(r.sizes()["responseBodySize"]))
    page.goto(f"{base}/kiosk/lookup", wait_until="networkidle")
    assert 0 < sum(weight) <= 300 * 1024, sum(weight)
    page.wait_for_timeout(300)  # fonts
    page.screenshot(path="/tmp/kiosk_lookup_start.png")
    assert page.is_visible("#lk-keyboard") and not page.is_visible("#lk-result")

    # 1. the USB scanner types the receipt's QR URL in a burst: the dossier, name masked
    _scan(page, url)
    page.wait_for_selector("#lk-result", state="visible")
    assert page.inner_text("#r-code") == code
    assert page.inner_text("#r-name") == mask_name(NAME) != NAME
    assert NAME not in page.inner_text("body") and "0912345678" not in page.content()
    assert page.inner_text("#r-state") == "Đã tiếp nhận"
    assert page.inner_text("#r-badge") == "Đúng hạn"
    assert page.inner_text("#r-procedure") == "Đăng ký khai sinh"
    assert re.fullmatch(r"\d{2}/\d{2}/\d{4}", page.inner_text("#r-appointment"))
    assert re.fullmatch(r"\d{2}/\d{2}/\d{4}", page.inner_text("#r-received"))
    assert not page.is_visible("#r-missing-box") and not page.is_visible("#r-apology")
    assert "quay về màn hình chính sau" in page.inner_text("#r-countdown")
    page.screenshot(path="/tmp/kiosk_lookup_result.png")
    page.click('[data-action="again"]')
    assert page.is_visible("#lk-keyboard")

    # 2. a person typing the same text slowly is no scanner: nothing is asked, nothing shown
    asked = len(lookups)
    _scan(page, url, delay=120)
    page.wait_for_timeout(400)
    assert len(lookups) == asked
    assert not page.is_visible("#lk-result") and not page.is_visible("#lk-msg")

    # 3. a scan that is no lookup code (a product barcode, a ticket's QR, noise)
    for junk in ("8934563138165", f"{base}/t/12?k=abcdefabcdef", "http>//127.0.0.1/lookup/x"):
        _scan(page, junk)
        assert _message(page) == "Mã vừa quét không phải mã tra cứu hồ sơ."
    assert len(lookups) == asked
    page.screenshot(path="/tmp/kiosk_lookup_garbage.png")

    # 4. a forged token: the same words as an unknown dossier
    _scan(page, url.split("?k=")[0] + "?k=aaaaaaaaaaaa")
    junk_said = "Mã vừa quét không phải mã tra cứu hồ sơ."
    assert _message(page, after=junk_said) == (
        "Không tìm thấy hồ sơ. Vui lòng kiểm tra lại mã hồ sơ hoặc hỏi cán bộ.")

    # 5. too many lookups from this kiosk: the API's 429 in words
    api = re.compile(r".*/api/v1/lookup\?.*")
    page.route(api, lambda route: route.fulfill(
        status=429, content_type="application/json",
        body='{"error": {"code": "rate_limited", "message": "Too Many Requests"}}'))
    _scan(page, url)
    assert "chờ một phút rồi thử lại" in _message(page)
    page.unroute(api)

    # 6. the code and the phone's last four digits on the on-screen keyboard
    page.click('[data-key="clear"]')
    assert page.is_disabled("#lk-go")
    for key in code:
        page.click(f'#lk-keyboard [data-key="{key}"]')
    page.click('.lk-field[data-field="phone"]')
    assert page.is_disabled('#lk-keyboard [data-key="Q"]')  # digits only now
    for key in "5678":
        page.click(f'#lk-keyboard [data-key="{key}"]')
    assert page.inner_text("#lk-code") == code
    assert page.is_enabled("#lk-go")
    page.screenshot(path="/tmp/kiosk_lookup_typed.png")
    page.click("#lk-go")
    page.wait_for_selector("#lk-result", state="visible")
    assert page.inner_text("#r-code") == code and page.inner_text("#r-name") == mask_name(NAME)

    # ... and a wrong phone: not found
    page.click('[data-action="again"]')
    for key in code:
        page.click(f'#lk-keyboard [data-key="{key}"]')
    page.click('.lk-field[data-field="phone"]')
    for key in "0000":
        page.click(f'#lk-keyboard [data-key="{key}"]')
    page.click("#lk-go")
    assert _message(page).startswith("Không tìm thấy hồ sơ.")

    # 7. a bare dossier code from a scanner: the phone digits are asked for
    _scan(page, code)
    page.wait_for_selector("#lk-msg.is-info")
    assert "4 số cuối điện thoại" in page.inner_text("#lk-msg")
    assert page.inner_text("#lk-code") == code
    assert page.get_attribute('.lk-field[data-field="phone"]', "aria-pressed") == "true"

    # 8. a supplement requested: what is missing, in the citizen's words
    missing = "Bản sao Giấy chứng sinh có chứng thực"
    res = requests.post(f"{base}/api/v1/dossiers/{code}/status", headers=auth, timeout=10,
                        json={"state": "supplement_requested", "note": missing})
    assert res.ok, res.text
    _scan(page, url)
    page.wait_for_selector("#lk-result", state="visible")
    assert page.inner_text("#r-state") == "Cần bổ sung hồ sơ"
    assert page.inner_text("#r-missing") == missing
    assert not page.is_visible("#r-badge")  # waiting for the citizen: "late" means nothing
    page.screenshot(path="/tmp/kiosk_lookup_supplement.png")

    # 9. past the appointment: late, with the apology
    late = _dossier(base, auth)
    _make_overdue(data_dir, late["code"])
    _scan(page, late["lookup_url"])
    page.wait_for_function(f"() => document.getElementById('r-code').textContent === {late['code']!r}")
    assert page.inner_text("#r-badge") == "Đã quá hạn"
    assert page.is_visible("#r-apology")
    page.screenshot(path="/tmp/kiosk_lookup_overdue.png")

    # 10. the camera's decoder: not loaded with the page; from our vendor folder when used
    # (the bundle's default .wasm location is a CDN: the page must override it first)
    assert vendor == []
    bundle = requests.get(f"{base}{VENDOR}barcode-detector.js", timeout=10)
    wasm = requests.get(f"{base}{VENDOR}zxing_reader.wasm", timeout=10)
    assert bundle.status_code == 200 and "javascript" in bundle.headers["content-type"]
    assert wasm.status_code == 200 and wasm.headers["content-type"] == "application/wasm"
    assert wasm.content[:4] == b"\0asm"
    assert re.search(r"jsdelivr|unpkg|cdn\.", bundle.text)  # hence the override, checked now:
    raw = page.evaluate("""async (png) => {
        const blob = await (await fetch("data:image/png;base64," + png)).blob();
        return window.kioskLookup.scanImage(blob);
    }""", _qr_png(url))
    assert raw == url
    page.wait_for_function(f"() => document.getElementById('r-code').textContent === {code!r}")
    assert {u.split(VENDOR)[1]: s for u, s in vendor} == {"barcode-detector.js": 200,
                                                          "zxing_reader.wasm": 200}

    # 11. nobody touches the kiosk: home by itself
    page.wait_for_url(f"{base}/kiosk/", timeout=(IDLE + 6) * 1000)
    assert outside == [], f"requests left the server: {outside}"
    context.close()
