"""Rate limits: tickets per kiosk, the public ticket page, lookups, logins; shared storage
when scaled out (Redis)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from onestop.config import load_settings
from onestop.tokens import ticket_token
from tests.api.helpers import add_device, assert_error, ticket_count
from tests.conftest import app_config, bearer, demo_app, token_for


@pytest.fixture
def limited(tmp_path: Path) -> Iterator[Any]:
    with demo_app(tmp_path, RATELIMIT_ENABLED=True, TICKET_RATE_LIMIT="3 per minute",
                  TICKET_PAGE_RATE_LIMIT="4 per minute", LOOKUP_RATE_LIMIT="5 per minute") as app:
        yield app


def test_tickets_are_limited_per_kiosk(limited: Any) -> None:
    client = limited.test_client()
    kiosk_a, kiosk_b = add_device(limited, "kiosk", "A"), add_device(limited, "kiosk", "B")
    for _ in range(3):
        assert client.post("/api/v1/tickets", json={"service_id": 1},
                           headers=bearer(kiosk_a)).status_code == 201
    before = ticket_count(limited)
    assert_error(client.post("/api/v1/tickets", json={"service_id": 1}, headers=bearer(kiosk_a)),
                 429, "rate_limited")
    assert ticket_count(limited) == before  # a refused request issues nothing
    # the other kiosk (same address: the test client) has its own allowance
    assert client.post("/api/v1/tickets", json={"service_id": 1},
                       headers=bearer(kiosk_b)).status_code == 201
    # and so does a clerk issuing at the desk
    clerk = token_for(client, "clerk1")
    assert client.post("/api/v1/tickets", json={"service_id": 1},
                       headers=bearer(clerk)).status_code == 201


def test_public_ticket_page_is_limited_per_address(limited: Any) -> None:
    client = limited.test_client()
    kiosk = add_device(limited, "kiosk")
    ticket = client.post("/api/v1/tickets", json={"service_id": 1}, headers=bearer(kiosk)).get_json()
    url = f"/t/{ticket['id']}?k={ticket_token(limited.config['SECRET_KEY'], ticket['id'])}"
    for _ in range(4):
        assert client.get(url).status_code == 200
    res = client.get(url, headers={"Accept": "text/html"})
    assert res.status_code == 429
    assert "Quá nhiều yêu cầu" in res.get_data(as_text=True)
    assert res.headers["Content-Security-Policy"]


def test_lookup_is_limited_per_address(limited: Any) -> None:
    client = limited.test_client()
    for _ in range(5):
        assert client.get("/api/v1/lookup?code=H56-000000-0001&k=abcdefabcdef").status_code == 404
    assert_error(client.get("/api/v1/lookup?code=H56-000000-0001&k=abcdefabcdef"), 429,
                 "rate_limited")


def test_storage_is_memory_embedded_and_redis_when_scaled_out() -> None:
    assert load_settings({})["RATELIMIT_STORAGE_URI"] == "memory://"
    scaled = load_settings({"MESSAGE_QUEUE_URL": "redis://10.0.0.2:6379/0"})
    assert scaled["RATELIMIT_STORAGE_URI"] == "redis://10.0.0.2:6379/0"
    chosen = load_settings({"MESSAGE_QUEUE_URL": "redis://10.0.0.2:6379/0",
                            "RATELIMIT_STORAGE_URI": "redis://10.0.0.3:6379/2"})
    assert chosen["RATELIMIT_STORAGE_URI"] == "redis://10.0.0.3:6379/2"


@pytest.mark.redis
def test_two_instances_share_the_kiosk_limit_through_redis(tmp_path: Path, redis_url: str) -> None:
    from onestop.app import create_app

    shared = {"RATELIMIT_ENABLED": True, "TICKET_RATE_LIMIT": "2 per minute",
              "RATELIMIT_STORAGE_URI": redis_url, "RATELIMIT_KEY_PREFIX": f"t{uuid.uuid4().hex}"}
    with demo_app(tmp_path, **shared) as first:
        kiosk = add_device(first, "kiosk")
        other = create_app({**app_config(tmp_path, ALWAYS_OPEN=True), **shared})
        a, b = first.test_client(), other.test_client()
        issue = {"json": {"service_id": 1}, "headers": bearer(kiosk)}
        assert a.post("/api/v1/tickets", **issue).status_code == 201
        assert b.post("/api/v1/tickets", **issue).status_code == 201
        assert_error(a.post("/api/v1/tickets", **issue), 429, "rate_limited")
        assert_error(b.post("/api/v1/tickets", **issue), 429, "rate_limited")


def test_a_lost_redis_does_not_stop_the_kiosks(tmp_path: Path) -> None:
    from tests.conftest import free_port

    dead = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    with demo_app(tmp_path, RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI=dead,
                  TICKET_RATE_LIMIT="2 per minute") as app:
        client = app.test_client()
        kiosk = add_device(app, "kiosk")
        issue = {"json": {"service_id": 1}, "headers": bearer(kiosk)}
        assert client.post("/api/v1/tickets", **issue).status_code == 201
        assert client.post("/api/v1/tickets", **issue).status_code == 201
        # the limits still hold, counted in memory meanwhile
        assert_error(client.post("/api/v1/tickets", **issue), 429, "rate_limited")


def test_routes_without_a_limit_skip_the_limiter_and_limited_ones_never_do(limited: Any) -> None:
    """Flask-Limiter is skipped only where no limit is declared (onestop/extensions.py):
    every view it marks as limited is still checked, and the busiest unlimited ones skip."""
    from flask import request
    from flask_limiter.util import get_qualified_name

    from onestop.extensions import _no_limit_declared, limiter

    marked = limiter._marked_for_limiting
    limited_endpoints = {e for e, view in limited.view_functions.items()
                         if get_qualified_name(view) in marked}
    # every declared limit is found on its route: logins, tokens, pairing, heartbeats,
    # tickets, the public ticket page, lookups, ratings by code, voice
    assert len(limited_endpoints) == len(marked) >= 11
    assert {"api.issue", "api.create_token", "web.login", "kiosk.public_ticket",
            "queue_display.voice_wav"} <= limited_endpoints

    def skipped(endpoint: str) -> bool:
        rule = next(r for r in limited.url_map.iter_rules() if r.endpoint == endpoint)
        with limited.test_request_context("/"):
            request.url_rule = rule
            return _no_limit_declared()

    assert not [e for e in limited_endpoints if skipped(e)]
    for endpoint in ("api.call_next", "api.list_counters", "api.recall", "api.finish"):
        assert skipped(endpoint), endpoint


def test_a_default_limit_would_still_cover_every_route(tmp_path: Path) -> None:
    # per hour: the three requests never straddle the window's edge (per minute, a loaded run
    # crossed one and the third request was the first of a new window)
    with demo_app(tmp_path, RATELIMIT_ENABLED=True, RATELIMIT_DEFAULT="2 per hour") as app:
        client = app.test_client()
        clerk = token_for(client, "clerk1")  # a limited route of its own
        assert client.get("/api/v1/counters", headers=bearer(clerk)).status_code == 200
        assert client.get("/api/v1/counters", headers=bearer(clerk)).status_code == 200
        assert_error(client.get("/api/v1/counters", headers=bearer(clerk)), 429, "rate_limited")
