"""The security matrix's rows for messages (issue 21) and the tickets they use
(tests/security/matrix.py takes both)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update

from onestop.db import utcnow
from onestop.extensions import db
from onestop.notify.models import NotifyMessage
from onestop.queueing import engine as queue
from onestop.queueing.engine import Actor
from onestop.queueing.models import Service
from onestop.tokens import ticket_token
from onestop.units.models import Unit

API = "/api/v1"
#: the walk's apps have an SMS gateway on a port nothing answers (their loop never runs)
CONFIG = {"SMS_URL": "http://127.0.0.1:9/sms", "NOTIFY_WORKER": False}


def add_notify(app: Any) -> dict[str, Any]:
    """Two waiting tickets at the back of the line: one subscribed with its key, one by staff."""
    with app.app_context():
        session = db.session()
        now = utcnow()
        unit = session.scalars(select(Unit).order_by(Unit.id)).one()
        svc = session.scalars(select(Service).where(Service.unit_id == unit.id,
                                                    Service.code == "TPHT")).one()
        made = [queue.issue_ticket(session, unit, svc, actor=Actor(), now=now, source="counter",
                                   always_open=True) for _ in range(2)]
        session.commit()
        secret = str(app.config["SECRET_KEY"])
        return {"tn": made[0].id, "tn_k": ticket_token(secret, made[0].id), "tn_staff": made[1].id}


def notify_cases(case: Any, everyone: Any, users: Any, pages: Any, but: Any) -> list[Any]:
    tid = f"{API}/tickets/<int:ticket_id>"
    staff = ("clerk", "manager", "admin")
    return [
        case(f"POST {tid}/notify", f"{API}/tickets/{{tn}}/notify", everyone(),
             json={"k": "{tn_k}", "phone": "0912345678"}, note="the ticket page's key is the proof"),
        case(f"POST {tid}/notify", f"{API}/tickets/{{tn_staff}}/notify",
             but(everyone("404"), clerk="ok", manager="ok", admin="ok", integration="403"),
             json={"phone": "0912345679"},
             note="no key: staff of the unit (or the issuing kiosk); anyone else cannot tell it exists"),
        case(f"GET {API}/notifications", f"{API}/notifications", users(*staff), query={"ticket_id": "{tn}"}),
        case("GET /admin/notifications", "/admin/notifications", pages("manager", "admin")),
        case("POST /admin/notifications/retry", "/admin/notifications/retry", pages("admin"), json={},
             form=True),
        case("GET /admin/notifications/templates", "/admin/notifications/templates", pages("admin")),
        case("POST /admin/notifications/templates", "/admin/notifications/templates", pages("admin"),
             json={"action": "preview"}, form=True),
    ]


def wall_dead_message(client: Any, b: dict[str, Any], _objs: dict[str, Any], tag: str) -> dict[str, Any]:
    """tests/backoffice/test_unit_walls.py: a dead message in B for "Gửi lại" to send again."""
    from onestop.notify import engine as notify

    app = client.application
    with app.app_context():
        session = db.session()
        unit = session.get(Unit, b["unit"])
        now = utcnow()
        sub, _ = notify.subscribe(session, unit, "dossier", 990000 + len(tag), "0912345678",
                                  business_date=unit.business_date(now), now=now)
        notify.queue(session, sub, "dossier.ready", {"code": "X"}, dedup=f"wall:{tag}", now=now)
        session.execute(update(NotifyMessage).where(NotifyMessage.subscription_id == sub.id)
                        .values(state="dead"))
        session.commit()
    return {}


def wall_templates(_client: Any, _b: dict[str, Any], _objs: dict[str, Any], tag: str) -> dict[str, Any]:
    return {"action": "save", "ticket.near.vi": "{unit}: số {label}, còn {ahead} người (" + tag + ")"}
