"""The public procedure catalogue: browse by field, search without diacritics."""

from __future__ import annotations

import re

from onestop.dossiers.models import Procedure
from tests.api.helpers import in_db, update_row


def names(html: str) -> list[str]:
    return re.findall(r'<span class="row-name">([^<]+)</span>', html)


def search(client, text: str, **extra) -> list[str]:
    res = client.get("/kiosk/procedures", query_string={"q": text, **extra})
    assert res.status_code == 200
    return names(res.get_data(as_text=True))


def test_search_needs_no_diacritics(client):
    assert search(client, "khai sinh") == ["Đăng ký khai sinh"]
    assert search(client, "KHAI SINH") == ["Đăng ký khai sinh"]
    assert search(client, "đăng ký khai sinh") == ["Đăng ký khai sinh"]
    found = search(client, "dang ky")
    assert "Đăng ký khai sinh" in found and "Đăng ký kết hôn" in found
    assert "Đăng ký thành lập hộ kinh doanh" in found
    assert search(client, "  sinh   khai ") == ["Đăng ký khai sinh"]  # any order
    assert search(client, "1.001193") == ["Đăng ký khai sinh"]  # the national code
    assert search(client, "dat dai") == ["Hòa giải tranh chấp đất đai"]
    assert search(client, "100%_") == []
    html = client.get("/kiosk/procedures?q=zzzz").get_data(as_text=True)
    assert "Không tìm thấy thủ tục phù hợp" in html


def test_search_ranks_names_starting_with_the_words_first(app, client):
    with in_db(app) as session:
        for code, name in (("9.1", "Xác nhận sinh con để khai báo"), ("9.2", "Khai sinh cho trẻ bị bỏ rơi")):
            proc = Procedure(unit_id=1, service_id=1, code=code, name=name, documents=[])
            proc.refresh_search()
            session.add(proc)
    assert search(client, "khai sinh") == [
        "Khai sinh cho trẻ bị bỏ rơi",  # starts with the words
        "Đăng ký khai sinh",  # holds them as a phrase
        "Xác nhận sinh con để khai báo",  # holds them apart
    ]


def test_browse_by_field_and_partial_results(client):
    html = client.get("/kiosk/procedures").get_data(as_text=True)
    assert "Hoặc chọn lĩnh vực" in html and "/kiosk/procedures?service=2" in html
    assert 'inputmode="none"' in html and 'data-key="q"' in html and 'data-key="back"' in html
    land = names(client.get("/kiosk/procedures?service=2").get_data(as_text=True))
    assert sorted(land) == ["Hòa giải tranh chấp đất đai", "Đăng ký biến động quyền sử dụng đất"]
    assert search(client, "dang ky", service=2) == ["Đăng ký biến động quyền sử dụng đất"]
    part = client.get("/kiosk/procedures?q=khai+sinh&partial=1").get_data(as_text=True)
    assert "<html" not in part and "Đăng ký khai sinh" in part
    # an unknown or foreign field id is ignored, not an error
    assert client.get("/kiosk/procedures?service=9999&q=khai+sinh").status_code == 200


def test_inactive_procedures_are_hidden(app, client):
    with in_db(app) as session:
        birth = session.query(Procedure).filter_by(code="1.001193").one()
        birth_id = birth.id
    update_row(app, Procedure, birth_id, active=False)
    assert search(client, "khai sinh") == []
    assert client.get(f"/kiosk/procedures/{birth_id}").status_code == 404


def test_procedure_page(client):
    html = client.get("/kiosk/procedures/1").get_data(as_text=True)
    assert "Đăng ký khai sinh" in html and "1.001193" in html and "Tư pháp – Hộ tịch" in html
    for doc in ("Tờ khai đăng ký khai sinh", "Giấy chứng sinh", "Giấy tờ tùy thân của người đi đăng ký"):
        assert doc in html
    assert "Thành phần hồ sơ" in html and "Trong ngày" in html and "Miễn phí" in html
    # where to submit: the counters serving Tư pháp – Hộ tịch
    assert [int(n) for n in re.findall(r"Quầy số (\d+)<", html)] == [1, 2, 8]
    assert "/kiosk/field/1?procedure=1" in html
    building = client.get("/kiosk/procedures/9").get_data(as_text=True)
    assert "15 ngày làm việc" in building and "75.000 đồng" in building
    assert client.get("/kiosk/procedures/999").status_code == 404
    assert client.get("/kiosk/procedures/99999999999999999").status_code == 404


def test_names_are_escaped(app, client):
    with in_db(app) as session:
        proc = session.get(Procedure, 1)
        proc.name = "<script>alert(1)</script> khai sinh"
        proc.refresh_search()
    html = client.get("/kiosk/procedures?q=khai+sinh").get_data(as_text=True)
    assert "<script>alert" not in html and "&lt;script&gt;" in html
