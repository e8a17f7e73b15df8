"""The public ticket page /t/<id>?k=: the printed QR's target on a phone."""

from __future__ import annotations

from onestop.tokens import ticket_token
from tests.api.helpers import act
from tests.conftest import bearer, token_for


def issue(app, client) -> dict:
    token = token_for(client, "clerk1")
    res = client.post("/api/v1/tickets", json={"service_id": 1}, headers=bearer(token))
    assert res.status_code == 201
    return dict(res.get_json())


def test_good_token_shows_the_ticket(app, client):
    first = issue(app, client)
    second = issue(app, client)
    k = ticket_token(app.config["SECRET_KEY"], second["id"])
    phone = app.test_client()
    res = phone.get(f"/t/{second['id']}?k={k}")
    assert res.status_code == 200
    html = res.get_data(as_text=True)
    assert "A002" in html and "Tư pháp – Hộ tịch" in html and "Đang chờ" in html
    assert 'id="tp-ahead">1<' in html  # A001 is ahead
    assert "khoảng" in html and "phút" in html
    assert res.headers["Referrer-Policy"] == "no-referrer"
    assert "socket.io.min.js" in html and "kiosk/ticket.js" in html
    # called: the state says where to go
    token = token_for(client, "clerk1")
    act(client, token, 1, "open")
    act(client, token, 1, "call-next")  # A001
    act(client, token, 1, "call-next")  # A002
    html = phone.get(f"/t/{second['id']}?k={k}").get_data(as_text=True)
    assert "Đã đến lượt — mời đến quầy số 1" in html
    act(client, token, 1, "skip")
    assert "Vắng mặt" in phone.get(f"/t/{second['id']}?k={k}").get_data(as_text=True)
    k1 = ticket_token(app.config["SECRET_KEY"], first["id"])
    assert "Đã phục vụ" in phone.get(f"/t/{first['id']}?k={k1}").get_data(as_text=True)


def test_forged_or_missing_token_is_the_same_404_as_an_unknown_id(app, client):
    ticket = issue(app, client)
    phone = app.test_client()
    good = ticket_token(app.config["SECRET_KEY"], ticket["id"])
    unknown = phone.get(f"/t/999?k={ticket_token(app.config['SECRET_KEY'], 999)}")
    forged = phone.get(f"/t/{ticket['id']}?k={'A' * len(good)}")
    other = phone.get(f"/t/{ticket['id']}?k={ticket_token(app.config['SECRET_KEY'], 999)}")
    missing = phone.get(f"/t/{ticket['id']}")
    huge = phone.get(f"/t/99999999999999999999?k={good}")
    bodies = {r.get_data(as_text=True) for r in (unknown, forged, other, missing, huge)}
    assert [r.status_code for r in (unknown, forged, other, missing, huge)] == [404] * 5
    assert len(bodies) == 1
    assert "Không tìm thấy phiếu số thứ tự" in bodies.pop()


def test_english_page(app, client):
    ticket = issue(app, client)
    k = ticket_token(app.config["SECRET_KEY"], ticket["id"])
    html = app.test_client().get(f"/t/{ticket['id']}?k={k}&lang=en").get_data(as_text=True)
    assert "Justice – Civil status" in html and f"k={k}&amp;lang=vi" in html
