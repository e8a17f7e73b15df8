"""The applicant's ID number (CCCD 12 digits, old CMND 9) and Vietnamese mobile number, and
how each document was handed in: checked by the API with Vietnamese messages, the intake
page carrying the very same patterns, BM.01 printing the "Hình thức" column."""

from __future__ import annotations

import re
from typing import Any

import pytest

from onestop.dossiers.engine import ID_NUMBER_PATTERN, MOBILE_PATTERN
from tests.api.helpers import assert_error, ok
from tests.conftest import bearer
from tests.counter.conftest import NAME, SAME_DAY, pdf_text, sign_in

APPLICANT = {"name": NAME, "id_number": "001203004005", "phone": "0912345678"}


def _post(client: Any, token: str, documents: Any = None, **applicant: Any) -> Any:
    body: dict[str, Any] = {"procedure_code": SAME_DAY, "applicant": {**APPLICANT, **applicant}}
    if documents is not None:
        body["documents"] = documents
    return client.post("/api/v1/dossiers", json=body, headers=bearer(token))


@pytest.mark.parametrize("id_number", ["001203004005", "123456789"])
def test_cccd_and_old_cmnd_numbers_are_accepted(client, clerk, frozen, id_number):
    assert ok(_post(client, clerk, id_number=id_number), 201)["applicant"]["id_number"] == id_number


@pytest.mark.parametrize("id_number", ["1234567890", "12345678901", "12345678", "1234567890123",
                                       "12345678a", "١٢٣٤٥٦٧٨٩"])
def test_other_id_numbers_are_refused_in_vietnamese(client, clerk, frozen, id_number):
    error = assert_error(_post(client, clerk, id_number=id_number), 422, "invalid_applicant")
    assert error["field"] == "id_number"
    assert error["message"] == "Số CCCD gồm 12 chữ số (CMND cũ: 9 chữ số)."


@pytest.mark.parametrize("phone,stored", [
    ("0912345678", "0912345678"), ("+84 912 345 678", "0912345678"), ("0387.654.321", "0387654321"),
    ("(+84) 86-123-4567", "0861234567"), ("0523456789", "0523456789"), ("0701234567", "0701234567")])
def test_vietnamese_mobile_numbers_are_normalised(client, clerk, frozen, phone, stored):
    assert ok(_post(client, clerk, phone=phone), 201)["applicant"]["phone"] == stored


@pytest.mark.parametrize("phone", ["091234567", "09123456789", "0212345678", "0112345678",
                                   "0612345678", "+84212345678", "84912345678", "912345678"])
def test_other_phone_numbers_are_refused_in_vietnamese(client, clerk, frozen, phone):
    error = assert_error(_post(client, clerk, phone=phone), 422, "invalid_applicant")
    assert error["field"] == "phone"
    assert error["message"].startswith("Số điện thoại di động gồm 10 chữ số")


def test_each_document_keeps_its_form_and_bm01_prints_it(client, clerk, frozen):
    documents = [{"name": "Tờ khai đăng ký khai sinh", "count": 1},
                 {"name": "Giấy chứng sinh", "count": 2, "form": "ban_sao"},
                 {"name": "Giấy tờ tùy thân", "count": 1, "form": "ban_chup"}]
    data = ok(_post(client, clerk, documents=documents), 201)
    assert [d["form"] for d in data["documents"]] == ["ban_chinh", "ban_sao", "ban_chup"]
    pdf = client.get(data["receipt_url"], headers=bearer(clerk))
    text = pdf_text(pdf.data)
    assert "Tên giấy tờ Hình thức Số lượng (bản)" in text
    assert "1 Tờ khai đăng ký khai sinh Bản chính 01" in text
    assert "2 Giấy chứng sinh Bản sao 02" in text and "3 Giấy tờ tùy thân Bản chụp 01" in text
    for bad in ("ban_goc", "", 1):
        assert_error(_post(client, clerk, documents=[{"name": "A", "form": bad}]), 422)


def test_the_intake_page_carries_the_servers_patterns(client):
    sign_in(client, "clerk1")
    page = client.get("/counter/").get_data(as_text=True)
    id_input = re.search(r'<input name="id_number"[^>]*>', page)
    phone_input = re.search(r'<input name="phone"[^>]*>', page)
    assert id_input and phone_input
    assert f'pattern="{ID_NUMBER_PATTERN}"' in id_input.group(0)
    assert 'inputmode="numeric"' in id_input.group(0) and 'maxlength="12"' in id_input.group(0)
    assert f'data-pattern="{MOBILE_PATTERN}"' in phone_input.group(0)
    assert 'type="tel"' in phone_input.group(0)
    assert "Hình thức" in page
