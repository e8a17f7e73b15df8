"""A disabled user or a revoked token keeps no open /counter socket (as a revoked device
does not): the live queue of the unit stops reaching it at once."""

from __future__ import annotations

from typing import Any

from onestop.extensions import socketio
from onestop.realtime import events as ev
from tests.api.helpers import user_id
from tests.backoffice.conftest import signed_in, submit
from tests.conftest import bearer, token_for


def by_token(app: Any, token: str) -> Any:
    sio = socketio.test_client(app, namespace=ev.COUNTER_NS, auth={"token": token})
    assert sio.is_connected(ev.COUNTER_NS)
    return sio


def by_cookie(app: Any, username: str) -> Any:
    """The workstation's socket: the browser's signed-in session, no token."""
    sio = socketio.test_client(app, namespace=ev.COUNTER_NS,
                               flask_test_client=signed_in(app, username))
    assert sio.is_connected(ev.COUNTER_NS)
    return sio


def test_revoking_a_token_closes_the_sockets_opened_with_it(app, client):
    first, second = token_for(client, "clerk1"), token_for(client, "clerk1")
    revoked, kept, browser = by_token(app, first), by_token(app, second), by_cookie(app, "clerk1")
    assert client.post("/api/v1/auth/revoke", headers=bearer(first)).status_code == 200
    assert not revoked.is_connected(ev.COUNTER_NS)
    # the same user's other token and signed-in page are other credentials: they stay
    assert kept.is_connected(ev.COUNTER_NS) and browser.is_connected(ev.COUNTER_NS)


def test_disabling_a_user_closes_all_their_sockets(app, client):
    token = token_for(client, "clerk1")
    theirs = [by_token(app, token), by_cookie(app, "clerk1")]
    other = by_token(app, token_for(client, "clerk2"))
    admin = signed_in(app, "admin")
    uid = user_id(app, "clerk1")
    res = submit(admin, f"/admin/users/{uid}/disable", {}, form_url="/admin/users")
    assert res.status_code in (302, 303)
    assert [s.is_connected(ev.COUNTER_NS) for s in theirs] == [False, False]
    assert other.is_connected(ev.COUNTER_NS)
    # and they cannot come back
    again = socketio.test_client(app, namespace=ev.COUNTER_NS, auth={"token": token})
    assert not again.is_connected(ev.COUNTER_NS)


def test_a_password_reset_closes_their_sockets_too(app, client):
    sio = by_token(app, token_for(client, "clerk1"))
    admin = signed_in(app, "admin")
    uid = user_id(app, "clerk1")
    new = "mot-mat-khau-moi-khac"
    res = submit(admin, f"/admin/users/{uid}/password", {"password": new, "password2": new},
                 form_url=f"/admin/users/{uid}")
    assert res.status_code in (302, 303)
    assert not sio.is_connected(ev.COUNTER_NS)


def test_a_refused_disable_closes_nothing(app, client):
    """The last admin cannot be disabled: the refusal leaves their socket open."""
    sio = by_token(app, token_for(client, "admin"))
    admin = signed_in(app, "manager")  # a manager may not manage users at all
    res = admin.post(f"/admin/users/{user_id(app, 'admin')}/disable", data={})
    assert res.status_code in (302, 400, 403)
    assert sio.is_connected(ev.COUNTER_NS)
