"""Device tokens act only as their own kind, only in their own unit, and stop when revoked
or rotated."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from onestop.accounts import engine as accounts
from onestop.accounts.models import Device
from onestop.db import utcnow
from onestop.extensions import socketio
from onestop.queueing.models import Service
from onestop.realtime import events as ev
from onestop.units.models import Unit
from tests.api.helpers import act, add_device, assert_error, in_db, ok, ticket_count
from tests.conftest import bearer, token_for

KINDS_THAT_MAY_NOT_ISSUE = ("display", "tablet", "agent")


def _issue(client: Any, token: str, service_id: int = 1, **query: str) -> Any:
    url = "/api/v1/tickets" + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")
    return client.post(url, json={"service_id": service_id}, headers=bearer(token))


@pytest.mark.parametrize("kind", KINDS_THAT_MAY_NOT_ISSUE)
def test_only_a_kiosk_token_issues_tickets(app: Any, client: Any, kind: str) -> None:
    kwargs = {"counter_number": 1} if kind == "tablet" else {}
    token = add_device(app, kind, **kwargs)
    before = ticket_count(app)
    assert_error(_issue(client, token), 403, "forbidden")
    assert ticket_count(app) == before
    assert _issue(client, add_device(app, "kiosk", "K")).status_code == 201


def test_device_tokens_cannot_work_a_counter(app: Any, client: Any) -> None:
    for kind, kwargs in (("kiosk", {}), ("tablet", {"counter_number": 1}), ("display", {})):
        token = add_device(app, kind, "X", **kwargs)
        assert_error(act(client, token, 1, "open"), 401, "unauthorized")
        assert_error(act(client, token, 1, "call-next"), 401, "unauthorized")
        assert_error(client.get("/api/v1/dossiers/book.xlsx", headers=bearer(token)), 401)


def test_only_the_counters_tablet_rates(app: Any, client: Any) -> None:
    clerk = token_for(client, "clerk1")
    ok(act(client, clerk, 1, "open"))
    ticket = _issue(client, clerk).get_json()
    ok(act(client, clerk, 1, "call-next"))
    ok(act(client, clerk, 1, "finish", {"outcome": "served"}))
    kiosk = add_device(app, "kiosk", "K")
    other_tablet = add_device(app, "tablet", "T2", counter_number=2)
    rating = {"ticket_id": ticket["id"], "level": "very_satisfied"}
    for token in (kiosk, other_tablet):
        res = client.post("/api/v1/ratings", json=rating, headers=bearer(token))
        assert res.status_code in (403, 404), res.get_json()
    own_tablet = add_device(app, "tablet", "T1", counter_number=1)
    assert client.post("/api/v1/ratings", json=rating, headers=bearer(own_tablet)).status_code == 201


def _second_unit(app: Any) -> int:
    with in_db(app) as session:
        unit = Unit(code="000.00.99.X99", name="Đơn vị khác", settings={})
        session.add(unit)
        session.flush()
        service = Service(unit_id=unit.id, code="KHAC", name="Lĩnh vực khác", prefix="Z")
        session.add(service)
        session.flush()
        return int(service.id)


def test_a_kiosk_of_unit_a_cannot_issue_in_unit_b(app: Any, client: Any) -> None:
    other_service = _second_unit(app)
    kiosk = add_device(app, "kiosk")
    before = ticket_count(app)
    assert_error(_issue(client, kiosk, other_service), 404, "service_not_found")
    # asking for the other unit by name does not move the device
    assert_error(_issue(client, kiosk, other_service, unit="000.00.99.X99"), 404, "service_not_found")
    assert ticket_count(app) == before


def test_revoked_and_rotated_tokens_stop_at_once(app: Any, client: Any) -> None:
    token = add_device(app, "kiosk", "K")
    assert _issue(client, token).status_code == 201
    with in_db(app) as session:
        device = session.scalars(select(Device).where(Device.name == "K")).one()
        new_token, _code = accounts.rotate_device_token(session, device, now=utcnow())
    assert_error(_issue(client, token), 401, "unauthorized")
    assert _issue(client, new_token).status_code == 201
    with in_db(app) as session:
        device = session.scalars(select(Device).where(Device.name == "K")).one()
        accounts.revoke_device(session, device, now=utcnow())
    assert_error(_issue(client, new_token), 401, "unauthorized")


def test_socket_namespaces_check_the_device_kind(app: Any, client: Any) -> None:
    kiosk = add_device(app, "kiosk", "K")
    tablet = add_device(app, "tablet", "T", counter_number=1)
    agent = add_device(app, "agent", "A")
    for token, namespace, allowed in ((kiosk, ev.COUNTER_NS, False), (agent, ev.COUNTER_NS, False),
                                      (tablet, ev.COUNTER_NS, True), (kiosk, "/agent", False),
                                      (tablet, "/agent", False), (agent, "/agent", True)):
        sio = socketio.test_client(app, namespace=namespace, auth={"token": token})
        assert sio.is_connected(namespace) is allowed, (namespace, allowed)
        if allowed:
            sio.disconnect(namespace)


def test_display_namespace_gives_display_settings_only_to_displays(app: Any, client: Any) -> None:
    with in_db(app) as session:
        _device, display_token, _ = accounts.add_device(
            session, session.scalars(select(Unit)).first(), "display", "Sảnh", now=utcnow())
        kiosk_device, kiosk_token, _ = accounts.add_device(
            session, session.scalars(select(Unit)).first(), "kiosk", "Ki-ốt", now=utcnow())
        kiosk_device.settings = {"zones": ["B"]}
    for token, expect_device in ((display_token, True), (kiosk_token, False)):
        sio = socketio.test_client(app, namespace=ev.DISPLAY_NS, auth={"token": token})
        state = [e["args"][0] for e in sio.get_received(ev.DISPLAY_NS) if e["name"] == ev.STATE][0]
        assert ("device" in state) is expect_device
        sio.disconnect(ev.DISPLAY_NS)
