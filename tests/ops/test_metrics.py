"""GET /metrics: committed issues and calls, call->emit latency, display clients, printer
states, HTTP errors; loopback or the bearer token only."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from onestop import demo
from onestop.accounts.engine import add_device
from onestop.db import utcnow
from onestop.extensions import db, socketio
from onestop.ops.metrics import REGISTRY
from onestop.printing.service import store_status
from onestop.queueing.engine import SYSTEM, issue_ticket
from onestop.queueing.models import Service
from onestop.units.models import Unit
from tests.conftest import bearer, token_for

UNIT = demo.UNIT_CODE


def value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def scrape(client: Any, **kwargs: Any) -> str:
    res = client.get("/metrics", **kwargs)
    assert res.status_code == 200, res.get_data(as_text=True)
    assert res.mimetype == "text/plain"
    return str(res.get_data(as_text=True))


def test_issues_calls_and_emit_latency_are_counted(ops_client: Any) -> None:
    issued = value("onestop_tickets_issued_total", unit=UNIT, service="TPHT")
    calls = value("onestop_calls_total", unit=UNIT, service="TPHT", recall="false")
    recalls = value("onestop_calls_total", unit=UNIT, service="TPHT", recall="true")
    emitted = value("onestop_call_emit_seconds_count")
    auth = bearer(token_for(ops_client, "clerk1"))
    for _ in range(2):
        assert ops_client.post("/api/v1/tickets", json={"service_id": 1}, headers=auth).status_code == 201
    assert ops_client.post("/api/v1/counters/1/open", headers=auth).status_code == 200
    assert ops_client.post("/api/v1/counters/1/call-next", headers=auth).status_code == 200
    assert ops_client.post("/api/v1/counters/1/recall", headers=auth).status_code == 200

    text = scrape(ops_client)
    assert f'onestop_tickets_issued_total{{service="TPHT",unit="{UNIT}"}}' in text
    assert value("onestop_tickets_issued_total", unit=UNIT, service="TPHT") == issued + 2
    assert value("onestop_calls_total", unit=UNIT, service="TPHT", recall="false") == calls + 1
    assert value("onestop_calls_total", unit=UNIT, service="TPHT", recall="true") == recalls + 1
    # one ticket.called per call on /display, measured at the emit after commit
    assert value("onestop_call_emit_seconds_count") == emitted + 2
    assert value("onestop_call_emit_seconds_bucket", le="10.0") >= emitted + 2


def test_a_rolled_back_issue_counts_nothing(ops_app: Any) -> None:
    before = value("onestop_tickets_issued_total", unit=UNIT, service="DD")
    with ops_app.app_context():
        session = db.session()
        unit = session.scalar(select(Unit).where(Unit.code == UNIT))
        service = session.scalar(select(Service).where(Service.code == "DD"))
        issue_ticket(session, unit, service, actor=SYSTEM, now=utcnow(), always_open=True)
        session.rollback()
        assert value("onestop_tickets_issued_total", unit=UNIT, service="DD") == before
        issue_ticket(session, unit, service, actor=SYSTEM, now=utcnow(), always_open=True)
        session.commit()
    assert value("onestop_tickets_issued_total", unit=UNIT, service="DD") == before + 1


def test_http_errors_by_class(ops_client: Any) -> None:
    before = value("onestop_http_errors_total", status_class="4xx")
    assert ops_client.get("/api/v1/tickets/987654").status_code == 404
    assert ops_client.post("/api/v1/tickets", json={"service_id": 1}).status_code == 401
    scrape(ops_client)
    assert value("onestop_http_errors_total", status_class="4xx") == before + 2


def test_display_clients_gauge(ops_app: Any, ops_client: Any) -> None:
    assert "onestop_display_clients 0.0" in scrape(ops_client)
    display = socketio.test_client(ops_app, namespace="/display")
    try:
        assert display.is_connected("/display")
        assert "onestop_display_clients 1.0" in scrape(ops_client)
    finally:
        display.disconnect(namespace="/display")
    assert "onestop_display_clients 0.0" in scrape(ops_client)


def test_printer_states_from_device_settings(ops_app: Any, ops_client: Any) -> None:
    with ops_app.app_context():
        session = db.session()
        unit = session.scalar(select(Unit).where(Unit.code == UNIT))
        kiosk, _, _ = add_device(session, unit, "kiosk", "Ki-ốt sảnh", now=utcnow(),
                                 printer_uri="tcp://192.0.2.10:9100")
        store_status(session, kiosk, "paper_out", "paper end", utcnow(), alarm=False)
        agent, _, _ = add_device(session, unit, "agent", "Máy in quầy", now=utcnow())
        session.commit()
        kiosk_id, agent_id = kiosk.id, agent.id
    text = scrape(ops_client)
    assert (f'onestop_printer_state{{device="{kiosk_id}",kind="kiosk",name="Ki-ốt sảnh",'
            f'state="paper_out",unit="{UNIT}"}} 1.0') in text
    assert f'device="{agent_id}",kind="agent",name="Máy in quầy",state="offline"' in text


def test_metrics_only_from_loopback_or_with_the_token(ops_app: Any, ops_client: Any) -> None:
    far = {"REMOTE_ADDR": "192.0.2.7"}
    res = ops_client.get("/metrics", environ_base=far, headers={"Accept": "application/json"})
    assert res.status_code == 403
    assert res.get_json()["error"]["code"] == "forbidden"
    # through a proxy on the same box: the peer address proves nothing
    proxied = ops_client.get("/metrics", headers={"X-Forwarded-For": "192.0.2.7",
                                                  "Accept": "application/json"})
    assert proxied.status_code == 403
    assert ops_client.get("/metrics", environ_base={"REMOTE_ADDR": "::1"}).status_code == 200

    ops_app.config["METRICS_TOKEN"] = "s3cret-metrics-token"
    assert ops_client.get("/metrics", environ_base=far, headers=bearer("wrong")).status_code == 403
    ok = ops_client.get("/metrics", environ_base=far, headers=bearer("s3cret-metrics-token"))
    assert ok.status_code == 200 and b"onestop_tickets_issued_total" in ok.data
