"""A dossier's applicant gets "hồ sơ đã có kết quả" by e-mail (a real SMTP server) and SMS;
addresses are erased at day close (tickets) and by the privacy purge (dossiers), and staff
only ever see them masked."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select

from onestop import privacy
from onestop.db import utcnow
from onestop.dossiers.models import Dossier
from onestop.notify.models import NotifyMessage, NotifySubscription
from onestop.queueing import engine as queueing
from tests.api.helpers import in_db, unit_of
from tests.conftest import token_for
from tests.dossiers.conftest import APPLICANT_JSON, THREE_DAYS
from tests.notifications.conftest import clerk, first_counter, messages, send_due
from tests.notifications.test_ticket_messages import issue, subscribe


def receive(client: Any, headers: dict[str, str]) -> str:
    body = {"procedure_code": THREE_DAYS, "applicant": dict(APPLICANT_JSON),
            "documents": [{"name": "Giấy đề nghị", "count": 1}]}
    res = client.post("/api/v1/dossiers", json=body, headers=headers)
    assert res.status_code == 201, res.get_json()
    return str(res.get_json()["code"])


def status(client: Any, headers: dict[str, str], code: str, state: str) -> None:
    res = client.post(f"/api/v1/dossiers/{code}/status", json={"state": state}, headers=headers)
    assert res.status_code == 200, res.get_json()


def test_dossier_ready_by_email_and_sms(notify_app, client, gateway, smtp):
    headers = {"Authorization": f"Bearer {token_for(client, 'clerk1')}"}
    code = receive(client, headers)
    status(client, headers, code, "processing")
    send_due(notify_app)
    assert smtp.messages == [] and gateway.received("/sms") == []  # nothing to say yet
    status(client, headers, code, "ready")
    result = send_due(notify_app)
    assert result.sent == 2
    (mail,) = smtp.messages
    assert mail["To"] == "an@example.vn" and mail["From"] == "motcua@example.vn"
    text = mail.get_content()
    assert f"hồ sơ {code} đã có kết quả" in text and f"/lookup/{code}?k=" in text
    assert "Trung tâm Phục vụ hành chính công" in mail["Subject"]
    (sms,) = gateway.received("/sms")
    assert sms["to"] == "+84912345678" and f"ho so {code} da co ket qua" in sms["text"]
    listed = client.get(f"/api/v1/notifications?dossier_code={code}", headers=headers).get_json()
    assert sorted(m["to"] for m in listed["messages"]) == ["+84 91*****78", "a***@example.vn"]
    assert {m["state"] for m in listed["messages"]} == {"sent"}
    assert "an@example.vn" not in str(listed) and "912345678" not in str(listed)


def test_day_close_and_the_privacy_purge_erase_the_addresses(notify_app, client, gateway):
    counter_id, _n, service_id = first_counter(notify_app)
    headers = clerk(client, counter_id)
    ticket, _other = issue(client, headers, service_id, 2)
    assert subscribe(client, ticket["id"]).status_code == 201
    code = receive(client, headers)
    with in_db(notify_app) as session:
        assert session.scalar(select(NotifySubscription.id).where(NotifySubscription.subject == "dossier"))
        unit = unit_of(session)
        queueing.close_day(session, unit, now=utcnow())
    with in_db(notify_app) as session:
        subs = session.scalars(select(NotifySubscription)).all()
        assert {s.subject for s in subs} == {"dossier"}  # the ticket's phone is gone
        near = session.scalars(select(NotifyMessage).where(NotifyMessage.event == "ticket.near")).one()
        assert (near.subscription_id, near.state, near.masked) == (None, "dropped", "+84 91*****78")
        dossier = session.scalars(select(Dossier).where(Dossier.code == code)).one()
        dossier.state, dossier.closed_at = "returned", utcnow() - dt.timedelta(days=400)
    with in_db(notify_app) as session:
        privacy.purge(session, utcnow())
    with in_db(notify_app) as session:
        assert session.scalars(select(NotifySubscription)).all() == []
    assert send_due(notify_app).sent == 0 and gateway.received("/sms") == []
    assert all("912345678" not in str(m.data) for m in messages(notify_app))
