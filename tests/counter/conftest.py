"""Helpers for the workstation, form and tracking-book tests."""

from __future__ import annotations

import io
import re
import unicodedata
from typing import Any

import pytest

from tests.conftest import MONDAY_9, bearer, token_for

NAME = "Nguyễn Thị Ánh Tuyết"
SAME_DAY = "1.001193"  # Đăng ký khai sinh (Tư pháp – Hộ tịch), 0 working days
THREE_DAYS = "2.000575"  # Đăng ký thành lập hộ kinh doanh (Đăng ký kinh doanh)


@pytest.fixture
def frozen(monkeypatch: pytest.MonkeyPatch) -> Any:
    """The API's clock at Monday 23/11/2026 09:00 in Hà Nội; returns a setter."""

    def set_clock(when: Any) -> None:
        for module in ("dossiers", "dossier_docs", "queue", "counters", "tickets"):
            monkeypatch.setattr(f"onestop.api.{module}.now", lambda: when)
        monkeypatch.setattr("counter.now", lambda: when)

    set_clock(MONDAY_9)
    return set_clock


@pytest.fixture
def clerk(client: Any) -> str:
    return token_for(client, "clerk1")


def receive(client: Any, token: str, name: str = NAME, code: str = SAME_DAY, **extra: Any) -> dict[str, Any]:
    body = {"procedure_code": code,
            "applicant": {"name": name, "id_number": "001203004005", "phone": "0912 345 678",
                          "address": "Số 2 đường Lê Lợi"},
            "documents": [{"name": "Tờ khai đăng ký khai sinh", "count": 1},
                          {"name": "Giấy chứng sinh", "count": 2}], **extra}
    res = client.post("/api/v1/dossiers", json=body, headers=bearer(token))
    assert res.status_code == 201, res.get_data(as_text=True)
    return dict(res.get_json())


def pdf_text(data: bytes) -> str:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data))
    text = "\n".join(page.extract_text() or "" for page in reader.pages)
    return re.sub(r"\s+", " ", unicodedata.normalize("NFC", text))


def sign_in(client: Any, username: str) -> str:
    """Sign in through the /login form; returns the CSRF token of the workstation page."""
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token
    res = client.post("/login", data={"username": username, "password": "demo",
                                      "csrf_token": token.group(1)})
    assert res.status_code == 302, res.get_data(as_text=True)[:300]
    page = client.get("/counter/").get_data(as_text=True)
    meta = re.search(r'<meta name="csrf-token" content="([^"]+)"', page)
    assert meta
    return meta.group(1)
