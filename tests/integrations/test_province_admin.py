"""The back office's view of the pushes to the province (/admin/province) and their lines in
/metrics, against the fake provincial server: a clerk is refused, a manager sees the counts
and the dead push with its last error (no button), an admin sends the dead ones again."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from onestop.db import utcnow
from tests.api.helpers import ok
from tests.backoffice.conftest import csrf_from, last_audit, signed_in, text_of
from tests.conftest import bearer, demo_app, token_for
from tests.integrations.conftest import push_pass, pushes
from tests.integrations.test_province import PROVINCIAL, receive_under, serving_ticket

PAGE = "/admin/province"
RETRY = "/admin/province/retry"


def metric(text: str, state: str) -> float | None:
    found = re.search(rf'^onestop_province_pushes\{{state="{state}"\}} (\S+)$', text, re.M)
    return float(found.group(1)) if found else None


def counts_shown(page: str) -> dict[str, int]:
    return {state: int(n) for state, n in re.findall(r'<dd data-state="(\w+)">(\d+)</dd>', page)}


def one_dead_one_waiting(app: Any, client: Any, province: Any) -> str:
    """A linked dossier whose first push the province refused until it died (3 attempts) and
    whose next push waits behind it."""
    clerk = token_for(client, "clerk1")
    ticket = serving_ticket(client, clerk)
    ok(client.post(f"/api/v1/tickets/{ticket['id']}/provincial-code", json={"code": PROVINCIAL},
                   headers=bearer(clerk)))
    dossier = receive_under(client, clerk, ticket["id"])
    ok(client.post(f"/api/v1/dossiers/{dossier['code']}/status", json={"state": "processing"},
                   headers=bearer(clerk)))
    province.mode = "refuse"
    start = utcnow()
    for step in range(3):
        push_pass(app, start + dt.timedelta(minutes=2 * step))
    assert [p["state"] for p in pushes(app)] == ["dead", "pending"]
    return str(dossier["code"])


def test_managers_see_the_pushes_admins_send_the_dead_ones_again(app, client, province):
    code = one_dead_one_waiting(app, client, province)

    scraped = client.get("/metrics").get_data(as_text=True)  # the test client is on loopback
    assert (metric(scraped, "pending"), metric(scraped, "dead")) == (1.0, 1.0)

    clerk = signed_in(app, "clerk1")
    assert clerk.get(PAGE).status_code == 403
    token = csrf_from(clerk.get("/").get_data(as_text=True))  # the home page's sign-out form
    assert clerk.post(RETRY, data={"csrf_token": token}).status_code == 403

    manager = signed_in(app, "manager")
    page = text_of(manager.get(PAGE))
    assert "Đồng bộ hệ thống của tỉnh" in page
    assert f'href="{PAGE}"' in page  # the back office's menu links it
    assert counts_shown(page) == {"pending": 1, "sent": 0, "dead": 1}
    assert code in page and "Ngừng gửi (lỗi)" in page and "Được tiếp nhận" in page
    assert "error_code" in page  # the last error of the dead push
    assert "Gửi lại" not in page  # sending again is the admin's
    assert manager.post(RETRY, data={"csrf_token": csrf_from(page)}).status_code == 403
    assert [p["state"] for p in pushes(app)] == ["dead", "pending"]

    admin = signed_in(app, "admin")
    page = text_of(admin.get(PAGE))
    assert re.search(rf'<form method="post" action="{RETRY}"[^>]*>\s*<input[^>]*csrf_token', page)
    assert ">Gửi lại</button>" in page
    assert admin.post(RETRY, data={}).status_code == 400  # no CSRF token: nothing happens
    assert [p["state"] for p in pushes(app)] == ["dead", "pending"]
    res = admin.post(RETRY, data={"csrf_token": csrf_from(page)}, follow_redirects=True)
    assert res.status_code == 200
    page = text_of(res)
    assert "Đã đưa 1 lần gửi vào hàng chờ gửi lại." in page
    assert counts_shown(page) == {"pending": 2, "sent": 0, "dead": 0} and "Gửi lại</button>" not in page
    assert last_audit(app, "province_push").action == "retry"
    scraped = client.get("/metrics").get_data(as_text=True)
    assert (metric(scraped, "pending"), metric(scraped, "dead")) == (2.0, 0.0)

    province.mode = "ok"
    later = utcnow() + dt.timedelta(hours=1)  # past the waiting push's backoff
    assert push_pass(app, later).sent + push_pass(app, later).sent == 2  # in order
    assert counts_shown(text_of(admin.get(PAGE))) == {"pending": 0, "sent": 2, "dead": 0}


def test_without_a_province_the_page_says_so_and_metrics_have_no_lines(tmp_path):
    with demo_app(tmp_path) as plain:
        admin = signed_in(plain, "admin")
        page = text_of(admin.get(PAGE))
        assert "Chưa cấu hình kết nối với hệ thống của tỉnh." in page
        assert "Gửi lại" not in page
        assert f'href="{PAGE}"' not in text_of(admin.get("/admin/printers"))  # no menu entry
        assert "onestop_province_pushes{" not in plain.test_client().get("/metrics").get_data(as_text=True)
