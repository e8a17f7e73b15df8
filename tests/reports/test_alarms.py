"""The dashboard's printer and device alarms are Vietnamese sentences naming the device
(English with ?lang=en), with times in the unit's timezone; what a driver said (an
exception text) never reaches the manager."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlalchemy import select

from onestop.accounts.engine import add_device
from onestop.extensions import db
from onestop.printing import service
from onestop.units.models import Unit
from tests.conftest import bearer, token_for

DRIVER_SAID = "ConnectionRefusedError: [Errno 111] Connection refused"


def make_alarms(app: Any) -> dt.datetime:
    """A kiosk printer that does not answer, one out of paper, one near its end, a print
    agent not answering, and a hall display silent for 40 minutes; the moment that display
    was last seen."""
    now = dt.datetime.now(dt.UTC)
    seen = now - dt.timedelta(minutes=40)
    with app.app_context():
        session = db.session()
        unit = session.scalars(select(Unit)).one()
        hall, _t, _c = add_device(session, unit, "kiosk", "Ki-ốt sảnh", now=now, printer_uri="tcp://10.0.0.9:9100")
        floor, _t, _c = add_device(session, unit, "kiosk", "Tầng 2", now=now, printer_uri="tcp://10.0.0.8:9100")
        agent, _t, _c = add_device(session, unit, "agent", "Máy in quầy 5", now=now)
        third, _t, _c = add_device(session, unit, "kiosk", "Ki-ốt 3", now=now, printer_uri="tcp://10.0.0.7:9100")
        display, _t, _c = add_device(session, unit, "display", "Sảnh chính", now=now)
        service.store_status(session, hall, "offline", DRIVER_SAID, now)
        service.store_status(session, floor, "paper_out", "OSError: paper sensor 0x12", now)
        service.store_status(session, third, "paper_near_end", "", now)
        service.store_status(session, agent, "offline", "TimeoutError: timed out", now)
        display.last_seen_at = seen
        for device in (hall, floor, third):
            device.last_seen_at = now
        session.commit()
    return seen


def messages(client: Any, lang: str = "vi") -> tuple[list[str], dict[str, Any]]:
    res = client.get(f"/api/v1/dashboard?lang={lang}", headers=bearer(token_for(client, "manager")))
    assert res.status_code == 200
    body = res.get_json()
    return body["alarms"]["messages"], body


def test_alarms_are_sentences_that_name_the_device(app, client):
    seen = make_alarms(app)
    local = seen.astimezone(dt.timezone(dt.timedelta(hours=7)))
    found, body = messages(client)
    assert "Máy in ki-ốt sảnh không phản hồi" in found
    assert "Máy in ki-ốt tầng 2 hết giấy" in found
    assert "Máy in ki-ốt 3 sắp hết giấy" in found
    assert "Máy in quầy 5 không phản hồi" in found
    silent = f"Màn hình sảnh chính mất kết nối từ {local:%H:%M}"
    if local.date() != dt.datetime.now(local.tzinfo).date():
        silent += f" ngày {local:%d/%m/%Y}"
    assert silent in found
    text = json.dumps(body["alarms"], ensure_ascii=False)
    assert "Error" not in text and "Errno" not in text and "0x12" not in text and "timed out" not in text
    assert body["unit"]["timezone"] == "Asia/Ho_Chi_Minh"


def test_alarms_in_english(app, client):
    make_alarms(app)
    found, _body = messages(client, "en")
    assert "Printer of kiosk tầng 2 is out of paper" in found
    assert "Printer of ki-ốt 3 is running out of paper" in found  # the name stays the name
    assert "Máy in quầy 5 is not responding" in found
    assert any(m.startswith("Display sảnh chính has been offline since ") for m in found)


def test_the_live_printer_alarm_is_a_sentence_without_the_driver_text(app, client):
    """A printer check finds the kiosk's printer dead: staff screens (the printers page and
    the dashboard listen to printer.alarm) get "Máy in ki-ốt sảnh không phản hồi"; the
    connection error stays in the log."""
    from tests.printing.conftest import alarms, staff_socket

    with app.app_context():
        session = db.session()
        unit = session.scalars(select(Unit)).one()
        add_device(session, unit, "kiosk", "Ki-ốt sảnh", now=dt.datetime.now(dt.UTC),
                   printer_uri="tcp://127.0.0.1:9")  # nothing listens: refused at once
        session.commit()
    staff = staff_socket(app)
    res = client.post("/api/v1/printers/check", headers=bearer(token_for(client, "manager")))
    assert res.status_code == 200
    [alarm] = [a for a in alarms(staff) if a["device"]["name"] == "Ki-ốt sảnh"]
    assert alarm["message"] == "Máy in ki-ốt sảnh không phản hồi"
    assert "detail" not in alarm
    text = json.dumps(alarm, ensure_ascii=False)
    assert "Error" not in text and "Errno" not in text and "refused" not in text
