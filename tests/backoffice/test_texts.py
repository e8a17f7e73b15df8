"""Every text of the back-office templates has its English entry, and the password rules.

babel.cfg extracts ``onestop/templates`` only; this covers the blueprint's own templates.
"""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_file
from babel.messages.pofile import read_po

from onestop.accounts.passwords import check_password_rules

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = ROOT / "onestop" / "backoffice" / "templates"
PO = ROOT / "onestop" / "translations" / "en" / "LC_MESSAGES" / "messages.po"


def test_back_office_templates_are_translated():
    with PO.open("rb") as fh:
        catalogue = read_po(fh, locale="en")
    missing, found = [], 0
    for path in sorted(TEMPLATES.rglob("*.html")):
        for line, message, _c, _ctx in extract_from_file("jinja2", str(path), keywords=DEFAULT_KEYWORDS,
                                                         options={"silent": "false"}):
            msgid = message[0] if isinstance(message, tuple) else message
            found += 1
            entry = catalogue.get(msgid)
            if entry is None or not entry.string:
                missing.append(f"{path.name}:{line}: {msgid}")
    assert found > 100
    assert not missing, "\n".join(missing)


def test_password_rules():
    assert check_password_rules("mat-khau-du-dai") == []
    assert check_password_rules("ngắn") == ["Mật khẩu cần ít nhất 10 ký tự."]
    assert check_password_rules("0912345678") == ["Mật khẩu không được chỉ gồm chữ số."]
    assert check_password_rules("123") == ["Mật khẩu cần ít nhất 10 ký tự.",
                                           "Mật khẩu không được chỉ gồm chữ số."]
    assert check_password_rules(" " * 12) == ["Mật khẩu không được chỉ gồm khoảng trắng."]
    assert check_password_rules("x" * 201) == ["Mật khẩu dài quá 200 ký tự."]


def test_password_rules_in_english(app):
    with app.test_request_context("/?lang=en"):
        assert check_password_rules("123456") == ["The password needs at least 10 characters.",
                                                  "The password must not be only digits."]


def test_sign_in_prompt_is_vietnamese_and_said_before_not_after(app):
    """Flask-Login's English "Please log in to access this page." used to wait in the session
    and greet the admin after a successful sign-in."""
    from tests.backoffice.conftest import csrf_from

    client = app.test_client()
    res = client.get("/admin/")
    assert res.status_code == 302 and res.headers["Location"].startswith("/login")
    login_page = client.get(res.headers["Location"]).get_data(as_text=True)
    assert "Vui lòng đăng nhập để mở trang này." in login_page
    res = client.post(res.headers["Location"], data={
        "username": "admin", "password": "demo", "csrf_token": csrf_from(login_page)})
    assert res.status_code == 302 and res.headers["Location"] == "/admin/"
    after = client.get("/admin/").get_data(as_text=True)
    assert "Please log in" not in after and "Vui lòng đăng nhập" not in after
    english = app.test_client()
    english.set_cookie("lang", "en")
    prompt = english.get(english.get("/admin/").headers["Location"]).get_data(as_text=True)
    assert "Please sign in to open this page." in prompt


def test_audit_log_names_every_kind_of_entry_in_vietnamese(app):
    """Reading the tracking book was listed as "book #TPHT/2026" (English, the code's name)."""
    import html
    import re

    from tests.backoffice.conftest import signed_in

    clerk = signed_in(app, "clerk1")
    assert clerk.get("/counter/book").status_code == 200  # reading the book is audited
    page = html.unescape(signed_in(app, "admin").get("/admin/audit?entity=book").get_data(as_text=True))
    rows = re.findall(r'<tr class="audit-entry" data-entity="book".*?</tr>', page, re.S)
    assert rows, page[-2000:]
    assert all("Sổ theo dõi hồ sơ" in row and ">book " not in row for row in rows)
    from onestop.backoffice.common import ACTION_LABELS, ENTITY_LABELS

    for entity in ("book", "person", "dossier", "device", "user"):
        assert entity in ENTITY_LABELS
    for action in ("read", "export", "purge", "login", "lock"):
        assert action in ACTION_LABELS
