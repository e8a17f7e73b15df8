"""A real server with hostile names in its data, for the browser checks (CSP and escaping).

The demo centre is made here, then field 1, counter 1, the clerk of counter 1 and one
dossier's applicant get names carrying markup and a spreadsheet formula. Devices (kiosk,
display, counter display, tablet) are registered and their tokens handed out, a ticket is
called at counter 1 and a dossier is received for it, so every surface has something to show.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from tests.livesrv import demo_server

MARKUP = '<img src=x onerror=alert(1)>'
FORMULA = '=HYPERLINK("http://x","y")'
SERVICE_NAME = f"Tư pháp {MARKUP}"
COUNTER_NAME = f"{FORMULA} {MARKUP}"
CLERK_NAME = f"{MARKUP} Trần Thị B"
APPLICANT_NAME = f"{FORMULA} {MARKUP}"
CSP_PROBE = """
window.__csp = [];
document.addEventListener('securitypolicyviolation', function (e) {
  window.__csp.push(e.violatedDirective + ' blocked=' + e.blockedURI + ' at ' +
                    e.sourceFile + ':' + e.lineNumber);
});
"""


@dataclass
class Site:
    base: str
    data_dir: Path
    tokens: dict[str, str] = field(default_factory=dict)  # device kind -> token
    ticket: dict[str, Any] = field(default_factory=dict)
    dossier: dict[str, Any] = field(default_factory=dict)


def _prepare(data_dir: Path) -> dict[str, str]:
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from onestop import demo
    from onestop.accounts import engine as accounts
    from onestop.accounts.models import User
    from onestop.db import make_engine, utcnow
    from onestop.migrate import upgrade
    from onestop.queueing.models import Counter, Service

    url = f"sqlite:///{data_dir / 'onestop.sqlite3'}"
    upgrade(url)
    engine = make_engine(url)
    tokens: dict[str, str] = {}
    with Session(engine) as session:
        unit = demo.load(session)
        session.get(Service, 1).name = SERVICE_NAME  # type: ignore[union-attr]
        counter = session.scalars(select(Counter).where(Counter.number == 1)).one()
        counter.name = COUNTER_NAME
        session.scalars(select(User).where(User.username == "clerk1")).one().full_name = CLERK_NAME
        for kind, kwargs in (("kiosk", {}), ("display", {}), ("counter-display", {"counter_number": 1}),
                             ("tablet", {"counter_number": 1})):
            _device, token, _code = accounts.add_device(session, unit, kind, f"{kind} {MARKUP}",
                                                        now=utcnow(), **kwargs)
            tokens[kind] = token
        session.commit()
    engine.dispose()
    return tokens


def _api(base: str, method: str, path: str, token: str | None = None, **kwargs: Any) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    res = requests.request(method, f"{base}/api/v1{path}", headers=headers, timeout=10, **kwargs)
    assert res.status_code < 400, (path, res.status_code, res.text[:300])
    return res.json() if res.headers.get("Content-Type", "").startswith("application/json") else res


def user_token(base: str, username: str) -> str:
    return str(_api(base, "POST", "/auth/token", json={"username": username, "password": "demo"})["token"])


@contextmanager
def hostile_site(data_dir: Path) -> Iterator[Site]:
    tokens = _prepare(data_dir)
    with demo_server(data_dir) as base:
        site = Site(base=base, data_dir=data_dir, tokens=tokens)
        clerk = user_token(base, "clerk1")
        _api(base, "POST", "/counters/1/open", clerk)
        waiting = _api(base, "POST", "/tickets", tokens["kiosk"], json={"service_id": 1})
        site.ticket = _api(base, "POST", "/tickets", tokens["kiosk"], json={"service_id": 1})
        called = _api(base, "POST", "/counters/1/call-next", clerk)
        assert called["id"] == waiting["id"]
        site.dossier = _api(base, "POST", "/dossiers", clerk, json={
            "procedure_code": "1.001193", "ticket_id": waiting["id"],
            "applicant": {"name": f"{FORMULA} Nguyễn Văn An", "id_number": "001203004005",
                          "phone": "0912345678", "address": MARKUP}})
        _set_applicant_name(data_dir, site.dossier["code"], APPLICANT_NAME)
        yield site


def _set_applicant_name(data_dir: Path, code: str, name: str) -> None:
    """The API refuses ``<`` and ``>`` in names; older or imported data may still hold them,
    and every surface must show them as text."""
    import sqlite3

    with sqlite3.connect(data_dir / "onestop.sqlite3") as conn:
        conn.execute("UPDATE dossiers SET applicant_name = ? WHERE code = ?", (name, code))


def new_page(browser: Any, site: Site, *, device: str | None = None, viewport: Any = None) -> Any:
    """A page in a fresh context that records CSP violations, console errors and dialogs."""
    context = browser.new_context(viewport=viewport or {"width": 1366, "height": 900})
    if device:
        context.add_cookies([{"name": "onestop_device", "value": site.tokens[device],
                              "url": site.base}])
    context.add_init_script(CSP_PROBE)
    page = context.new_page()
    page.problems = []  # type: ignore[attr-defined]
    page.on("console", lambda m: page.problems.append(f"console: {m.text}")
            if "Content Security Policy" in m.text or "Refused to" in m.text else None)
    page.on("dialog", lambda d: (page.problems.append(f"dialog: {d.message}"), d.dismiss()))
    page.on("pageerror", lambda e: page.problems.append(f"pageerror: {e}"))
    return page


def sign_in(page: Any, base: str, username: str) -> None:
    page.goto(f"{base}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "demo")
    page.click("button[type=submit]")
    page.wait_for_load_state("load")
    assert "/login" not in page.url, page.url


def violations(page: Any) -> list[str]:
    found = list(page.evaluate("window.__csp || []"))
    return found + list(page.problems)
