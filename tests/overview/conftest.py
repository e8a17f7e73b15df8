"""The overview tests' units: the demo centre, X02 (a busy morning), X03 (another's)."""

from __future__ import annotations

import datetime as dt

import pytest

from onestop.accounts import engine as accounts
from onestop.db import utcnow
from tests.api.helpers import in_db, unit_of
from tests.overview.helpers import PASSWORD, add_supervisor, add_unit, busy_day


@pytest.fixture
def units(app):
    """The demo unit and three communes: X02 (busy: 2 of 3 ratings satisfied), X03 (quiet),
    X04 (every rating satisfied); 'giamsat' watches the demo unit and X02, 'giamsat2' X02
    and X04."""
    at = utcnow()
    with in_db(app) as session:
        demo = unit_of(session)
        x02 = add_unit(session, "X02", "UBND xã Hòa Lạc")
        x03 = add_unit(session, "X03", "UBND xã Yên Bình")
        busy_day(session, x02, issued=7, served=3, open_counters=1, happy=2, unhappy=1, at=at,
                 first_issue=at - dt.timedelta(minutes=25))
        busy_day(session, x03, issued=1, served=0, open_counters=0, at=at)
        x04 = add_unit(session, "X04", "UBND xã Tân Tiến")
        busy_day(session, x04, issued=4, served=3, open_counters=1, happy=3, at=at)
        add_supervisor(session, "giamsat", [demo, x02])
        add_supervisor(session, "giamsat2", [x02, x04])
        accounts.add_user(session, None, "quantri", PASSWORD, "admin")  # an admin of every unit
        return {"demo": demo.code, "demo_id": demo.id, "x02_id": x02.id, "x03_id": x03.id}
