"""Fixtures for the printing layer: a ticket, a fake network printer, a QR reader."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator
from zoneinfo import ZoneInfo

import pytest
from PIL import Image

from hardware.printing.fakeprinter import FakePrinter
from hardware.printing.render import TicketSlip

UNIT = "Trung tâm Phục vụ hành chính công xã Hòa Bình"
FIELD = "Tư pháp – Hộ tịch"
QR_URL = "http://192.168.1.10:8000/tickets/1025?k=Zx81kQ2m"


@pytest.fixture
def slip() -> TicketSlip:
    issued = dt.datetime(2026, 11, 23, 2, 5, tzinfo=dt.UTC).astimezone(ZoneInfo("Asia/Ho_Chi_Minh"))
    return TicketSlip(unit_name=UNIT, label="A1025", service_name=FIELD, waiting_ahead=12,
                      estimated_minutes=35, issued_at_local=issued, qr_url=QR_URL,
                      footer="Vui lòng chú ý màn hình và loa gọi số. Xin cảm ơn!")


@pytest.fixture
def slip58(slip: TicketSlip) -> TicketSlip:
    return dataclasses.replace(slip, paper_width=384)


@pytest.fixture
def printer() -> Iterator[FakePrinter]:
    with FakePrinter() as fake:
        yield fake


def read_qr(image: Image.Image) -> list[str]:
    import zxingcpp

    return [code.text for code in zxingcpp.read_barcodes(image.convert("L"))]
