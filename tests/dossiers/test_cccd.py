"""The chip ID card's QR (CCCD): the parser's rules and POST /api/v1/applicants/from-cccd.

Good payloads fill the applicant; every kind of bad one (malformed, truncated, wrong length,
mangled digits, impossible dates) is refused with its own code and a Vietnamese message and
fills nothing; nothing of the scan is stored or logged."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

import pytest
from sqlalchemy import func, select

from onestop.audit.models import AuditEntry
from onestop.dossiers import cccd
from onestop.dossiers.models import Dossier
from onestop.ops.logs import redact
from tests.conftest import bearer, token_for

TODAY = dt.date(2026, 11, 23)
NAME = "Nguyễn Thị Ánh Tuyết"
ADDRESS = "Số 2, đường Lê Lợi, Phường Hoàn Kiếm, Hà Nội"
# 4th digit 3: a woman born in the 2000s; 5th-6th: born in '03
GOOD = f"001303004005|012345678|{NAME}|01022003|Nữ|{ADDRESS}|15082021"
URL = "/api/v1/applicants/from-cccd"


def test_a_good_card_is_read() -> None:
    card = cccd.parse(GOOD, TODAY)
    assert card == cccd.CccdCard(id_number="001303004005", old_id_number="012345678", name=NAME,
                                 birth_date=dt.date(2003, 2, 1), sex="Nữ", address=ADDRESS,
                                 issue_date=dt.date(2021, 8, 15))


@pytest.mark.parametrize("payload", [
    GOOD + "\r\n",  # a scanner's suffixes
    GOOD + "\n",
    GOOD + "\t",
    "001303004005||" + GOOD.split("|", 2)[2],  # no old CMND number
    GOOD.replace(NAME, "  Nguyễn  Thị Ánh   Tuyết "),  # blanks tidied
    GOOD.replace(NAME, "Nguye\u0302\u0303n Thị Ánh Tuyết"),  # decomposed: normalised to NFC
    "079099000123||Trần Văn Bình|01011999|Nam|Phường 1, Quận 3, TP Hồ Chí Minh|01012016",
])
def test_tolerated_variants(payload: str) -> None:
    card = cccd.parse(payload, TODAY)
    assert card.name in {NAME, "Trần Văn Bình"}
    assert card.id_number in {"001303004005", "079099000123"}


@pytest.mark.parametrize(("payload", "code"), [
    ("", "cccd_malformed"),
    ("001303004005", "cccd_malformed"),  # a bare number, no separator
    ("https://hcc.example.vn/lookup/X-261123-0001?k=abc", "cccd_malformed"),  # a receipt QR
    (GOOD + "|extra", "cccd_malformed"),
    (GOOD.replace("|Nữ|", "|N\x00ữ|"), "cccd_malformed"),  # control character inside
    ("x" * 1001, "cccd_malformed"),
    (GOOD.rsplit("|", 1)[0], "cccd_truncated"),  # the read stopped early
    ("|".join(GOOD.split("|")[:3]), "cccd_truncated"),
    (GOOD.replace("001303004005", "00130300400"), "cccd_id_number"),  # 11 digits
    (GOOD.replace("001303004005", "0013030040051"), "cccd_id_number"),  # 13 digits
    (GOOD.replace("001303004005", "00130300400O"), "cccd_id_number"),  # letter O for zero
    (GOOD.replace("012345678", "01234567"), "cccd_old_id_number"),
    (GOOD.replace(NAME, ""), "cccd_name"),
    (GOOD.replace(NAME, "Nguyễn 1"), "cccd_name"),
    (GOOD.replace(NAME, "<script>"), "cccd_name"),
    (GOOD.replace("01022003", "31022003"), "cccd_birth_date"),  # no 31 February
    (GOOD.replace("01022003", "2003-02-01"), "cccd_birth_date"),
    (GOOD.replace("01022003", "01011899"), "cccd_birth_date"),
    (GOOD.replace("|Nữ|", "|F|"), "cccd_sex"),
    (GOOD.replace(ADDRESS, ""), "cccd_address"),
    (GOOD.replace("15082021", "15082027"), "cccd_issue_date"),  # in the future
    (GOOD.replace("15082021", "15082001"), "cccd_issue_date"),  # before the birth
    (GOOD.replace("15082021", "1508202"), "cccd_issue_date"),
    (GOOD.replace("001303004005", "001304004005"), "cccd_inconsistent"),  # ID says born '04
    (GOOD.replace("001303004005", "001203004005"), "cccd_inconsistent"),  # ID says a man
    (GOOD.replace("001303004005", "001103004005"), "cccd_inconsistent"),  # ID says the 1900s
])
def test_bad_payloads_are_refused_with_their_reason(payload: str, code: str) -> None:
    with pytest.raises(cccd.CccdError) as refused:
        cccd.parse(payload, TODAY)
    assert refused.value.code == code
    assert refused.value.message == cccd.MESSAGES[code]


def test_birth_today_or_later_is_refused() -> None:
    payload = GOOD.replace("01022003", TODAY.strftime("%d%m%Y")).replace("15082021", "23112026")
    with pytest.raises(cccd.CccdError) as refused:
        cccd.parse(payload.replace("001303", "001326"), TODAY)
    assert refused.value.code == "cccd_birth_date"


# ------------------------------------------------------------------------------- the API


def _rows(session: Any) -> tuple[int, int]:
    return (session.scalar(select(func.count()).select_from(AuditEntry)),
            session.scalar(select(func.count()).select_from(Dossier)))


def test_the_api_fills_from_a_good_scan_and_refuses_a_bad_one_storing_and_logging_nothing(
        client: Any, session: Any, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("onestop.api.applicants.now",
                        lambda: dt.datetime(2026, 11, 23, 2, 0, tzinfo=dt.UTC))
    clerk = bearer(token_for(client, "clerk1"))
    before = _rows(session)
    caplog.set_level(logging.DEBUG)

    res = client.post(URL, json={"payload": GOOD + "\r\n"}, headers=clerk)
    assert res.status_code == 200, res.get_data(as_text=True)
    assert res.get_json() == {"name": NAME, "id_number": "001303004005", "old_id_number": "012345678",
                              "birth_date": "2003-02-01", "sex": "Nữ", "address": ADDRESS}
    assert res.headers["Cache-Control"] == "no-store"

    res = client.post(URL, json={"payload": GOOD.rsplit("|", 1)[0]}, headers=clerk)
    assert res.status_code == 422
    error = res.get_json()["error"]
    assert error["code"] == "cccd_truncated"
    assert error["message"] == "Dữ liệu quét từ thẻ căn cước bị thiếu (đọc chưa hết). Vui lòng quét lại."
    assert set(res.get_json()) == {"error"}  # nothing of the card comes back

    res = client.post(URL + "?lang=en", json={"payload": GOOD.replace("|Nữ|", "|F|")}, headers=clerk)
    assert res.status_code == 422 and res.get_json()["error"]["code"] == "cccd_sex"

    assert _rows(session) == before  # no audit entry, no dossier: the scan is not kept
    logged = "\n".join(f"{r.getMessage()} {r.args!r}" for r in caplog.records)
    for secret in ("001303004005", "012345678", "Tuyết", "Lê Lợi"):
        assert secret not in logged


def test_anonymous_and_malformed_bodies_are_refused(client: Any) -> None:
    assert client.post(URL, json={"payload": GOOD}).status_code == 401
    clerk = bearer(token_for(client, "clerk1"))
    assert client.post(URL, json={"payload": 5}, headers=clerk).status_code == 422
    assert client.post(URL, json={"payload": GOOD, "extra": 1}, headers=clerk).status_code == 422


def test_the_receipt_qr_keeps_the_id_number_out_of_the_access_log() -> None:
    # a scanned BM.01 QR typed into the public /lookup/ form arrives URL-encoded in ?code=
    scanned = ("/lookup/?code=https%3A%2F%2Fhcc.example.vn%2Flookup%2FH56-261123-0001%3Fk%3Dabcdefabcdef"
               "%23proc%3D1.001193%26id_number%3D001303004005%26doc%3DBM.01")
    line = redact(f"GET {scanned} HTTP/1.1")
    assert "001303004005" not in line and "abcdefabcdef" not in line
