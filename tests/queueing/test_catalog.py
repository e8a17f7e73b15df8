"""The fields' names held per process (onestop/queueing/catalog.py) follow every change.

A call names its field on the displays, the counters, the rating tablet and in the API
answer. The names are no longer read from ``services`` on every call; what keeps them right
is ``units.catalog_version``, raised by database triggers. These tests change a field from
another process, in plain SQL, and from the API, and look at what a call then says."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest
from sqlalchemy import event, select, text
from sqlalchemy.orm import Session

from onestop import demo
from onestop.db import make_engine
from onestop.extensions import db, socketio
from onestop.queueing.catalog import service_info
from onestop.queueing.models import Service
from onestop.realtime import events as ev
from onestop.units.models import Unit
from onestop.webhooks.models import Webhook, WebhookDelivery
from tests.api.helpers import act, in_db, issue, ok
from tests.conftest import create_schema, make_sqlite_url, token_for


def _version(session: Session) -> int:
    return int(session.scalar(select(Unit.catalog_version).order_by(Unit.id).limit(1)))


def _check_triggers(url: str) -> None:
    create_schema(url)
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            demo.load(session)
            session.commit()
            before = _version(session)
            service = session.scalars(select(Service).order_by(Service.id)).first()
            assert service is not None
            service.name = "Tư pháp"
            session.commit()
            renamed = _version(session)
            assert renamed != before
            session.add(Service(unit_id=service.unit_id, code="MOI", name="Lĩnh vực mới",
                                prefix="M"))
            session.commit()
            added = _version(session)
            assert added not in (before, renamed)
            session.execute(text("DELETE FROM services WHERE code = 'MOI'"))
            session.commit()
            assert _version(session) not in (before, renamed, added)
            # and the webhooks, whose subscriptions each process keeps too
            moved = _version(session)
            session.add(Webhook(unit_id=service.unit_id, url="https://example.org/h", secret="s",
                                events=["ticket.called"]))
            session.commit()
            hooked = _version(session)
            assert hooked != moved
            session.execute(text("UPDATE webhooks SET active = false"))
            session.commit()
            assert _version(session) != hooked
            # nothing else moves it: tickets and counters change all day long
            settled = _version(session)
            session.execute(text("UPDATE counters SET name = name || ' '"))
            session.commit()
            assert _version(session) == settled
    finally:
        engine.dispose()


def test_triggers_follow_every_change_sqlite(tmp_path):
    _check_triggers(make_sqlite_url(tmp_path))


def test_triggers_follow_every_change_postgresql(pg_url):
    _check_triggers(pg_url)


def test_a_new_database_never_matches_what_a_process_holds(tmp_path):
    """Versions start at random: two centres made the same way differ (a process that held
    the first one's names must not take them for the second's)."""
    versions = []
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        url = make_sqlite_url(tmp_path / name)
        create_schema(url)
        engine = make_engine(url)
        with Session(engine) as session:
            demo.load(session)
            session.commit()
            versions.append(_version(session))
        engine.dispose()
    assert versions[0] != versions[1]


def _called(sio: Any) -> list[dict[str, Any]]:
    return [e["args"][0] for e in sio.get_received(ev.DISPLAY_NS) if e["name"] == ev.TICKET_CALLED]


def test_a_rename_by_another_process_shows_on_the_next_call(app, client, tmp_path):
    clerk = token_for(client, "clerk1")
    ok(act(client, clerk, 1, "open"))
    for _ in range(2):
        issue(client, clerk)
    sio = socketio.test_client(app, namespace=ev.DISPLAY_NS, flask_test_client=client)
    sio.get_received(ev.DISPLAY_NS)
    first = ok(act(client, clerk, 1, "call-next"))
    assert first["service"] == "Tư pháp – Hộ tịch"
    assert _called(sio)[0]["ticket"]["service"] == "Tư pháp – Hộ tịch"

    # another process, plain SQL, no onestop code: as an admin's tool or a second instance
    path = app.config["DATABASE_URL"].removeprefix("sqlite:///")
    subprocess.run([sys.executable, "-c", (
        "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]);"
        " c.execute(\"UPDATE services SET name = 'Hộ tịch (đổi tên)', zone = 'Z' WHERE id = 1\");"
        " c.commit()"), path], check=True, timeout=30)

    second = ok(act(client, clerk, 1, "call-next"))
    assert second["service_id"] == first["service_id"]
    assert second["service"] == "Hộ tịch (đổi tên)"
    call = _called(sio)[0]
    assert call["ticket"]["service"] == "Hộ tịch (đổi tên)"
    sio.disconnect(ev.DISPLAY_NS)
    # and the zone moved with it: a display of zone Z now hears this field's calls
    zone_display = socketio.test_client(app, namespace=ev.DISPLAY_NS, flask_test_client=client,
                                        auth={"zone": "Z"})
    zone_display.get_received(ev.DISPLAY_NS)
    issue(client, clerk)
    ok(act(client, clerk, 1, "call-next"))
    assert [c["ticket"]["service"] for c in _called(zone_display)] == ["Hộ tịch (đổi tên)"]
    zone_display.disconnect(ev.DISPLAY_NS)


def test_a_warm_call_reads_no_field(app, client):
    """Once a process holds the names, call-next asks the database nothing about fields."""
    clerk = token_for(client, "clerk1")
    ok(act(client, clerk, 1, "open"))
    for _ in range(3):
        issue(client, clerk)
    ok(act(client, clerk, 1, "call-next"))  # warms what the process holds
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        ok(act(client, clerk, 1, "call-next"))
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    assert any("UPDATE tickets" in s for s in seen)  # the listener did see the call
    assert not [s for s in seen if "FROM services" in s or "FROM webhooks" in s], seen


@pytest.mark.parametrize("change", ["rename", "new_field"])
def test_a_change_in_the_same_process_shows_at_once(app, client, change):
    clerk = token_for(client, "clerk1")
    ok(act(client, clerk, 1, "open"))
    issue(client, clerk)
    ok(act(client, clerk, 1, "call-next"))
    with in_db(app) as session:
        service = session.get(Service, 1)
        assert service is not None
        if change == "rename":
            service.name = "Hộ tịch mới"
            service_id = 1
        else:
            new = Service(unit_id=service.unit_id, code="MOI", name="Lĩnh vực mới", prefix="M")
            session.add(new)
            session.flush()
            service_id = new.id
    ticket = ok(client.post("/api/v1/tickets", json={"service_id": service_id},
                            headers={"Authorization": f"Bearer {clerk}"}), 201)
    assert ticket["service"] == ("Hộ tịch mới" if change == "rename" else "Lĩnh vực mới")


def test_a_webhook_added_by_another_process_hears_the_next_call(app, client):
    clerk = token_for(client, "clerk1")
    ok(act(client, clerk, 1, "open"))
    for _ in range(2):
        issue(client, clerk)
    ok(act(client, clerk, 1, "call-next"))  # the process now holds "no webhook"
    path = app.config["DATABASE_URL"].removeprefix("sqlite:///")
    subprocess.run([sys.executable, "-c", (
        "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]);"
        " c.execute(\"INSERT INTO webhooks (unit_id, url, secret, events, active, created_at)"
        " VALUES (1, 'https://example.org/h', 's', '[\\\"ticket.called\\\"]', 1,"
        " '2026-12-05 08:00:00')\"); c.commit()"), path], check=True, timeout=30)
    called = ok(act(client, clerk, 1, "call-next"))
    with in_db(app) as session:
        deliveries = session.scalars(select(WebhookDelivery)).all()
        assert [(d.event, d.payload["ticket"]["id"]) for d in deliveries] == [
            ("ticket.called", called["id"])]


def test_a_session_that_changed_a_field_reads_it_anew(session):
    """Its unit row was read before the change, so the version it holds is the old one."""
    unit = session.scalars(select(Unit).order_by(Unit.id)).first()
    assert service_info(session, unit.id, 1).name == "Tư pháp – Hộ tịch"  # now held
    service = session.get(Service, 1)
    service.name, service.zone = "Hộ tịch", "Z"
    session.flush()
    fresh = service_info(session, unit.id, 1)
    assert (fresh.name, fresh.zone) == ("Hộ tịch", "Z")
