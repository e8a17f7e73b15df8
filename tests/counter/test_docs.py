"""GET /api/v1/dossiers/{code}/receipt|supplement|refusal|apology.pdf: BM.01-04."""

from __future__ import annotations

from typing import Any

import pytest

from onestop.api.dossier_docs import ascii_filename, supplement_items
from tests.api.helpers import add_device, add_integration_user, assert_error
from tests.conftest import bearer
from tests.counter.conftest import NAME, pdf_text, receive

pytestmark = pytest.mark.usefixtures("frozen")


def _get(client: Any, url: str, token: str | None) -> Any:
    return client.get(url, headers=bearer(token) if token else {})


def _is_pdf(res: Any, form: str, code: str) -> str:
    assert res.status_code == 200, res.get_data(as_text=True)[:300]
    assert res.mimetype == "application/pdf"
    assert res.data.startswith(b"%PDF-")
    disposition = res.headers["Content-Disposition"]
    assert disposition == f'inline; filename="{form}-{code}.pdf"'
    assert disposition.isascii()
    assert "no-store" in res.headers["Cache-Control"]
    return pdf_text(res.data)


def test_receipt_holds_the_code_the_applicant_and_the_appointment(client, clerk):
    dossier = receive(client, clerk)
    assert dossier["receipt_url"] == f"/api/v1/dossiers/{dossier['code']}/receipt.pdf"
    text = _is_pdf(_get(client, dossier["receipt_url"], clerk), "BM01", dossier["code"])
    assert dossier["code"] in text
    assert NAME in text
    assert "GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ" in text
    assert "Đăng ký khai sinh" in text and "Trần Văn An" in text  # procedure, receiving clerk
    assert "17 giờ 00 phút, ngày 23 tháng 11 năm 2026" in text  # same-day: due at closing
    assert "TPHT/2026" in text  # the tracking book's volume


def test_forms_need_staff_or_integration(app, client, clerk):
    dossier = receive(client, clerk)
    url = dossier["receipt_url"]
    assert_error(_get(client, url, None), 401, "unauthorized")
    kiosk = add_device(app, "kiosk")
    assert_error(_get(client, url, kiosk), 401, "unauthorized")
    integration = add_integration_user(app, client)
    assert _get(client, url, integration).status_code == 200


def test_unknown_or_absurd_code_is_404(client, clerk):
    assert_error(_get(client, "/api/v1/dossiers/H56.12.3-261123-9999/receipt.pdf", clerk), 404,
                 "dossier_not_found")
    assert_error(_get(client, "/api/v1/dossiers/" + "X" * 300 + "/receipt.pdf", clerk), 404,
                 "dossier_not_found")


def _status(client: Any, token: str, code: str, state: str, note: str = "") -> None:
    res = client.post(f"/api/v1/dossiers/{code}/status", json={"state": state, "note": note},
                      headers=bearer(token))
    assert res.status_code == 200, res.get_data(as_text=True)


def test_supplement_form_only_after_a_supplement_request(client, clerk):
    code = receive(client, clerk)["code"]
    url = f"/api/v1/dossiers/{code}/supplement.pdf"
    assert_error(_get(client, url, clerk), 404, "form_not_available")
    _status(client, clerk, code, "supplement_requested",
            "1. Bản sao giấy chứng sinh có chứng thực\n- Tờ khai có chữ ký của người đi đăng ký\n"
            "Lý do: giấy chứng sinh là bản chụp")
    text = _is_pdf(_get(client, url, clerk), "BM02", code)
    assert "PHIẾU YÊU CẦU BỔ SUNG, HOÀN THIỆN HỒ SƠ" in text
    assert code in text and NAME in text
    assert "Bản sao giấy chứng sinh có chứng thực" in text
    assert "Tờ khai có chữ ký của người đi đăng ký" in text
    assert "giấy chứng sinh là bản chụp" in text


def test_refusal_form_only_for_a_rejected_dossier(client, clerk):
    code = receive(client, clerk)["code"]
    url = f"/api/v1/dossiers/{code}/refusal.pdf"
    assert_error(_get(client, url, clerk), 404, "form_not_available")
    _status(client, clerk, code, "rejected", "Không thuộc thẩm quyền giải quyết của xã")
    text = _is_pdf(_get(client, url, clerk), "BM03", code)
    assert "PHIẾU TỪ CHỐI TIẾP NHẬN GIẢI QUYẾT HỒ SƠ" in text
    assert "Không thuộc thẩm quyền giải quyết của xã" in text and code in text


def test_apology_form_only_after_an_apology(client, clerk):
    code = receive(client, clerk)["code"]  # due today 17:00: an apology may be given
    url = f"/api/v1/dossiers/{code}/apology.pdf"
    assert_error(_get(client, url, clerk), 404, "form_not_available")
    res = client.post(f"/api/v1/dossiers/{code}/apology",
                      json={"new_appointment": "2026-11-25", "reason": "Chờ xác minh thông tin hộ tịch"},
                      headers=bearer(clerk))
    assert res.status_code == 200, res.get_data(as_text=True)
    text = _is_pdf(_get(client, url, clerk), "BM04", code)
    assert "PHIẾU XIN LỖI VÀ HẸN LẠI NGÀY TRẢ KẾT QUẢ" in text
    assert "Chờ xác minh thông tin hộ tịch" in text and "17:00 ngày 25/11/2026" in text


def test_supplement_note_lines_become_items_and_reason():
    items, reason = supplement_items("1) Giấy A\n\n  • Giấy B \n2. Giấy C\nLy do: thiếu bản chính")
    assert items == ["Giấy A", "Giấy B", "Giấy C"]
    assert reason == "thiếu bản chính"


def test_filenames_are_ascii():
    assert ascii_filename("BM01", "H56.12.3-261123-0001") == "BM01-H56.12.3-261123-0001.pdf"
    assert ascii_filename("BM01", 'Hà "x"/y') == "BM01-H_x_y.pdf"
