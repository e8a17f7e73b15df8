"""The world of the phone-page tests: a demo centre whose first field takes bookings and
serves every day and hour (so that a number from the phone can be taken whenever the tests
run), and numbers from the phone allowed or not."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from onestop.queueing.models import Service
from onestop.units.models import Unit

FIELD = 1


def open_field(session: Session, *, remote: bool = False, per_slot: int = 2) -> Service:
    """Field 1 books (one place per slot when asked) and serves around the clock."""
    service = session.get(Service, FIELD)
    assert service is not None
    service.booking = {"per_slot": per_slot, "days_ahead": 5, "book_before_minutes": 0}
    service.weekdays = [1, 2, 3, 4, 5, 6, 7]
    service.windows = [["00:00", "23:59"]]
    unit = session.scalars(select(Unit).order_by(Unit.id)).one()
    unit.settings = {**(unit.settings or {}), "remote_tickets": remote}
    session.commit()
    return service


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html) or re.search(
        r'name="csrf-token" content="([^"]+)"', html)
    assert found, "no CSRF token on the page"
    return found.group(1)


def links(html: str, pattern: str) -> list[str]:
    return [m.replace("&amp;", "&") for m in re.findall(rf'href="({pattern}[^"]*)"', html)]


def text(res: Any) -> str:
    return str(res.get_data(as_text=True))


def book_over_http(base: str, phone: str = "0912000111", field: int = FIELD) -> dict[str, str]:
    """Book field ``field``'s first free slot through the phone pages of a live server, as a
    phone would (requests, with the form's CSRF token); the pages' URLs on the way."""
    import requests

    web = requests.Session()
    found = {"day": f"{base}/book/{field}/day"}
    html = web.get(found["day"], timeout=10).text
    found["slot"] = base + links(html, f"/book/{field}/slot")[0]
    html = web.get(found["slot"], timeout=10).text
    found["contact"] = base + links(html, f"/book/{field}/contact")[0]
    html = web.get(found["contact"], timeout=10).text
    form = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', html))
    res = web.post(found["contact"].split("?")[0], data={**form, "phone": phone, "name": "Lê Thị Hoa"},
                   allow_redirects=False, timeout=10)
    assert res.status_code == 303, res.text[:2000]
    found["manage"] = base + res.headers["Location"]
    found["cancel"] = found["manage"].replace("?k=", "/cancel?k=")
    return found
