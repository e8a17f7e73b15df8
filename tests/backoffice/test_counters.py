"""Counters through the real form: fields in order (and weights), the calling follows."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from onestop.queueing.models import Counter, Service
from tests.api.helpers import in_db, issue
from tests.backoffice.conftest import assert_audited, audit_count, field_errors, signed_in, submit, text_of
from tests.conftest import bearer, token_for


def ids(app: Any) -> dict[str, int]:
    with in_db(app) as session:
        return {s.code: s.id for s in session.scalars(select(Service))}


def links(app: Any, number: int) -> tuple[str, list[tuple[str, int]]]:
    with in_db(app) as session:
        codes = {s.id: s.code for s in session.scalars(select(Service))}
        counter = session.scalars(select(Counter).where(Counter.number == number)).one()
        return counter.service_mode, [(codes[link.service_id], link.weight) for link in counter.links]


def counter_form(app: Any, number: int, mode: str, positions: dict[str, int],
                 weights: dict[str, int] | None = None, **extra: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"number": str(number), "name": f"Quầy {number}", "zone": "A",
                            "service_mode": mode, **extra}
    for code, sid in ids(app).items():
        data[f"pos_{sid}"] = str(positions[code]) if code in positions else ""
        data[f"weight_{sid}"] = str((weights or {}).get(code, 1))
    return data


def counter_id(app: Any, number: int) -> int:
    with in_db(app) as session:
        return int(session.scalar(select(Counter.id).where(Counter.number == number)))


def test_counter_services_in_order_decide_who_is_called(app, client):
    admin = signed_in(app, "admin")
    cid = counter_id(app, 2)  # serves TPHT then NV (demo), first come first served
    data = counter_form(app, 2, "order", {"NV": 1, "TPHT": 2})
    assert submit(admin, f"/admin/counters/{cid}", data).status_code == 302
    assert links(app, 2) == ("order", [("NV", 1), ("TPHT", 1)])
    entry = assert_audited(app, admin, "counter", "update", service_mode="order",
                           services=["Nội vụ ×1", "Tư pháp – Hộ tịch ×1"])
    assert entry.before == {"service_mode": "fifo",
                            "services": ["Tư pháp – Hộ tịch ×1", "Nội vụ ×1"]}

    clerk = token_for(client, "clerk2")
    staff = token_for(client, "clerk1")
    older = issue(client, staff, ids(app)["TPHT"])
    newer = issue(client, staff, ids(app)["NV"])
    assert client.post(f"/api/v1/counters/{cid}/open", headers=bearer(clerk)).status_code == 200
    called = client.post(f"/api/v1/counters/{cid}/call-next", headers=bearer(clerk)).get_json()
    assert called["id"] == newer["id"] != older["id"]  # its first field first, not the oldest


def test_new_counter_with_weights(app):
    admin = signed_in(app, "admin")
    data = counter_form(app, 9, "weighted", {"DD": 1, "NN": 2}, {"DD": 3, "NN": 1}, name="Quầy đất đai")
    assert submit(admin, "/admin/counters/new", data).status_code == 302
    assert links(app, 9) == ("weighted", [("DD", 3), ("NN", 1)])
    assert_audited(app, admin, "counter", "create", number=9, services=["Đất đai ×3", "Nông nghiệp ×1"])
    assert "Quầy đất đai" in text_of(admin.get("/admin/counters"))


def test_counter_mistakes_change_nothing(app):
    admin = signed_in(app, "admin")
    before, audits = links(app, 1), audit_count(app)
    res = submit(admin, "/admin/counters/new", counter_form(app, 1, "fifo", {"TPHT": 1}))
    assert res.status_code == 422 and "Quầy số 1 đã có." in field_errors(res)
    res = submit(admin, "/admin/counters/new", counter_form(app, 10, "fifo", {}))
    assert res.status_code == 422 and "Chọn ít nhất một lĩnh vực cho quầy (điền thứ tự)." in text_of(res)
    res = submit(admin, "/admin/counters/new", counter_form(app, 10, "fifo", {"TPHT": 1}, {"TPHT": 50}))
    assert res.status_code == 422 and "Thứ tự từ 1 đến 99, trọng số từ 1 đến 10." in text_of(res)
    cid = counter_id(app, 1)
    res = submit(admin, f"/admin/counters/{cid}", counter_form(app, 2, "fifo", {"TPHT": 1}))
    assert res.status_code == 422 and "Quầy số 2 đã có." in field_errors(res)
    assert links(app, 1) == before and audit_count(app) == audits
    with in_db(app) as session:
        assert session.scalar(select(Counter).where(Counter.number == 10)) is None
