"""Webhooks from the back office: create (secret shown once), deactivate, refuse bad URLs."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select

from onestop.webhooks.models import Webhook
from tests.api.helpers import in_db
from tests.backoffice.conftest import assert_audited, audit_count, field_errors, signed_in, submit, text_of
from tests.conftest import bearer, token_for

URL = "http://192.168.1.20:8080/onestop-events"


def hooks(app: Any) -> list[tuple[Any, ...]]:
    with in_db(app) as session:
        return [(h.url, h.events, h.active) for h in session.scalars(select(Webhook))]


def test_create_and_deactivate(app, client):
    admin = signed_in(app, "admin")
    res = submit(admin, "/admin/webhooks/new", {"url": URL, "events": ["ticket.called", "dossier.received"]})
    assert res.status_code == 200
    secret = re.search(r'id="webhook-secret">(whsec_[^<]+)<', text_of(res))
    assert secret
    entry = assert_audited(app, admin, "webhook", "create", url=URL,
                           events=["ticket.called", "dossier.received"], active=True)
    assert "secret" not in entry.after  # the signing secret never reaches the log
    listed = client.get("/api/v1/webhooks", headers=bearer(token_for(client, "admin"))).get_json()
    assert [(h["url"], h["active"]) for h in listed["webhooks"]] == [(URL, True)]
    assert secret.group(1) not in admin.get("/admin/webhooks").get_data(as_text=True)

    hook_id = entry.entity_id
    res = submit(admin, f"/admin/webhooks/{hook_id}/deactivate", {}, form_url="/admin/webhooks")
    assert res.status_code == 302
    entry = assert_audited(app, admin, "webhook", "deactivate")
    assert entry.before["active"] is True and entry.after["active"] is False
    assert hooks(app) == [(URL, ["ticket.called", "dossier.received"], False)]
    assert "Đã vô hiệu hoá" in text_of(admin.get("/admin/webhooks"))


def test_bad_webhooks_are_refused(app):
    admin = signed_in(app, "admin")
    audits = audit_count(app)
    for data, message in [
        ({"url": "ftp://example.vn/x", "events": ["ticket.called"]}, "Địa chỉ webhook không hợp lệ"),
        ({"url": "http://169.254.169.254/latest", "events": ["ticket.called"]},
         "Địa chỉ webhook không hợp lệ"),
        ({"url": URL}, "Chọn ít nhất một sự kiện."),
        ({"url": URL, "events": ["ticket.eaten"]}, "Lựa chọn không hợp lệ."),
    ]:
        res = submit(admin, "/admin/webhooks/new", data)
        assert res.status_code == 422
        assert any(e.startswith(message) for e in field_errors(res)), (data, field_errors(res))
    assert hooks(app) == [] and audit_count(app) == audits
