"""Booking check-in at the lobby kiosk, in Debian's Chromium against one real server.

A kiosk paired on screen, its printer a fake TCP printer whose bytes are decoded back to a
picture and read with zxing-cpp. Bookings are made through the public API; their slot is then
moved to the minutes this test runs in (the server reads the real clock, and the API books
only an hour ahead at the earliest). The kiosk reads:

- a booking's QR (its manage link, rendered into a picture as the confirmation shows it) with
  its camera decoder, and the same link typed by a USB scanner on the home screen;
- a booking's code and the phone's last four digits typed on the on-screen keys.

Inside the unit's tolerance: a printed ticket with source ``booking`` and "Lịch hẹn HH:MM" on
the screen and the slip, called at counter 1 before a walk-in who came after the slot began,
and the clerk's card says "Lịch hẹn HH:MM" (the waiting list marks the booked ticket). Too
early: the allowed times in Vietnamese and, the unit allowing it, a normal ticket on a tap.
Too late with ``booking_outside_gets_ticket`` off: the refusal only.

Screenshots (kiosk 1080x1920, clerk 1366x768) go to the module's temporary directory.
"""

from __future__ import annotations

import base64
import datetime as dt
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import requests
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from hardware.printing.fakeprinter import FakePrinter, decode
from tests.hardware.conftest import read_qr
from tests.kiosk.test_pickup_browser import call, kiosk_pairing_code
from tests.livesrv import demo_server

KIOSK = {"width": 1080, "height": 1920}
CLERK = {"width": 1366, "height": 768}
FIELD = 1  # Tư pháp – Hộ tịch, served by counter 1 only
IDLE = 60  # the kiosk's idle time: long enough for a slow shared machine
EARLY, LATE = 15, 30  # the check-in's tolerance here (minutes before / after the slot's start)


def _zone() -> str:
    """The unit's timezone for this run: one where the slots used here (30 minutes either
    side of now) fall on the same local day, whatever hour the test runs at."""
    for zone in ("Asia/Ho_Chi_Minh", "Europe/London"):
        if 2 <= dt.datetime.now(ZoneInfo(zone)).hour < 22:
            return zone
    raise AssertionError("unreachable: the two zones are 7 hours apart")


ZONE = _zone()


def _db(data_dir: Path) -> Any:
    from sqlalchemy.orm import Session

    from onestop.db import make_engine

    engine = make_engine(f"sqlite:///{data_dir / 'onestop.sqlite3'}")
    return engine, Session(engine)


def _prepare(data_dir: Path) -> None:
    """The demo centre (cheap password hashes); field 1 takes bookings at any hour of the
    unit's working days, up to the minute before a slot."""
    from onestop import demo
    from onestop.migrate import upgrade
    from onestop.queueing.models import Service

    upgrade(f"sqlite:///{data_dir / 'onestop.sqlite3'}")
    engine, session = _db(data_dir)
    with session:
        unit = demo.load(session)
        unit.timezone = ZONE
        # a generous tolerance after the slot: a slow shared machine still checks in on time
        unit.settings = {**(unit.settings or {}), "kiosk_idle_seconds": IDLE,
                         "booking_checkin_early_minutes": EARLY, "booking_checkin_late_minutes": LATE}
        service = session.get(Service, FIELD)
        assert service is not None and service.booking  # the demo turns bookings on
        # open all day every day: the normal ticket offered outside the tolerance follows the
        # field's hours (the server's --always-open lifts them for the kiosk's own tickets only)
        service.weekdays, service.windows = [1, 2, 3, 4, 5, 6, 7], [["00:00", "23:59"]]
        service.cutoff_minutes = 0
        service.booking = {**service.booking, "book_before_minutes": 0, "days_ahead": 30}
        session.commit()
    engine.dispose()


@pytest.fixture(scope="module")
def printer() -> Iterator[FakePrinter]:
    with FakePrinter() as fake:
        yield fake


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, cheap_password_hashing: None,
           printer: FakePrinter) -> Iterator[tuple[str, Path]]:
    data_dir = tmp_path_factory.mktemp("bookings_kiosk")
    _prepare(data_dir)
    with demo_server(data_dir) as base:
        yield base, data_dir


