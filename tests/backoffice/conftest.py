"""Back-office helpers: sign in through the login form, fetch a form, post it with its
CSRF token, read the audit log and the rows behind the pages."""

from __future__ import annotations

import datetime as dt
import html
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from onestop import demo
from onestop.audit.models import AuditEntry
from tests.api.helpers import in_db
from tests.conftest import demo_app

CSRF_INPUT = re.compile(r'<input[^>]*name="csrf_token"[^>]*value="([^"]+)"')
CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


def csrf_from(page: str) -> str:
    match = CSRF_INPUT.search(page) or CSRF_META.search(page)
    assert match, "no CSRF token on the page"
    return match.group(1)


def login(client: Any, username: str, password: str = demo.DEMO_PASSWORD) -> Any:
    token = csrf_from(client.get("/login").get_data(as_text=True))
    return client.post("/login", data={"username": username, "password": password, "csrf_token": token})


def signed_in(app: Any, username: str) -> Any:
    client = app.test_client()
    assert login(client, username).status_code == 302
    return client


def submit(client: Any, url: str, data: dict[str, Any], *, form_url: str | None = None,
           **kwargs: Any) -> Any:
    """GET the page that holds the form, take its csrf_token, POST ``data`` to ``url``."""
    page = client.get(form_url or url)
    assert page.status_code == 200, page.status_code
    return client.post(url, data={**data, "csrf_token": csrf_from(page.get_data(as_text=True))},
                       **kwargs)


def text_of(res: Any) -> str:
    return html.unescape(res.get_data(as_text=True))


def field_errors(res: Any) -> list[str]:
    return [html.unescape(m) for m in re.findall(r'<p class="field-error" role="alert">(.*?)</p>',
                                                 res.get_data(as_text=True))]


def audit_count(app: Any) -> int:
    with in_db(app) as session:
        return session.scalar(select(func.count()).select_from(AuditEntry)) or 0


def last_audit(app: Any, entity: str | None = None) -> AuditEntry:
    with in_db(app) as session:
        query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(1)
        if entity:
            query = query.where(AuditEntry.entity == entity)
        entry = session.scalars(query).first()
        assert entry is not None, f"no audit entry for {entity}"
        session.expunge(entry)
        return entry


def assert_audited(app: Any, client: Any, entity: str, action: str, actor: str = "Quản trị hệ thống",
                   **after: Any) -> AuditEntry:
    """The newest entry of ``entity`` records ``action`` by ``actor`` with ``after`` values, and
    the audit page shows it."""
    entry = last_audit(app, entity)
    assert (entry.action, entry.actor_name) == (action, actor)
    for key, value in after.items():
        assert (entry.after or {}).get(key) == value, (key, entry.after)
    page = client.get(f"/admin/audit?entity={entity}")
    assert page.status_code == 200
    assert f'data-entity="{entity}" data-entity-id="{entry.entity_id}"' in page.get_data(as_text=True)
    return entry


@pytest.fixture
def admin(app: Any) -> Any:
    return signed_in(app, "admin")


@pytest.fixture
def scheduled(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The demo centre with the fields' schedules enforced; ``scheduled.at(moment)`` sets the
    clock of the ticket API."""
    def at(moment: dt.datetime) -> None:
        monkeypatch.setattr("onestop.api.tickets.now", lambda: moment)

    with demo_app(tmp_path, ALWAYS_OPEN=False) as application:
        application.at = at
        yield application
