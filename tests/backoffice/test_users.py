"""Users through the real forms: create, reset the password, disable; the last admin stays."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from onestop.accounts.models import User
from tests.api.helpers import in_db, user_id
from tests.backoffice.conftest import (
    assert_audited,
    audit_count,
    field_errors,
    login,
    signed_in,
    submit,
    text_of,
)
from tests.conftest import bearer, token_for

GOOD = "mat-khau-rat-dai-2026"


def new_user(**overrides: Any) -> dict[str, Any]:
    return {"username": "lan.nguyen", "full_name": "Nguyễn Thị Lan Anh", "role": "clerk", "unit_id": "1",
            "password": GOOD, "password2": GOOD, **overrides}


def users(app: Any) -> list[tuple[Any, ...]]:
    with in_db(app) as session:
        return [(u.username, u.role, u.active, u.password_hash)
                for u in session.scalars(select(User).order_by(User.id))]


def can_log_in(app: Any, username: str, password: str) -> bool:
    return login(app.test_client(), username, password).status_code == 302


def test_create_reset_disable(app, client):
    admin = signed_in(app, "admin")
    assert submit(admin, "/admin/users/new", new_user()).status_code == 302
    uid = user_id(app, "lan.nguyen")
    entry = assert_audited(app, admin, "user", "create", username="lan.nguyen", role="clerk", active=True)
    assert "password_hash" not in entry.after  # secrets never reach the log
    assert can_log_in(app, "lan.nguyen", GOOD)
    token = token_for(client, "lan.nguyen", GOOD)
    assert client.get("/api/v1/auth/me", headers=bearer(token)).status_code == 200

    # reset the password: the old one and the old API token stop working
    new = "mot-mat-khau-moi-khac"
    assert submit(admin, f"/admin/users/{uid}/password", {"password": new, "password2": new},
                  form_url=f"/admin/users/{uid}").status_code == 302
    assert_audited(app, admin, "user", "reset_password")
    assert not can_log_in(app, "lan.nguyen", GOOD) and can_log_in(app, "lan.nguyen", new)
    assert client.get("/api/v1/auth/me", headers=bearer(token)).status_code == 401
    token = token_for(client, "lan.nguyen", new)

    # disable: no login, no API, and a browser already signed in is out too
    browser = app.test_client()
    login(browser, "lan.nguyen", new)
    assert submit(admin, f"/admin/users/{uid}/disable", {}, form_url="/admin/users").status_code == 302
    entry = assert_audited(app, admin, "user", "disable")
    assert (entry.before, entry.after) == ({"active": True}, {"active": False})
    assert not can_log_in(app, "lan.nguyen", new)
    assert client.get("/api/v1/auth/me", headers=bearer(token)).status_code == 401
    res = client.post("/api/v1/auth/token", json={"username": "lan.nguyen", "password": new})
    assert res.status_code == 401
    assert browser.get("/counter/").status_code in (302, 401)
    assert "Đã khoá" in text_of(admin.get("/admin/users"))

    assert submit(admin, f"/admin/users/{uid}/enable", {}, form_url="/admin/users").status_code == 302
    assert can_log_in(app, "lan.nguyen", new)


def test_edit_role_and_name(app):
    admin = signed_in(app, "admin")
    uid = user_id(app, "clerk3")
    res = submit(admin, f"/admin/users/{uid}",
                 {"full_name": "Phạm Minh Châu", "role": "manager", "unit_id": "1"})
    assert res.status_code == 302
    entry = assert_audited(app, admin, "user", "update")
    assert (entry.before, entry.after) == ({"role": "clerk"}, {"role": "manager"})


BAD = [
    ({"username": "clerk1"}, "Tên đăng nhập đã có người dùng."),
    ({"username": "CLERK1"}, "Tên đăng nhập đã có người dùng."),
    ({"username": "có dấu"}, "Chỉ dùng chữ cái không dấu, chữ số và . _ -"),
    ({"password": "ngan", "password2": "ngan"}, "Mật khẩu cần ít nhất 10 ký tự."),
    ({"password": "0912345678", "password2": "0912345678"}, "Mật khẩu không được chỉ gồm chữ số."),
    ({"password2": "khac-hoan-toan-1"}, "Hai mật khẩu không giống nhau."),
    ({"role": "root"}, "Lựa chọn không hợp lệ."),
]


def test_bad_accounts_are_refused_beside_the_field(app):
    admin = signed_in(app, "admin")
    before, audits = users(app), audit_count(app)
    for overrides, message in BAD:
        res = submit(admin, "/admin/users/new", new_user(**overrides))
        assert res.status_code == 422, overrides
        assert any(message in e for e in field_errors(res)), (overrides, field_errors(res))
    uid = user_id(app, "clerk1")
    res = submit(admin, f"/admin/users/{uid}/password", {"password": "1234567890", "password2": "1234567890"},
                 form_url=f"/admin/users/{uid}")
    assert res.status_code == 422 and "Mật khẩu không được chỉ gồm chữ số." in field_errors(res)
    assert users(app) == before and audit_count(app) == audits


def test_the_last_admin_cannot_lock_themselves_out(app):
    admin = signed_in(app, "admin")
    uid = user_id(app, "admin")
    before, audits = users(app), audit_count(app)
    res = submit(admin, f"/admin/users/{uid}/disable", {}, form_url="/admin/users", follow_redirects=True)
    assert "Bạn không thể tự khoá tài khoản của mình." in text_of(res)
    res = submit(admin, f"/admin/users/{uid}", {"full_name": "Quản trị", "role": "manager", "unit_id": "1"})
    assert res.status_code == 422
    assert field_errors(res) == [
        "Đây là quản trị viên cuối cùng còn hoạt động: không thể khoá hay đổi vai trò."]
    assert users(app) == before and audit_count(app) == audits

    # with a second admin, the first may step down; the second is then the last one
    assert submit(admin, "/admin/users/new", new_user(username="admin2", role="admin")).status_code == 302
    second = app.test_client()
    login(second, "admin2", GOOD)
    assert submit(admin, f"/admin/users/{uid}", {"full_name": "Quản trị", "role": "manager",
                                                 "unit_id": "1"}).status_code == 302
    assert admin.get("/admin/").status_code == 403  # no longer an admin
    res = submit(second, f"/admin/users/{user_id(app, 'admin2')}",
                 {"full_name": "", "role": "clerk", "unit_id": "1"})
    assert res.status_code == 422
