"""Names with markup and spreadsheet formulas are shown as text everywhere: the kiosk, the
hall and counter displays, the clerk's workstation and book, the public lookup (masked), the
back office and dashboard, the PDF forms and the XLSX book (a string, never a formula)."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from onestop.accounts.models import User
from onestop.dossiers.models import Dossier
from tests.api.helpers import in_db
from tests.conftest import bearer, token_for
from tests.dossiers.conftest import receive
from tests.security.live import (
    APPLICANT_NAME,
    CLERK_NAME,
    COUNTER_NAME,
    FORMULA,
    MARKUP,
    SERVICE_NAME,
    Site,
    hostile_site,
    new_page,
    sign_in,
    violations,
)

NO_INJECTED_IMAGE = "() => document.querySelectorAll('img[src=\"x\"]').length"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, browser: Any,
         cheap_password_hashing: None) -> Iterator[Site]:
    with hostile_site(tmp_path_factory.mktemp("escaping")) as live:
        yield live


def _shows_as_text(page: Any, url: str, texts: tuple[str, ...], wait_for: str | None = None) -> None:
    page.goto(url, wait_until="load")
    if wait_for:
        page.wait_for_selector(wait_for)
    page.wait_for_timeout(700)
    body = page.inner_text("body")
    for text in texts:
        assert text in body, (url, text, body[:600])
    assert page.evaluate(NO_INJECTED_IMAGE) == 0, url
    assert not violations(page), (url, violations(page))


@pytest.mark.browser
def test_citizen_screens(site: Site, browser: Any) -> None:
    page = new_page(browser, site, device="kiosk")
    _shows_as_text(page, f"{site.base}/kiosk/", (SERVICE_NAME,))
    _shows_as_text(page, f"{site.base}/kiosk/field/1", (SERVICE_NAME,))
    page.context.close()
    page = new_page(browser, site, device="display")
    _shows_as_text(page, f"{site.base}/display/", (COUNTER_NAME, SERVICE_NAME), wait_for=".c-name")
    page.context.close()
    page = new_page(browser, site, device="counter-display")
    _shows_as_text(page, f"{site.base}/display/counter/1", (COUNTER_NAME,))
    page.context.close()
    # the public lookup page: the applicant's name masked, still text
    page = new_page(browser, site)
    path = "/" + site.dossier["lookup_url"].split("://", 1)[1].split("/", 1)[1]
    _shows_as_text(page, site.base + path, (FORMULA,))
    assert "onerror=alert(1)>" not in page.inner_text("body")  # masked: initials only
    page.context.close()


@pytest.mark.browser
def test_staff_screens(site: Site, browser: Any) -> None:
    page = new_page(browser, site)
    sign_in(page, site.base, "clerk1")
    _shows_as_text(page, f"{site.base}/counter/", (CLERK_NAME,))
    _shows_as_text(page, f"{site.base}/counter/book", (APPLICANT_NAME,))
    page.context.close()
    page = new_page(browser, site)
    sign_in(page, site.base, "admin")
    _shows_as_text(page, f"{site.base}/admin/counters", (COUNTER_NAME,))
    _shows_as_text(page, f"{site.base}/admin/users", (CLERK_NAME,))
    _shows_as_text(page, f"{site.base}/admin/services", (SERVICE_NAME,))
    _shows_as_text(page, f"{site.base}/manager/", ())
    page.context.close()


def _hostile_dossier(app: Any) -> str:
    """A dossier whose applicant, clerk and field carry markup and a formula (the API refuses
    ``<>`` in names; stored data may still hold them)."""
    from onestop.queueing.models import Service

    with in_db(app) as session:
        dossier = receive(session, dt.datetime.now(dt.UTC))
        dossier.applicant_name = APPLICANT_NAME
        dossier.applicant_address = MARKUP
        session.get(Service, dossier.service_id).name = SERVICE_NAME  # type: ignore[union-attr]
        clerk = session.get(User, dossier.received_by_id)
        assert clerk is not None
        clerk.full_name = CLERK_NAME
        return dossier.code


def test_pdf_forms_print_the_names_as_text(app: Any, client: Any) -> None:
    pypdf = pytest.importorskip("pypdf", reason="pypdf is not installed: PDF text not checked")
    code = _hostile_dossier(app)
    res = client.get(f"/api/v1/dossiers/{code}/receipt.pdf", headers=bearer(token_for(client, "clerk1")))
    assert res.status_code == 200 and res.mimetype == "application/pdf"
    text = " ".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(res.data)).pages)
    flat = " ".join(text.split())
    for needle in ("=HYPERLINK(\"http://x\",\"y\")", "<img src=x onerror=alert(1)>"):
        assert needle in flat, (needle, flat[:800])


def test_xlsx_book_keeps_formulas_as_strings(app: Any, client: Any) -> None:
    from openpyxl import load_workbook

    code = _hostile_dossier(app)
    res = client.get("/api/v1/dossiers/book.xlsx", headers=bearer(token_for(client, "clerk1")))
    assert res.status_code == 200
    sheet = load_workbook(io.BytesIO(res.data)).active
    cells = [c for row in sheet.iter_rows() for c in row
             if isinstance(c.value, str) and "HYPERLINK" in c.value]
    assert cells, "the applicant is missing from the book"
    for cell in cells:
        assert cell.data_type == "s" and not str(cell.value).startswith("="), cell.value
    with in_db(app) as session:
        assert session.scalars(select(Dossier.code).where(Dossier.code == code)).one() == code


def test_server_pages_escape_names(app: Any, client: Any) -> None:
    """The same without a browser: the raw HTML holds the escaped form, never the tag."""
    _hostile_dossier(app)
    token = token_for(client, "clerk1")
    html = client.get("/kiosk/").get_data(as_text=True)
    assert "&lt;img src=x onerror=alert(1)&gt;" in html and MARKUP not in html
    api = client.get("/api/v1/display/state").get_json()
    assert MARKUP in str(api)  # JSON carries the text; the display writes it with textContent
    assert client.get("/api/v1/services", headers=bearer(token)).status_code == 200


def test_report_exports_keep_formulas_as_strings(app: Any, client: Any) -> None:
    """The manager's exports (onestop.reports.exports.safe_cell, the rule the book uses too)."""
    import csv

    from openpyxl import load_workbook

    from onestop.queueing.models import Counter
    from tests.api.helpers import act, ok

    with in_db(app) as session:
        session.get(Counter, 1).name = COUNTER_NAME  # type: ignore[union-attr]
        session.scalars(select(User).where(User.username == "clerk1")).one().full_name = FORMULA
    clerk = token_for(client, "clerk1")
    ok(act(client, clerk, 1, "open"))
    client.post("/api/v1/tickets", json={"service_id": 1}, headers=bearer(clerk))
    ok(act(client, clerk, 1, "call-next"))
    ok(act(client, clerk, 1, "finish", {"outcome": "served"}))
    manager = bearer(token_for(client, "manager"))
    res = client.get("/api/v1/reports/export?format=csv", headers=manager)
    assert res.status_code == 200, res.get_data(as_text=True)[:300]
    cells = [c for row in csv.reader(io.StringIO(res.get_data(as_text=True).lstrip("\ufeff"))) for c in row]
    assert any("HYPERLINK" in c for c in cells), "the hostile names are missing from the export"
    assert not [c for c in cells if c.startswith(("=", "+", "@"))], cells
    res = client.get("/api/v1/reports/export?format=xlsx", headers=manager)
    sheet_cells = [c for ws in load_workbook(io.BytesIO(res.data)).worksheets for row in ws.iter_rows()
                   for c in row if isinstance(c.value, str) and "HYPERLINK" in c.value]
    assert sheet_cells and all(c.data_type == "s" and not c.value.startswith("=") for c in sheet_cells)
