"""The audit log: /admin/audit (filters, paging, before / after) and GET /api/v1/audit."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from onestop.audit.engine import record
from tests.api.helpers import in_db, user_id
from tests.backoffice.conftest import signed_in, submit, text_of
from tests.conftest import bearer, local, token_for

ENTRY = re.compile(r'data-entity="([^"]+)" data-entity-id="([^"]+)"')


def seed(app: Any, count: int, *, entity: str = "service", at: dt.datetime | None = None,
         actor: str = "admin") -> None:
    uid = user_id(app, actor)
    with in_db(app) as session:
        for i in range(count):
            record(session, action="update", entity=entity, entity_id=str(i + 1), unit_id=1,
                   actor_user_id=uid, actor_name=actor, before={"name": f"cũ {i}"},
                   after={"name": f"mới {i}"}, at=at)


def listed(res: Any) -> list[tuple[str, str]]:
    return ENTRY.findall(res.get_data(as_text=True))


def test_newest_first_with_paging(app):
    seed(app, 60)
    admin = signed_in(app, "admin")
    first = admin.get("/admin/audit?entity=service")
    rows = listed(first)
    assert len(rows) == 50 and rows[0] == ("service", "60") and rows[-1] == ("service", "11")
    older = re.search(r'href="(/admin/audit\?[^"]*before_id=\d+[^"]*)"', first.get_data(as_text=True))
    assert older
    rest = listed(admin.get(older.group(1).replace("&amp;", "&")))
    assert rest[0] == ("service", "10") and rest[-1] == ("service", "1") and len(rest) == 10


def test_before_and_after_side_by_side(app):
    admin = signed_in(app, "admin")
    sid = 1
    data = {"code": "TPHT", "name": "Tư pháp – Hộ tịch", "prefix": "A", "daily_cap": "120",
            "weekdays": ["1", "2", "3", "4", "5"], "windows": "07:30-11:30, 13:30-17:00",
            "cutoff_minutes": "15", "zone": "A", "sort_order": "0", "active": "y"}
    assert submit(admin, f"/admin/services/{sid}", data).status_code == 302
    page = text_of(admin.get("/admin/audit"))
    row = re.search(r'<code>daily_cap</code></th>\s*<td class="before">(.*?)</td>\s*'
                    r'<td class="after">(.*?)</td>',
                    page)
    assert row and row.groups() == ("300", "120")
    assert "Quản trị hệ thống" in page and "Lĩnh vực" in page


def test_filters(app):
    seed(app, 3, entity="service", actor="admin")
    seed(app, 2, entity="counter", actor="manager", at=local(2026, 1, 15, 10))
    admin = signed_in(app, "admin")
    assert {e for e, _ in listed(admin.get("/admin/audit?entity=counter"))} == {"counter"}
    manager = user_id(app, "manager")
    assert listed(admin.get(f"/admin/audit?user_id={manager}")) == [("counter", "2"), ("counter", "1")]
    assert len(listed(admin.get("/admin/audit?date_from=2026-01-15&date_to=2026-01-15"))) == 2
    assert listed(admin.get("/admin/audit?date_from=2026-01-16&date_to=2026-01-16")) == []
    assert admin.get("/admin/audit?date_from=hôm-qua").status_code == 422


def test_json_api(app, client):
    seed(app, 5, entity="service")
    seed(app, 2, entity="counter", at=local(2026, 1, 15, 10))
    token = token_for(client, "admin")
    body = client.get("/api/v1/audit?limit=3&entity=service", headers=bearer(token)).get_json()
    assert [e["entity_id"] for e in body["entries"]] == ["5", "4", "3"]
    first = body["entries"][0]
    assert first["before"] == {"name": "cũ 4"} and first["after"] == {"name": "mới 4"}
    assert first["actor_name"] == "admin" and first["action"] == "update"
    more = client.get(f"/api/v1/audit?limit=3&entity=service&before_id={body['next_before_id']}",
                      headers=bearer(token)).get_json()
    assert [e["entity_id"] for e in more["entries"]] == ["2", "1"] and more["next_before_id"] is None
    only = client.get("/api/v1/audit?entity=counter&from=2026-01-15&to=2026-01-15", headers=bearer(token))
    assert len(only.get_json()["entries"]) == 2
    bad = client.get("/api/v1/audit?limit=5000", headers=bearer(token))
    assert bad.status_code == 422 and bad.get_json()["error"]["code"] == "validation_error"
    assert client.post("/api/v1/audit", headers=bearer(token)).status_code == 405


def test_every_time_on_the_page_is_the_units_local_time(app):
    """An entry at 02:05 UTC reads 09:05 (Hà Nội), and so does a moment among its values
    (a device revoked at 02:00 UTC); the JSON API keeps ISO 8601 with the offset."""
    uid = user_id(app, "admin")
    at = dt.datetime(2026, 12, 1, 2, 5, 7, tzinfo=dt.UTC)
    with in_db(app) as session:
        record(session, action="update", entity="device", entity_id="7", unit_id=1, actor_user_id=uid,
               actor_name="admin", before={"revoked_at": None},
               after={"revoked_at": dt.datetime(2026, 12, 1, 2, 0, tzinfo=dt.UTC)}, at=at)
    page = text_of(signed_in(app, "admin").get("/admin/audit?entity=device"))
    assert "01/12/2026 09:05:07" in page and "02:05" not in page
    assert "01/12/2026 09:00:00" in page and "2026-12-01T02:00:00" not in page