@pytest.fixture(scope="module")
def clerk(server: tuple[str, Path]) -> dict[str, str]:
    base, _data_dir = server
    token = requests.post(f"{base}/api/v1/auth/token", json={"username": "clerk1", "password": "demo"},
                          timeout=10).json()["token"]
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture(scope="module")
def kiosk(server: tuple[str, Path], browser: Any, printer: FakePrinter) -> Iterator[Any]:
    """One paired kiosk page for the module (portrait, like the lobby's)."""
    base, data_dir = server
    context = browser.new_context(viewport=KIOSK)
    page = context.new_page()
    page.goto(f"{base}/kiosk/pair?code={kiosk_pairing_code(data_dir, printer.uri)}")
    page.wait_for_url(f"{base}/kiosk/", timeout=15000)
    yield page
    context.close()


_phones = iter(range(10, 100))


def book(base: str, data_dir: Path, minutes_from_now: float) -> dict[str, Any]:
    """A booking made through the public API, then moved (in the database) to a slot that
    starts ``minutes_from_now`` from now. Its code, manage link, phone and local HH:MM."""
    from sqlalchemy import select

    from onestop.bookings.models import Booking

    phone = f"09123456{next(_phones)}"
    free = None
    for days in range(0, 30):  # the first free slot the API offers
        day = (dt.datetime.now(ZoneInfo(ZONE)) + dt.timedelta(days=days)).date()
        res = requests.get(f"{base}/api/v1/bookings/slots", timeout=10,
                           params={"service_id": FIELD, "date": day.isoformat()})
        assert res.status_code == 200, res.text
        soon = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5)
        free = next((s for s in res.json()
                     if s["free"] and dt.datetime.fromisoformat(s["start"]) > soon), None)
        if free:
            break
    assert free, "no free slot in 30 days"
    res = requests.post(f"{base}/api/v1/bookings", timeout=10,
                        json={"service_id": FIELD, "start": free["start"], "phone": phone,
                              "name": "Ngô Thị Hạnh"})
    assert res.status_code == 201, res.text
    made = res.json()
    assert made["state"] == "booked" and f"/b/{made['code']}?k=" in made["manage_url"]
    start = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0) + dt.timedelta(minutes=minutes_from_now)
    engine, session = _db(data_dir)
    with session:
        booking = session.scalars(select(Booking).where(Booking.code == made["code"])).one()
        booking.start, booking.end = start, start + dt.timedelta(minutes=15)
        session.commit()
    engine.dispose()
    return {"code": made["code"], "url": made["manage_url"], "last4": phone[-4:],
            "time": f"{start.astimezone(ZoneInfo(ZONE)):%H:%M}", "start": start}


def set_outside_ticket(data_dir: Path, allowed: bool) -> None:
    from sqlalchemy import select

    from onestop.units.models import Unit

    engine, session = _db(data_dir)
    with session:
        unit = session.scalars(select(Unit)).one()
        unit.settings = {**(unit.settings or {}), "booking_outside_gets_ticket": allowed}
        session.commit()
    engine.dispose()


def qr_png(text: str) -> str:
    """``text`` as a QR picture (base64 PNG), as the booking's confirmation shows it."""
    import qrcode

    out = io.BytesIO()
    qrcode.make(text, border=4, box_size=8).save(out, format="PNG")
    return base64.b64encode(out.getvalue()).decode()


def home(page: Any, base: str) -> None:
    """To the home screen (again, should the kiosk's idle time take it home meanwhile)."""
    try:
        page.goto(f"{base}/kiosk/", wait_until="networkidle")
    except PlaywrightError:
        page.goto(f"{base}/kiosk/", wait_until="networkidle")


def open_checkin(page: Any, base: str, *, go_home: bool = True) -> None:
    """From the home screen's tile to the check-in screen."""
    if go_home:
        home(page, base)
    else:  # the screen goes home by itself ("Xong", "Màn hình chính")
        page.wait_for_url(f"{base}/kiosk/")
        page.wait_for_load_state("networkidle")
    tile = page.locator("#booking-tile")
    assert tile.inner_text().splitlines()[0].strip() == "Tôi đã đặt lịch hẹn"
    tile.click()
    page.wait_for_url(f"{base}/kiosk/booking")
    page.wait_for_selector("#bk-entry", state="visible")


def type_code(page: Any, code: str, last4: str) -> None:
    """The code and the phone's digits on the on-screen keys, then "Nhận số thứ tự"."""
    for ch in code + last4:
        page.click(f'#bk-keyboard [data-key="{ch}"]')
    assert page.inner_text("#bk-code").replace("\n", "") == code
    assert page.is_enabled("#bk-go")
    page.click("#bk-go")


