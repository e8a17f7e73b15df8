"""The dossier desk pages over HTTP (/counter/dossiers): search, one dossier's page, every
action through its form (CSRF, the engine, the timeline) and every refusal."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.api.helpers import add_integration_user, ok
from tests.conftest import MONDAY_9, bearer, local
from tests.counter.conftest import NAME, pdf_text, receive

TEN_DAYS = "1.004227"


def sign_in(client: Any, username: str) -> str:
    """Sign in through the /login form; the CSRF token of the dossier desk's page."""
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token
    res = client.post("/login", data={"username": username, "password": "demo",
                                      "csrf_token": token.group(1)})
    assert res.status_code == 302, res.get_data(as_text=True)[:300]
    meta = re.search(r'<meta name="csrf-token" content="([^"]+)"',
                     client.get("/counter/dossiers").get_data(as_text=True))
    assert meta
    return meta.group(1)


@pytest.fixture
def desk(client: Any, clerk: str, frozen: Any, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """clerk1 signed in on the pages (CSRF token) at Monday 23/11/2026 09:00; a same-day
    dossier received."""

    def set_clock(when: Any) -> None:
        frozen(when)
        monkeypatch.setattr("counter.dossiers.now", lambda: when)

    set_clock(MONDAY_9)
    csrf = sign_in(client, "clerk1")
    return {"csrf": csrf, "clock": set_clock, "code": receive(client, clerk)["code"], "token": clerk}


def squeeze(res: Any) -> str:
    """The page's HTML with every run of white space as one space."""
    return re.sub(r"\s+", " ", res.get_data(as_text=True))


def page(client: Any, code: str) -> str:
    res = client.get(f"/counter/dossiers/{code}")
    assert res.status_code == 200
    return squeeze(res)


def offered(html: str) -> list[str]:
    return re.findall(r'data-action="(\w+)"', html)


def post(client: Any, desk: dict[str, Any], action: str, code: str | None = None, **form: str) -> Any:
    return client.post(f"/counter/dossiers/{code or desk['code']}/{action}",
                       data={"csrf_token": desk["csrf"], **form})


def state(client: Any, desk: dict[str, Any], code: str | None = None) -> str:
    res = client.get(f"/api/v1/dossiers/{code or desk['code']}", headers=bearer(desk["token"]))
    return str(ok(res)["state"])


def message(res: Any, kind: str = "error") -> str:
    found = re.search(rf'id="dd-{kind}">([^<]*)<', res.get_data(as_text=True))
    assert found, res.get_data(as_text=True)[:500]
    return found.group(1)


def test_search_page_finds_without_diacritics_and_pages(client, desk):
    for n in range(21):
        receive(client, desk["token"], name=f"Trần Văn Bình {n}")
    html = client.get("/counter/dossiers?q=nguyen+thi+anh").get_data(as_text=True)
    assert desk["code"] in html and NAME in html and "1 hồ sơ" in html
    assert f'href="/counter/dossiers/{desk["code"]}"' in html
    html = client.get("/counter/dossiers?q=tran+van+binh").get_data(as_text=True)
    assert "21 hồ sơ" in html and "trang 1/2" in html and NAME not in html
    second = client.get("/counter/dossiers?q=tran+van+binh&page=2").get_data(as_text=True)
    assert len(re.findall(r'href="/counter/dossiers/H56', second)) == 1
    assert "Trần Văn Bình 0<" in second  # the oldest last
    html = client.get("/counter/dossiers?state=processing").get_data(as_text=True)
    assert "Không tìm thấy hồ sơ phù hợp." in html


def test_the_page_offers_only_what_the_state_allows(client, desk):
    assert offered(page(client, desk["code"])) == ["process", "supplement", "apologise", "reject", "withdraw"]
    assert post(client, desk, "process").status_code == 303
    assert offered(page(client, desk["code"])) == ["ready", "supplement", "apologise", "reject", "withdraw"]
    assert post(client, desk, "ready", place="Quầy số 3").status_code == 303
    html = page(client, desk["code"])
    assert offered(html) == ["hand_over"] and "Nơi nhận kết quả: Quầy số 3" in html
    later = receive(client, desk["token"], code=TEN_DAYS)["code"]
    assert "apologise" not in offered(page(client, later))  # not late, not due soon


def test_hand_over_to_someone_else_is_recorded_in_the_timeline(client, desk):
    post(client, desk, "process")
    post(client, desk, "ready", place="Bộ phận Một cửa")
    refused = post(client, desk, "hand_over", collector="other", name="Lê Văn Cường", id_number="12345",
                   authorisation="con trai")
    assert refused.status_code == 422
    assert message(refused) == "Số CCCD của người nhận gồm 12 chữ số (CMND cũ: 9 chữ số)."
    assert 'value="Lê Văn Cường"' in refused.get_data(as_text=True)  # the form keeps what was typed
    refused = post(client, desk, "hand_over", collector="other", name="Lê Văn Cường",
                   id_number="001090012345")
    assert message(refused) == "Ghi quan hệ với người nộp hồ sơ hoặc giấy ủy quyền."
    assert state(client, desk) == "ready"
    done = post(client, desk, "hand_over", collector="other", name="Lê Văn Cường", id_number="001090012345",
                authorisation="Con trai, giấy ủy quyền số 12/UQ")
    assert done.status_code == 303 and done.headers["Location"].endswith("?done=hand_over")
    html = squeeze(client.get(done.headers["Location"]))
    assert "Đã trả kết quả; hồ sơ đã kết thúc." in html
    assert "Người nhận: Lê Văn Cường, CCCD 001090012345 — Con trai, giấy ủy quyền số 12/UQ" in html
    assert offered(html) == [] and state(client, desk) == "returned"


def test_hand_over_to_the_applicant(client, desk):
    post(client, desk, "process")
    post(client, desk, "ready")
    assert post(client, desk, "hand_over", collector="applicant").status_code == 303
    assert f"Người nhận: người nộp hồ sơ ({NAME})" in page(client, desk["code"])


def test_supplement_lists_the_items_on_bm02_and_restarts_the_clock(client, desk):
    refused = post(client, desk, "supplement", items="", reason="Thiếu giấy tờ")
    assert refused.status_code == 422 and message(refused).startswith("Ghi ít nhất một giấy tờ cần bổ sung")
    refused = post(client, desk, "supplement", items="Bản sao sổ hộ khẩu", reason="")
    assert message(refused) == "Ghi lý do yêu cầu bổ sung."
    assert state(client, desk) == "received"
    done = post(client, desk, "supplement", items="Bản sao sổ hộ khẩu\n- Giấy xác nhận cư trú",
                reason="Thiếu giấy tờ chứng minh nơi cư trú")
    html = squeeze(client.get(done.headers["Location"]))
    assert "In phiếu yêu cầu bổ sung (BM.02)" in html
    assert re.search(r'class="btn btn-go" data-form="supplement"', html)  # the form to print stands out
    pdf = client.get(f"/api/v1/dossiers/{desk['code']}/supplement.pdf")
    text = pdf_text(pdf.data)
    assert "Bản sao sổ hộ khẩu" in text and "Giấy xác nhận cư trú" in text
    assert "Thiếu giấy tờ chứng minh nơi cư trú" in text
    # the supplement comes in on Wednesday: the legal time counts again from then
    desk["clock"](local(2026, 11, 25, 10, 0))
    done = post(client, desk, "supplemented")
    html = squeeze(client.get(done.headers["Location"]))
    assert "In giấy tiếp nhận mới (BM.01)" in html and "25/11/2026 17:00" in html
    assert re.search(r'class="btn btn-go" data-form="receipt"', html)
    assert "Nhận hồ sơ bổ sung" in html and "supplement" not in offered(html)  # once only
    refused = post(client, desk, "supplement", items="Ảnh", reason="Thiếu")
    assert refused.status_code == 409
    assert message(refused) == "Trạng thái hiện tại của hồ sơ không cho phép thao tác này."


def test_apologise_once_with_working_days(client, desk):
    refused = post(client, desk, "apologise", working_days="0", reason="Chờ xác minh")
    assert refused.status_code == 422 and message(refused) == "Số ngày làm việc hẹn lại từ 1 đến 60."
    refused = post(client, desk, "apologise", working_days="2", reason="")
    assert message(refused) == "Vui lòng ghi lý do."
    # due Monday 23/11 17:00; two working days later (Tuesday 24/11 is a national day off,
    # Ngày Văn hóa Việt Nam): Thursday 26/11
    done = post(client, desk, "apologise", working_days="2", reason="Chờ xác minh của xã")
    html = squeeze(client.get(done.headers["Location"]))
    assert "26/11/2026 17:00" in html and "đã hẹn lại" in html
    assert re.search(r'class="btn btn-go" data-form="apology"', html)
    assert "apologise" not in offered(html)
    assert post(client, desk, "apologise", working_days="1", reason="Lần nữa").status_code == 409
    assert "26/11/2026" in pdf_text(client.get(f"/api/v1/dossiers/{desk['code']}/apology.pdf").data)


def test_refuse_needs_a_reason_and_prints_bm03(client, desk):
    refused = post(client, desk, "reject", reason=" ")
    assert refused.status_code == 422 and message(refused) == "Vui lòng ghi lý do."
    done = post(client, desk, "reject", reason="Không thuộc thẩm quyền giải quyết")
    html = squeeze(client.get(done.headers["Location"]))
    assert "Đã từ chối hồ sơ." in html and offered(html) == []
    assert "Không thuộc thẩm quyền giải quyết" in pdf_text(
        client.get(f"/api/v1/dossiers/{desk['code']}/refusal.pdf").data)


def test_withdraw_at_the_citizens_request(client, desk):
    assert post(client, desk, "withdraw", reason="Công dân xin rút").status_code == 303
    assert state(client, desk) == "withdrawn"
    assert post(client, desk, "process").status_code == 409
    assert state(client, desk) == "withdrawn"


def test_refusals_without_the_right(app, client, desk):
    code = desk["code"]
    assert post(client, desk, "hand_over").status_code == 409  # received: nothing to hand over
    assert post(client, desk, "explode").status_code == 409
    assert post(client, desk, "process", code="H56.12.3-261123-9999").status_code == 404
    res = client.post(f"/counter/dossiers/{code}/process", data={})
    assert res.status_code == 400  # no CSRF token
    assert state(client, desk) == "received"
    other = app.test_client()
    integration = add_integration_user(app, other)
    assert other.get("/counter/dossiers").status_code == 302  # anonymous: to the sign-in page
    # an integration account reads the search API, never the desk's pages nor their actions
    assert other.get("/counter/dossiers", headers=bearer(integration)).status_code == 403
    assert other.get(f"/counter/dossiers/{code}", headers=bearer(integration)).status_code == 403
    res = other.post(f"/counter/dossiers/{code}/process", headers=bearer(integration))
    assert res.status_code in (400, 403)  # no CSRF token to be had, and no right anyway
    assert state(client, desk) == "received"


def test_status_api_takes_the_same_details(client, desk):
    token, code = desk["token"], desk["code"]
    res = client.post(f"/api/v1/dossiers/{code}/status", headers=bearer(token), json={
        "state": "supplement_requested", "missing": ["Bản sao CCCD"], "note": "Thiếu giấy tờ"})
    body = ok(res)
    assert body["supplement_note"] == "- Bản sao CCCD\nLý do: Thiếu giấy tờ"
    assert body["events"][-1]["details"] == {"missing": ["Bản sao CCCD"], "reason": "Thiếu giấy tờ"}
    ok(client.post(f"/api/v1/dossiers/{code}/status", headers=bearer(token), json={"state": "processing"}))
    ok(client.post(f"/api/v1/dossiers/{code}/status", headers=bearer(token),
                   json={"state": "ready", "place": "Quầy 2"}))
    res = client.post(f"/api/v1/dossiers/{code}/status", headers=bearer(token), json={
        "state": "returned", "collected_by": {"name": "Lê Văn Cường", "id_number": "1",
                                             "authorisation": "con"}})
    assert res.status_code == 422 and res.get_json()["error"]["code"] == "invalid_collector"
    body = ok(client.post(f"/api/v1/dossiers/{code}/status", headers=bearer(token),
                          json={"state": "returned"}))
    assert body["events"][-1]["details"]["collected_by"] == {"by_applicant": True, "name": NAME}


def test_the_tracking_book_takes_the_same_search(client, desk):
    other = receive(client, desk["token"], name="Trần Văn Bình")["code"]
    html = client.get("/counter/book?service_id=1&q=nguyen+anh").get_data(as_text=True)
    assert desk["code"] in html and other not in html and "1 hồ sơ" in html
    assert 'name="q" value="nguyen anh"' in html
    html = client.get("/counter/book?service_id=1&q=0987").get_data(as_text=True)
    assert "Chưa có hồ sơ nào trong sổ." in html
    post(client, desk, "process")
    html = client.get("/counter/book?service_id=1&state=processing").get_data(as_text=True)
    assert desk["code"] in html and other not in html
    html = client.get("/counter/book?service_id=1").get_data(as_text=True)
    assert desk["code"] in html and other in html and "2 hồ sơ" in html
    for n in range(51):  # a page of the book holds 50 lines
        receive(client, desk["token"], name=f"Lê Thị Hoa {n}")
    html = client.get("/counter/book?service_id=1&q=le+thi+hoa").get_data(as_text=True)
    assert "51 hồ sơ" in html and "trang 1/2" in html
    assert "q=le+thi+hoa" in html  # the next page keeps the search
    html = client.get("/counter/book?service_id=1&q=le+thi+hoa&page=2").get_data(as_text=True)
    assert html.count("Lê Thị Hoa") == 1 and "Lê Thị Hoa 50" in html


def test_the_workstation_links_the_dossier_desk(client, desk):
    html = client.get("/counter/").get_data(as_text=True)
    assert 'href="/counter/dossiers"' in html and "Tra cứu, xử lý hồ sơ" in html
