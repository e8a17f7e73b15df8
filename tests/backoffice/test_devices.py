"""Devices: register through the form, pair once, revoke, rotate (page and API)."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select

from onestop.accounts.models import Device
from onestop.queueing.models import Counter
from tests.api.helpers import in_db
from tests.backoffice.conftest import (
    assert_audited,
    audit_count,
    field_errors,
    last_audit,
    signed_in,
    submit,
    text_of,
)
from tests.conftest import bearer, token_for


def issue_with(client: Any, token: str) -> int:
    res = client.post("/api/v1/tickets", json={"service_id": 1}, headers=bearer(token))
    return int(res.status_code)


def shown_secrets(res: Any) -> tuple[str, str]:
    page = text_of(res)
    code = re.search(r'id="pairing-code">([A-Z0-9]+)<', page)
    token = re.search(r'id="device-token">(osd_[^<]+)<', page)
    assert code and token, page
    return code.group(1), token.group(1)


def device_id(app: Any, name: str) -> int:
    with in_db(app) as session:
        return int(session.scalar(select(Device.id).where(Device.name == name)))


def register(admin: Any, name: str = "Ki-ốt sảnh") -> tuple[str, str]:
    res = submit(admin, "/admin/devices/new", {"kind": "kiosk", "name": name, "counter_id": "0",
                                              "printer_uri": "dummy"})
    assert res.status_code == 200
    assert res.headers["Cache-Control"] == "no-store"
    return shown_secrets(res)


def test_pairing_code_works_once(app, client):
    admin = signed_in(app, "admin")
    code, token = register(admin)
    assert_audited(app, admin, "device", "create", name="Ki-ốt sảnh", kind="kiosk", printer_uri="dummy")
    assert issue_with(client, token) == 201
    paired = client.post("/api/v1/devices/pair", json={"code": code})
    assert paired.status_code == 200
    new_token = paired.get_json()["token"]
    assert issue_with(client, new_token) == 201 and issue_with(client, token) == 401
    again = app.test_client().post("/api/v1/devices/pair", json={"code": code})
    assert again.status_code == 400 and again.get_json()["error"]["code"] == "invalid_pairing_code"
    assert code not in admin.get("/admin/devices").get_data(as_text=True)  # shown once


def test_revoke_and_rotate_from_the_page(app, client):
    admin = signed_in(app, "admin")
    _code, token = register(admin, "Ki-ốt 2")
    did = device_id(app, "Ki-ốt 2")
    res = submit(admin, f"/admin/devices/{did}/rotate", {}, form_url="/admin/devices")
    assert res.status_code == 200
    new_code, new_token = shown_secrets(res)
    entry = assert_audited(app, admin, "device", "rotate_token")
    assert new_token not in str(entry.after) and new_code not in str(entry.after)
    assert issue_with(client, token) == 401 and issue_with(client, new_token) == 201

    assert submit(admin, f"/admin/devices/{did}/revoke", {}, form_url="/admin/devices").status_code == 302
    entry = assert_audited(app, admin, "device", "revoke")
    assert entry.before["revoked_at"] is None and entry.after["revoked_at"]
    assert issue_with(client, new_token) == 401
    assert client.post("/api/v1/devices/pair", json={"code": new_code}).status_code == 400
    assert "Đã thu hồi" in text_of(admin.get("/admin/devices"))


def test_revoke_and_rotate_through_the_api(app, client):
    admin = signed_in(app, "admin")
    _code, token = register(admin, "Màn hình sảnh")
    did = device_id(app, "Màn hình sảnh")
    admin_token = token_for(client, "admin")
    res = client.post(f"/api/v1/devices/{did}/rotate", headers=bearer(admin_token))
    assert res.status_code == 200
    body = res.get_json()
    assert set(body) == {"id", "token", "pairing_code", "pairing_expires_at"}
    assert issue_with(client, token) == 401 and issue_with(client, body["token"]) == 201
    assert last_actor(app) == ("rotate_token", "Quản trị hệ thống")
    res = client.post(f"/api/v1/devices/{did}/revoke", headers=bearer(admin_token))
    assert res.status_code == 200 and res.get_json()["revoked_at"]
    assert issue_with(client, body["token"]) == 401
    res = client.post(f"/api/v1/devices/{did}/rotate", headers=bearer(admin_token))
    assert res.status_code == 409 and res.get_json()["error"]["code"] == "device_revoked"
    assert client.post("/api/v1/devices/999999/revoke", headers=bearer(admin_token)).status_code == 404


def last_actor(app: Any) -> tuple[str, str]:
    entry = last_audit(app, "device")
    return entry.action, entry.actor_name


def test_device_form_mistakes(app):
    admin = signed_in(app, "admin")
    audits = audit_count(app)
    res = submit(admin, "/admin/devices/new", {"kind": "tablet", "name": "Máy tính bảng", "counter_id": "0"})
    assert res.status_code == 422 and "Thiết bị này cần gắn với một quầy." in field_errors(res)
    res = submit(admin, "/admin/devices/new", {"kind": "kiosk", "name": "K", "counter_id": "0",
                                              "printer_uri": "gopher://x"})
    assert res.status_code == 422 and "Địa chỉ máy in không hợp lệ." in field_errors(res)
    assert audit_count(app) == audits
    with in_db(app) as session:
        assert session.scalars(select(Device)).first() is None


def test_edit_a_device_keeps_its_token(app, client):
    """Name, counter and printer change in place: the kiosk goes on working, nothing to re-pair."""
    admin = signed_in(app, "admin")
    _code, token = register(admin, "Ki-ốt cũ")
    did = device_id(app, "Ki-ốt cũ")
    assert f'href="/admin/devices/{did}/edit"' in admin.get("/admin/devices").get_data(as_text=True)
    page = admin.get(f"/admin/devices/{did}/edit")
    assert page.status_code == 200 and 'value="Ki-ốt cũ"' in text_of(page)
    with in_db(app) as session:
        counter_2 = session.scalar(select(Counter.id).where(Counter.number == 2))
    res = submit(admin, f"/admin/devices/{did}/edit",
                 {"name": "Ki-ốt tầng 1", "counter_id": str(counter_2), "printer_uri": "tcp://10.0.0.9:9100"})
    assert res.status_code == 302
    assert "Đã lưu thiết bị Ki-ốt tầng 1." in text_of(admin.get("/admin/devices"))
    assert_audited(app, admin, "device", "update", name="Ki-ốt tầng 1", printer_uri="tcp://10.0.0.9:9100")
    with in_db(app) as session:
        device = session.get(Device, did)
        assert (device.name, device.counter_id, device.printer_uri, device.revoked_at) == (
            "Ki-ốt tầng 1", counter_2, "tcp://10.0.0.9:9100", None)
    assert issue_with(client, token) == 201  # the same token still works


def test_edit_refuses_a_bad_printer_a_missing_counter_and_a_revoked_device(app):
    admin = signed_in(app, "admin")
    with in_db(app) as session:
        counter_1 = session.scalar(select(Counter.id).where(Counter.number == 1))
    submit(admin, "/admin/devices/new", {"kind": "tablet", "name": "Máy tính bảng 1",
                                         "counter_id": str(counter_1)})
    did = device_id(app, "Máy tính bảng 1")
    audits = audit_count(app)
    res = submit(admin, f"/admin/devices/{did}/edit", {"name": "Bảng", "counter_id": "0"})
    assert res.status_code == 422 and "Thiết bị này cần gắn với một quầy." in field_errors(res)
    res = submit(admin, f"/admin/devices/{did}/edit", {"name": "Bảng", "counter_id": str(counter_1),
                                                      "printer_uri": "gopher://x"})
    assert res.status_code == 422 and "Địa chỉ máy in không hợp lệ." in field_errors(res)
    assert audit_count(app) == audits
    with in_db(app) as session:
        assert session.get(Device, did).name == "Máy tính bảng 1"
    assert submit(admin, f"/admin/devices/{did}/revoke", {}, form_url="/admin/devices").status_code == 302
    assert admin.get(f"/admin/devices/{did}/edit").status_code == 409
    assert signed_in(app, "manager").get(f"/admin/devices/{did}/edit").status_code == 403


def test_printers_page_uses_the_back_office_layout(app):
    admin = text_of(signed_in(app, "admin").get("/admin/printers"))
    assert 'class="bo-nav"' in admin and "/admin/static/backoffice.css" in admin
    assert 'href="/admin/printers" aria-current="page"' in admin and 'href="/admin/devices"' in admin
    manager = text_of(signed_in(app, "manager").get("/admin/printers"))
    assert 'class="bo-nav"' in manager and 'href="/admin/printers" aria-current="page"' in manager
    assert 'href="/admin/devices"' not in manager  # only what a manager may open