def shown_ticket(page: Any, printer: FakePrinter, jobs: int) -> tuple[str, int, Any]:
    """The ticket on screen, printed: its label, its id read from the slip's QR, the slip."""
    page.wait_for_selector("#bk-ticket", state="visible")
    page.wait_for_selector('#bk-ticket [data-print="printed"]', state="visible")
    page.wait_for_function("() => document.getElementById('bk-qr').naturalWidth > 0")
    slip = decode(printer.wait_for_jobs(jobs)[-1]).page()
    assert slip is not None
    [qr] = read_qr(slip)
    return page.inner_text("#bk-number").strip(), int(qr.split("/t/")[1].split("?")[0]), slip


def ticket(base: str, auth: dict[str, str], ticket_id: int) -> dict[str, Any]:
    res = requests.get(f"{base}/api/v1/tickets/{ticket_id}", headers=auth, timeout=10)
    assert res.status_code == 200, res.text
    return dict(res.json())


def test_check_in_by_qr_and_by_code_then_called_before_a_later_walk_in(server, kiosk, clerk, printer,
                                                                         browser):
    base, data_dir = server
    shots = data_dir / "shots"
    shots.mkdir(exist_ok=True)
    page = kiosk
    by_qr, by_code, by_scanner = book(base, data_dir, -3), book(base, data_dir, -2), book(base, data_dir, -1)
    # a walk-in who came after those slots began (and before their citizens checked in)
    walk_in = call(base, clerk, "/tickets", {"service_id": FIELD}, 201)
    printer.clear()

    # 1. the QR of the confirmation, read by the kiosk's camera decoder
    open_checkin(page, base)
    page.screenshot(path=str(shots / "kiosk_booking_entry.png"))
    raw = page.evaluate("""async (png) => {
        const blob = await (await fetch("data:image/png;base64," + png)).blob();
        return window.kioskBooking.scanImage(blob);
    }""", qr_png(by_qr["url"]))
    assert raw == by_qr["url"]
    label_qr, id_qr, slip_qr = shown_ticket(page, printer, 1)
    assert page.inner_text("#bk-booked-text") == f"Lịch hẹn {by_qr['time']}"
    assert page.inner_text("#bk-field") == "Tư pháp – Hộ tịch"
    page.screenshot(path=str(shots / "kiosk_booking_ticket.png"))
    seen = ticket(base, clerk, id_qr)
    assert (seen["label"], seen["source"]) == (label_qr, "booking")
    assert seen["booking"]["code"] == by_qr["code"]
    assert dt.datetime.fromisoformat(seen["booking"]["start"]) == by_qr["start"]
    # the public answer (the phone page's) tells the slot, never the booking's code
    public = requests.get(f"{base}/api/v1/tickets/{id_qr}", timeout=10).json()
    assert public["booking"]["code"] is None and public["booking"]["start"] == seen["booking"]["start"]

    # 2. typed: the code and the phone's last four digits on the on-screen keys
    page.click('#bk-ticket [data-action="home"]')
    open_checkin(page, base, go_home=False)
    type_code(page, by_code["code"], by_code["last4"])
    label_code, id_code, _slip = shown_ticket(page, printer, 2)
    assert page.inner_text("#bk-booked-text") == f"Lịch hẹn {by_code['time']}"
    assert ticket(base, clerk, id_code)["source"] == "booking"

    # 3. the USB scanner on the home screen: the booking's link goes to the check-in
    home(page, base)
    for _attempt in range(3):  # two shared cores may slow a burst into "a person typing"
        page.keyboard.type(by_scanner["url"], delay=5)
        page.keyboard.press("Enter")
        try:
            page.wait_for_selector("#bk-ticket", state="visible", timeout=8000)
            break
        except PlaywrightTimeout:
            home(page, base)
    label_scan, id_scan, _slip = shown_ticket(page, printer, 3)
    assert page.inner_text("#bk-booked-text") == f"Lịch hẹn {by_scanner['time']}"

    # 4. counter 1 calls the booked citizens first: their slots began before the walk-in came
    call(base, clerk, "/counters/1/open")
    first = call(base, clerk, "/counters/1/call-next")
    assert (first["id"], first["label"], first["source"]) == (id_qr, label_qr, "booking")
    assert first["booking"]["code"] == by_qr["code"]

    desk = browser.new_context(viewport=CLERK)
    ws = desk.new_page()
    ws.goto(f"{base}/counter/")
    ws.fill("input[name=username]", "clerk1")
    ws.fill("input[name=password]", "demo")
    ws.click("button[type=submit]")
    ws.wait_for_selector("#picker:not([hidden]) .pick-card, #desk:not([hidden])")
    if ws.is_visible("#picker"):
        ws.click(".pick-card[data-counter-id='1']")
    ws.wait_for_selector("#current-booking", state="visible")
    assert ws.inner_text("#current-label") == label_qr
    assert ws.inner_text("#current-booking") == f"Lịch hẹn {by_qr['time']}"
    # the waiting list marks the booked tickets, not the walk-in
    marked = ws.locator("#waiting .chip.is-booked")
    assert sorted(marked.all_inner_texts()) == sorted(f"{label}Hẹn" for label in (label_code, label_scan))
    assert ws.locator("#waiting .chip:not(.is-booked)").all_inner_texts() == [walk_in["label"]]
    ws.screenshot(path=str(shots / "clerk_booking_card.png"))
    desk.close()

    order = [call(base, clerk, "/counters/1/call-next")["id"] for _ in range(3)]
    assert order == [id_code, id_scan, walk_in["id"]]
    assert ticket(base, clerk, walk_in["id"])["booking"] is None


