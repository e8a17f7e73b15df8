"""POST /auth/token, /auth/me, /auth/revoke, and when a token stops working."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from onestop.accounts.models import ApiToken, User, hash_token
from tests.api.helpers import assert_error, in_db, user_id
from tests.conftest import bearer, token_for


def test_good_credentials_give_a_token(client):
    res = client.post("/api/v1/auth/token", json={"username": "clerk1", "password": "demo"})
    assert res.status_code == 201
    body = res.get_json()
    assert body["token"].startswith("ost_") and len(body["token"]) > 30
    assert body["token_type"] == "Bearer"
    assert body["expires_at"].endswith("Z")
    assert body["user"]["username"] == "clerk1"
    assert body["user"]["role"] == "clerk"
    assert body["user"]["full_name"]


def test_roles_are_reported(client):
    for username in ("admin", "manager"):
        res = client.post("/api/v1/auth/token", json={"username": username, "password": "demo"})
        assert res.get_json()["user"]["role"] == username


def test_token_is_stored_hashed(app, client):
    token = token_for(client, "clerk1")
    with in_db(app) as session:
        hashes = list(session.scalars(select(ApiToken.token_hash)))
    assert hash_token(token) in hashes and token not in hashes


def test_bad_credentials_are_refused(app, client):
    for payload in ({"username": "clerk1", "password": "wrong"},
                    {"username": "nobody", "password": "demo"},
                    {"username": "CLERK1", "password": "demo"},
                    {"username": "clerk1", "password": "demo "}):
        res = client.post("/api/v1/auth/token", json=payload)
        assert_error(res, 401, "invalid_credentials")
    with in_db(app) as session:
        assert session.scalars(select(ApiToken)).first() is None


def test_unknown_user_and_wrong_password_look_the_same(client):
    wrong = client.post("/api/v1/auth/token", json={"username": "clerk1", "password": "x"})
    unknown = client.post("/api/v1/auth/token", json={"username": "ghost", "password": "x"})
    assert wrong.get_json() == unknown.get_json()


def test_password_is_checked_as_typed(app, client):
    from onestop.accounts import engine as accounts
    from tests.api.helpers import unit_of

    with in_db(app) as session:
        accounts.add_user(session, unit_of(session), "spaced", "  pass phrase  ", "clerk")
    assert token_for(client, "spaced", "  pass phrase  ")
    res = client.post("/api/v1/auth/token", json={"username": "spaced",
                                                  "password": "pass phrase"})
    assert_error(res, 401, "invalid_credentials")


def test_me_with_token(client):
    token = token_for(client, "manager")
    res = client.get("/api/v1/auth/me", headers=bearer(token))
    assert res.status_code == 200
    assert res.get_json()["username"] == "manager"
    assert res.get_json()["role"] == "manager"


def test_me_without_token(client):
    assert_error(client.get("/api/v1/auth/me"), 401, "unauthorized")


def test_each_token_is_its_own_user(client):
    one, two = token_for(client, "clerk1"), token_for(client, "clerk2")
    assert client.get("/api/v1/auth/me", headers=bearer(one)).get_json()["username"] == "clerk1"
    assert client.get("/api/v1/auth/me", headers=bearer(two)).get_json()["username"] == "clerk2"


def test_revoked_token_stops_working(client):
    token = token_for(client, "clerk1")
    other = token_for(client, "clerk1")
    res = client.post("/api/v1/auth/revoke", headers=bearer(token))
    assert res.status_code == 200 and res.get_json() == {"ok": True}
    assert_error(client.get("/api/v1/auth/me", headers=bearer(token)), 401, "unauthorized")
    assert_error(client.post("/api/v1/counters/1/open", headers=bearer(token)), 401)
    # only the token used for the call is revoked
    assert client.get("/api/v1/auth/me", headers=bearer(other)).status_code == 200


def test_revoke_needs_a_token(client):
    assert_error(client.post("/api/v1/auth/revoke"), 401, "unauthorized")


def test_expired_token_is_refused(app, client):
    token = token_for(client, "clerk1")
    assert client.get("/api/v1/auth/me", headers=bearer(token)).status_code == 200
    with in_db(app) as session:
        row = session.scalars(select(ApiToken).where(
            ApiToken.token_hash == hash_token(token))).one()
        row.expires_at = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
    assert_error(client.get("/api/v1/auth/me", headers=bearer(token)), 401, "unauthorized")
    assert_error(client.post("/api/v1/counters/1/open", headers=bearer(token)), 401)


def test_disabled_user_token_is_refused(app, client):
    token = token_for(client, "clerk1")
    with in_db(app) as session:
        session.get(User, user_id(app, "clerk1")).active = False
    assert_error(client.get("/api/v1/auth/me", headers=bearer(token)), 401, "unauthorized")
    assert_error(client.post("/api/v1/counters/1/open", headers=bearer(token)), 401)
    # and no new token either
    res = client.post("/api/v1/auth/token", json={"username": "clerk1", "password": "demo"})
    assert_error(res, 401, "invalid_credentials")


def test_malformed_authorization_header(client, subtests):
    for header in ("Bearer", "Bearer ", "Basic Y2xlcmsxOmRlbW8=", "Token abc",
                   "Bearer " + "x" * 5000, "Bearer ost_\u00e9"):
        with subtests.test(header=header[:20]):
            res = client.get("/api/v1/auth/me", headers={"Authorization": header})
            assert_error(res, 401, "unauthorized")


def test_device_token_is_not_a_user(app, client):
    from tests.api.helpers import add_device

    token = add_device(app, "kiosk")
    assert_error(client.get("/api/v1/auth/me", headers=bearer(token)), 401, "unauthorized")
