"""Sample unit and dossier for the legal-form PDFs, and helpers to read a PDF back."""

from __future__ import annotations

import datetime as dt
import io
import re
import unicodedata
from zoneinfo import ZoneInfo

import pytest
from PIL import Image

from onestop.dossiers.forms import DossierInfo, UnitInfo

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
CODE = "H56.12.3-261123-0042"
NAME = "Nguyễn Thị Ánh Tuyết"
LOOKUP = f"http://192.168.1.10:8000/lookup/{CODE}?k=Zx81kQ2mAb"
# 02:05 UTC is 09:05 in Hà Nội: the forms must print local time.
RECEIVED = dt.datetime(2026, 11, 23, 2, 5, tzinfo=dt.UTC)
APPOINTMENT = dt.datetime(2026, 11, 26, 9, 0, tzinfo=TZ)
DOCUMENTS = (
    ("Tờ khai đăng ký khai sinh (theo mẫu)", 1),
    ("Giấy chứng sinh do cơ sở y tế cấp", 1),
    ("Văn bản ủy quyền có chứng thực (trường hợp ủy quyền)", 2),
)


@pytest.fixture
def unit() -> UnitInfo:
    return UnitInfo(name="Trung tâm Phục vụ hành chính công xã Hòa Bình",
                    parent_name="Ủy ban nhân dân xã Hòa Bình", address="Số 1 đường Lê Lợi, xã Hòa Bình",
                    code="H56.12.3", place="Hòa Bình", phone="0210 3812 345")


@pytest.fixture
def dossier() -> DossierInfo:
    return DossierInfo(
        code=CODE, number_in_book=125, book_volume="03", procedure_name="Đăng ký khai sinh",
        service_name="Tư pháp – Hộ tịch", applicant_name=NAME, applicant_id_number="001190012345",
        applicant_phone="0912 345 678", applicant_email="anhtuyet@example.vn",
        applicant_address="Thôn Đồng Tâm, xã Hòa Bình, tỉnh Phú Thọ", documents=DOCUMENTS, legal_days=3,
        received_at=RECEIVED, appointment_at=APPOINTMENT, return_place="Quầy số 3",
        clerk_name="Trần Văn Bình", lookup_url=LOOKUP)


def pdf_text(data: bytes) -> str:
    """All pages' text, NFC, every run of whitespace made one space."""
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data))
    text = "\n".join(page.extract_text() or "" for page in reader.pages)
    return re.sub(r"\s+", " ", unicodedata.normalize("NFC", text))


def page_count(data: bytes) -> int:
    from pypdf import PdfReader

    return len(PdfReader(io.BytesIO(data)).pages)


def rasterise(data: bytes, page: int = 0, scale: float = 3.0) -> Image.Image:
    """One page as a Pillow image (scale 3 is about 216 dpi)."""
    import pypdfium2

    document = pypdfium2.PdfDocument(data)
    try:
        return document[page].render(scale=scale).to_pil()
    finally:
        document.close()
