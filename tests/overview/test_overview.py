"""The supervisors' overview over HTTP and Socket.IO (issue 22 item 5): a tile per unit from
seeded tickets, a supervisor sees only their units (API, page and socket rooms), an admin
all of them, clerks and reception 403; a change in a unit reaches the overview's socket of
a supervisor of that unit only."""

from __future__ import annotations

from onestop.db import utcnow
from onestop.extensions import socketio
from onestop.manager import overview
from onestop.manager.overview import CHANGED, NAMESPACE
from onestop.units.models import Unit
from tests.api.helpers import in_db, issue, ok, user_id
from tests.backoffice.conftest import login, signed_in, submit
from tests.conftest import bearer, token_for
from tests.desk.helpers import add_user
from tests.overview.helpers import PASSWORD, busy_day, tiles

API = "/api/v1/overview"


def test_tiles_show_each_units_figures(app, client, units):
    sup = token_for(client, "giamsat", PASSWORD)
    body = ok(client.get(API, headers=bearer(sup)))
    got = tiles(body)
    assert sorted(got) == sorted([units["demo"], "X02"])  # never X03
    x02 = got["X02"]
    assert x02["unit"]["name"] == "UBND xã Hòa Lạc"
    assert x02["waiting"] == 4 and x02["today"] == {"issued": 7, "served": 3}
    assert x02["counters"] == {"open": 1, "paused": 0, "closed": 1}
    # the oldest waiting ticket is the 4th issued: 25 minutes ago (give or take the run)
    assert 24 <= x02["longest_wait_minutes"] <= 27
    assert x02["satisfaction"] == {"rate": round(2 / 3, 4), "rated": 3}
    assert x02["late"] is (x02["longest_wait_minutes"] > x02["target_wait_minutes"])
    assert got[units["demo"]]["waiting"] == 0 and got[units["demo"]]["longest_wait_minutes"] is None
    # a narrower ask: a visible unit only, an invisible one silently left out
    one = ok(client.get(f"{API}?units=X02,X03", headers=bearer(sup)))
    assert [t["unit"]["code"] for t in one["units"]] == ["X02"]


def test_admin_sees_every_unit_and_a_units_admin_their_own(client, units):
    bound = ok(client.get(API, headers=bearer(token_for(client, "admin"))))  # the demo unit's admin
    assert list(tiles(bound)) == [units["demo"]]
    body = ok(client.get(API, headers=bearer(token_for(client, "quantri", PASSWORD))))
    assert sorted(tiles(body)) == sorted([units["demo"], "X02", "X03", "X04"])
    assert tiles(body)["X03"]["waiting"] == 1 and tiles(body)["X03"]["counters"]["open"] == 0


def test_clerks_managers_and_reception_are_refused(app, client, units):
    add_user(app, "letan", "reception")
    for name, password in (("clerk1", None), ("manager", None), ("letan", "desk-password-1")):
        token = token_for(client, name, password) if password else token_for(client, name)
        res = client.get(API, headers=bearer(token))
        assert res.status_code == 403 and res.get_json()["error"]["code"] == "forbidden", name
        refused = socketio.test_client(app, namespace=NAMESPACE, auth={"token": token})
        assert not refused.is_connected(NAMESPACE), name
    assert client.get(API).status_code == 401
    assert not socketio.test_client(app, namespace=NAMESPACE).is_connected(NAMESPACE)


def test_the_page_for_supervisors_only(app, client, units):
    assert login(client, "giamsat", PASSWORD).status_code == 302
    page = client.get("/manager/overview")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Tổng quan các đơn vị" in html and 'id="overview-tiles"' in html
    assert signed_in(app, "clerk1").get("/manager/overview").status_code == 403
    assert app.test_client().get("/manager/overview").status_code == 302  # to sign in


def test_a_change_reaches_the_supervisors_socket_of_that_unit_only(app, client, units):
    sup = token_for(client, "giamsat", PASSWORD)
    admin = token_for(client, "quantri", PASSWORD)
    overview.throttle.reset(0)  # every change at once here; the throttle has its own test
    watching = socketio.test_client(app, namespace=NAMESPACE, auth={"token": sup})
    everything = socketio.test_client(app, namespace=NAMESPACE, auth={"token": admin})
    assert watching.is_connected(NAMESPACE) and everything.is_connected(NAMESPACE)
    # a ticket in X03: the admin hears of it, the supervisor of the demo unit and X02 never
    with in_db(app) as session:
        busy_day(session, session.get(Unit, units["x03_id"]), issued=1, served=0, open_counters=0,
                 at=utcnow(), clerk="clerk-x03-bis")
    assert {m["args"][0]["unit_id"] for m in everything.get_received(NAMESPACE) if m["name"] == CHANGED} == {
        units["x03_id"]}
    assert [m for m in watching.get_received(NAMESPACE) if m["name"] == CHANGED] == []
    issue(client, token_for(client, "clerk1"))  # a ticket in the demo unit
    heard = [m["args"][0] for m in watching.get_received(NAMESPACE) if m["name"] == CHANGED]
    assert [h["unit_id"] for h in heard] == [units["demo_id"]]


def test_the_throttle_sends_one_event_per_unit_per_interval(app, client, units):
    overview.throttle.reset(1.5)
    sup = token_for(client, "giamsat", PASSWORD)
    watching = socketio.test_client(app, namespace=NAMESPACE, auth={"token": sup})
    clerk = token_for(client, "clerk1")
    for _ in range(5):
        issue(client, clerk)
    first = [m for m in watching.get_received(NAMESPACE) if m["name"] == CHANGED]
    assert len(first) == 1  # the first at once, the four that followed wait for the interval
    socketio.sleep(1.8)
    later = [m for m in watching.get_received(NAMESPACE) if m["name"] == CHANGED]
    assert len(later) == 1  # one trailing event for the four


def test_a_revoked_token_or_a_disabled_supervisor_keeps_no_overview_socket(app, client, units):
    first, second = token_for(client, "giamsat", PASSWORD), token_for(client, "giamsat", PASSWORD)
    revoked = socketio.test_client(app, namespace=NAMESPACE, auth={"token": first})
    kept = socketio.test_client(app, namespace=NAMESPACE, auth={"token": second})
    assert client.post("/api/v1/auth/revoke", headers=bearer(first)).status_code == 200
    assert not revoked.is_connected(NAMESPACE) and kept.is_connected(NAMESPACE)
    admin = app.test_client()
    assert login(admin, "quantri", PASSWORD).status_code == 302
    res = submit(admin, f"/admin/users/{user_id(app, 'giamsat')}/disable", {}, form_url="/admin/users")
    assert res.status_code in (200, 302), res.status_code
    assert not kept.is_connected(NAMESPACE)