def test_too_early_offers_a_normal_ticket_and_too_late_only_says_so(server, kiosk, clerk, printer):
    base, data_dir = server
    shots = data_dir / "shots"
    shots.mkdir(exist_ok=True)
    page = kiosk
    early, late = book(base, data_dir, EARLY + 25), book(base, data_dir, -LATE - 15)
    printer.clear()

    # too early (the check-in opens EARLY minutes before the slot): said with the times, and a
    # normal ticket offered (the unit's booking_outside_gets_ticket, on by default)
    open_checkin(page, base)
    type_code(page, early["code"], early["last4"])
    page.wait_for_selector("#bk-answer", state="visible")
    opens = (early["start"] - dt.timedelta(minutes=EARLY)).astimezone(ZoneInfo(ZONE))
    closes = (early["start"] + dt.timedelta(minutes=LATE)).astimezone(ZoneInfo(ZONE))
    assert page.inner_text("#bk-answer-text") == (
        f"Quý công dân đến sớm: lịch hẹn lúc {early['time']}. "
        f"Xin mời quay lại lấy số từ {opens:%H:%M} đến {closes:%H:%M}.")
    offer = page.locator("#bk-normal")
    assert offer.is_visible() and offer.inner_text().strip() == "Lấy số thứ tự thông thường"
    box = offer.bounding_box()
    assert box is not None and box["height"] >= 120 and box["width"] >= 600  # big, for a finger
    assert page.evaluate("document.activeElement.id") == "bk-normal"  # Enter takes it
    page.screenshot(path=str(shots / "kiosk_booking_too_early.png"))
    offer.click()
    label, ticket_id, _slip = shown_ticket(page, printer, 1)
    assert page.is_hidden("#bk-booked")  # a normal ticket: no booking on it
    normal = ticket(base, clerk, ticket_id)
    assert (normal["label"], normal["source"], normal["booking"]) == (label, "kiosk", None)

    # too late, the unit giving no normal ticket then: the refusal only
    set_outside_ticket(data_dir, False)
    try:
        open_checkin(page, base)
        type_code(page, late["code"], late["last4"])
        page.wait_for_selector("#bk-answer", state="visible")
        opens = (late["start"] - dt.timedelta(minutes=EARLY)).astimezone(ZoneInfo(ZONE))
        closes = (late["start"] + dt.timedelta(minutes=LATE)).astimezone(ZoneInfo(ZONE))
        assert page.inner_text("#bk-answer-text") == (
            f"Đã quá giờ nhận số của lịch hẹn lúc {late['time']} "
            f"(nhận số từ {opens:%H:%M} đến {closes:%H:%M}).")
        assert page.inner_text("#bk-answer-note") == (
            "Xin mời Quý công dân đặt lịch hẹn khác hoặc liên hệ cán bộ tại quầy hướng dẫn.")
        assert page.is_hidden("#bk-normal")
        page.screenshot(path=str(shots / "kiosk_booking_too_late.png"))
    finally:
        set_outside_ticket(data_dir, True)
    assert len(printer.jobs()) == 1  # nothing printed for the refusal

    # a wrong phone: not found, in plain words (the booking's existence is not confirmed)
    page.click('#bk-answer [data-action="again"]')
    type_code(page, late["code"], "0000" if late["last4"] != "0000" else "1111")
    page.wait_for_selector("#bk-msg.is-bad", state="visible")
    assert page.inner_text("#bk-msg").strip() == (
        "Không tìm thấy lịch hẹn. Vui lòng kiểm tra lại mã lịch hẹn và 4 số cuối điện thoại.")
