"""Our dossier states and the national portal's status codes (TrangThaiHoSo), in one table,
and the record of a dossier in the portal's field names (service ``DongBoHoSoMC``).

The field names and the ten status codes follow the Government Office's guide for
connecting to the National Public Service Portal ("Tài liệu hướng dẫn kết nối, tích hợp,
chia sẻ dữ liệu với Cổng Dịch vụ công quốc gia") as implemented by provincial one-stop
systems; docs/provincial-link.md says which names were confirmed and how.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from onestop.dossiers.models import Dossier


def N_(text: str) -> str:
    """Mark a text for the translation catalogue without translating it here."""
    return text


#: our state -> the portal's TrangThaiHoSo (the one table; docs/provincial-link.md)
STATE_TO_PORTAL: dict[str, str] = {
    "received": "2",              # Được tiếp nhận
    "processing": "4",            # Đang xử lý
    "supplement_requested": "5",  # Yêu cầu bổ sung giấy tờ
    "ready": "9",                 # Đã xử lý xong
    "returned": "10",             # Đã trả kết quả
    "rejected": "8",              # Dừng xử lý (received here, then refused: BM.03)
    "withdrawn": "7",             # Công dân yêu cầu rút hồ sơ
}

#: the portal's codes, their labels, and the state of ours each reads as (for the page's
#: colours and the kiosk's offers); 1 (registered online), 3 (refused at the desk) and
#: 6 (financial obligation) have no state of their own here
PORTAL_STATUSES: dict[str, tuple[str, str]] = {
    "1": (N_("Mới đăng ký"), "received"),
    "2": (N_("Được tiếp nhận"), "received"),
    "3": (N_("Không được tiếp nhận"), "rejected"),
    "4": (N_("Đang xử lý"), "processing"),
    "5": (N_("Yêu cầu bổ sung giấy tờ"), "supplement_requested"),
    "6": (N_("Yêu cầu thực hiện nghĩa vụ tài chính"), "processing"),
    "7": (N_("Công dân yêu cầu rút hồ sơ"), "withdrawn"),
    "8": (N_("Dừng xử lý"), "rejected"),
    "9": (N_("Đã xử lý xong"), "ready"),
    "10": (N_("Đã trả kết quả"), "returned"),
}

#: the portal's date format (yyyyMMddHHmmss, local time of the centre)
PORTAL_DATE = "%Y%m%d%H%M%S"


def portal_code(state: str) -> str:
    """The portal's TrangThaiHoSo for one of our states."""
    return STATE_TO_PORTAL[state]


def portal_status(code: Any) -> tuple[str, str] | None:
    """``(label, our state)`` for a TrangThaiHoSo the province answered, or None if unknown."""
    return PORTAL_STATUSES.get(str(code).strip()) if code is not None else None


def portal_date(when: dt.datetime | None, tz: ZoneInfo) -> str:
    """A datetime in the portal's format, empty when there is none."""
    return when.astimezone(tz).strftime(PORTAL_DATE) if when else ""


def parse_portal_date(text: Any, tz: ZoneInfo) -> dt.datetime | None:
    """The portal's ``yyyyMMddHHmmss`` (or ``yyyyMMdd``) as an aware datetime; None if it is
    not one (a malformed answer shows no date rather than a wrong one)."""
    text = str(text or "").strip()
    for fmt in (PORTAL_DATE, "%Y%m%d"):
        try:
            return dt.datetime.strptime(text, fmt).replace(tzinfo=tz)
        except ValueError:
            continue
    return None


def finished_at(dossier: Dossier) -> dt.datetime | None:
    """NgayKetThucXuLy: when the office was done with it (result ready, or closed)."""
    if dossier.state in ("ready", "returned"):
        return dossier.ready_at or dossier.closed_at
    if dossier.state in ("rejected", "withdrawn"):
        return dossier.closed_at
    return None


def dossier_record(dossier: Dossier, unit_name: str, field: tuple[str, str], tz: ZoneInfo) -> dict[str, Any]:
    """The dossier in the portal's DongBoHoSoMC field names (``field``: our field's code and
    name). ``MaHoSo`` is the provincial code when the dossier is linked, else ours."""
    return {
        "MaHoSo": dossier.provincial_code or dossier.code,
        "MaTTHC": dossier.procedure.code,
        "TenTTHC": dossier.procedure.name,
        "MaLinhVuc": field[0],
        "TenLinhVuc": field[1],
        "SoBienNhan": dossier.code,  # our receipt (BM.01) number
        "KenhThucHien": "1",  # trực tiếp: received at the desk
        "ChuHoSo": dossier.applicant_name,
        "LoaiDoiTuong": "1",  # công dân
        "Email": dossier.applicant_email,
        "SoDienThoai": dossier.applicant_phone,
        "TrichYeuHoSo": dossier.procedure.name,
        "NgayTiepNhan": portal_date(dossier.received_at, tz),
        "NgayHenTra": portal_date(dossier.due_at, tz),
        "TrangThaiHoSo": portal_code(dossier.state),
        "NgayTra": portal_date(dossier.closed_at if dossier.state == "returned" else None, tz),
        "HinhThuc": "0",  # the result is handed over at the desk
        "NgayKetThucXuLy": portal_date(finished_at(dossier), tz),
        "DonViXuLy": unit_name,
        "GhiChu": dossier.supplement_note if dossier.state == "supplement_requested" else "",
    }
