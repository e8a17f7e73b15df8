"""Helpers for the dossier tests: the demo unit, its procedures, a valid applicant."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from onestop.dossiers.engine import Applicant, receive_dossier
from onestop.dossiers.models import Dossier, Procedure
from onestop.queueing.engine import Actor
from onestop.units.models import Unit

# demo procedures: legal time in working days
SAME_DAY = "1.001193"  # Đăng ký khai sinh, 0 days
THREE_DAYS = "2.000575"  # Đăng ký thành lập hộ kinh doanh, 3 days
TEN_DAYS = "1.004227"  # Đăng ký biến động quyền sử dụng đất, 10 days

APPLICANT = Applicant(name="Nguyễn Văn An", id_number="001203004005", phone="0912345678",
                      email="an@example.vn", address="Số 2 đường Lê Lợi", on_behalf_of="")
APPLICANT_JSON: dict[str, Any] = {"name": "Nguyễn Văn An", "id_number": "001203004005",
                                  "phone": "0912345678", "email": "an@example.vn",
                                  "address": "Số 2 đường Lê Lợi"}


def demo_unit(session: Session) -> Unit:
    unit = session.scalars(select(Unit).order_by(Unit.id)).first()
    assert unit is not None
    return unit


def procedure(session: Session, code: str) -> Procedure:
    return session.scalars(select(Procedure).where(Procedure.code == code)).one()


def receive(session: Session, now: dt.datetime, code: str = THREE_DAYS, actor: Actor | None = None,
            applicant: Applicant = APPLICANT, **kwargs: Any) -> Dossier:
    unit = demo_unit(session)
    return receive_dossier(session, unit, procedure(session, code), applicant,
                           kwargs.pop("documents", [{"name": "Tờ khai", "count": 1}]),
                           kwargs.pop("ticket", None), actor=actor or Actor(user_id=3), now=now)
