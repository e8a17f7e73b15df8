"""The printed slip tells the place in the real call order and the priority class (issue 17,
item 1), and never "under a minute" while no counter of the field is open (item 6)."""

from __future__ import annotations

from typing import Any

from PIL import ImageChops

from hardware.printing import render
from hardware.printing.fakeprinter import FakePrinter, decode
from onestop.printing import dispatch
from tests.api.helpers import act
from tests.conftest import bearer, token_for
from tests.printing.conftest import add_printing_device


def capture_slips(monkeypatch) -> list[Any]:
    """The slips the kiosk prints, as they go to the renderer (the real one still runs)."""
    slips: list[Any] = []
    real = dispatch.ticket_job

    def recording(slip, **kwargs):
        slips.append(slip)
        return real(slip, **kwargs)

    monkeypatch.setattr(dispatch, "ticket_job", recording)
    return slips


def printed_matches(data: bytes, slip: Any) -> bool:
    """The raster the printer received is the rendering of ``slip``."""
    page = decode(data).page()
    expected = render.render_ticket(slip).convert("1")
    return page is not None and page.size == expected.size and ImageChops.difference(
        page.convert("1"), expected).getbbox() is None


def kiosk_issue(client, token: str, priority: str = "none") -> dict[str, Any]:
    res = client.post("/api/v1/tickets", json={"service_id": 1, "priority": priority},
                      headers=bearer(token))
    assert res.status_code == 201, res.get_data(as_text=True)[:300]
    return dict(res.get_json())


def test_the_slip_of_an_elderly_citizen_behind_normal_tickets(app, client, printer: FakePrinter,
                                                              monkeypatch):
    slips = capture_slips(monkeypatch)
    token, _ = add_printing_device(app, "kiosk", "Ki-ốt sảnh", printer.uri)
    clerk = token_for(client, "clerk1")
    for _ in range(3):
        kiosk_issue(client, token)
    act(client, clerk, 1, "open")
    body = kiosk_issue(client, token, priority="elderly")
    assert body["waiting_ahead"] == 0
    data = printer.wait_for_jobs(4)[3]
    words = render.ticket_lines(slips[3])
    assert words["ahead"] == "Số người đang chờ trước Quý công dân: 0"
    assert words["priority"] == "Ưu tiên: Người cao tuổi"
    assert words["wait"] == "Thời gian chờ dự kiến: dưới 1 phút"
    assert printed_matches(data, slips[3])
    # a normal slip has no priority line
    assert render.ticket_lines(slips[0])["priority"] == ""


def test_the_slip_says_no_counter_is_open_instead_of_a_time(app, client, printer: FakePrinter,
                                                            monkeypatch):
    slips = capture_slips(monkeypatch)
    token, _ = add_printing_device(app, "kiosk", "Ki-ốt sảnh", printer.uri)
    kiosk_issue(client, token)
    data = printer.wait_for_jobs(1)[0]
    words = render.ticket_lines(slips[0])
    assert words["wait"] == "Chưa có quầy nào đang phục vụ lĩnh vực này"
    assert "dưới 1 phút" not in " ".join(words.values())
    assert printed_matches(data, slips[0])
