"""The hub (issue 22 item 5): ``onestop units remote add --url --token`` keeps a commune
server; the overview of an admin of every unit shows that server's tiles as it answers them
(a second onestop server started here, read with an integration account's token), and a
server that does not answer (a port nobody listens on) as one tile marked unreachable."""

from __future__ import annotations

import os
import stat
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from onestop.units import remotes
from tests.api.helpers import ok
from tests.conftest import bearer, free_port, token_for
from tests.livesrv import ONESTOP, loaded_demo_server
from tests.overview.helpers import PASSWORD


@pytest.fixture(scope="module")
def commune(tmp_path_factory: pytest.TempPathFactory,
            cheap_password_hashing: None) -> Iterator[dict[str, Any]]:
    """Another commune's own onestop server, with an integration account for the hub."""
    from onestop.accounts import engine as accounts
    from onestop.units.models import Unit

    def prepare(session: Any) -> None:
        unit = session.query(Unit).one()
        accounts.add_user(session, unit, "hub", PASSWORD, "integration")

    with loaded_demo_server(tmp_path_factory.mktemp("commune"), prepare) as base:
        res = requests.post(f"{base}/api/v1/auth/token", json={"username": "hub", "password": PASSWORD},
                            timeout=30)
        assert res.status_code == 201, res.text
        yield {"base": base, "token": res.json()["token"]}


def remote_add(data_dir: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ONESTOP_DATA_DIR": data_dir}
    return subprocess.run([ONESTOP, "units", "remote", "add", *args], env=env, capture_output=True,
                          text=True, timeout=60)


def test_the_hub_shows_a_remote_commune_and_one_that_does_not_answer(app, client, units, commune):
    data_dir = app.config["DATA_DIR"]
    done = remote_add(data_dir, "--url", commune["base"], "--token", commune["token"], "--name", "Xã B")
    assert done.returncode == 0, done.stderr
    dead = f"http://127.0.0.1:{free_port()}"
    assert remote_add(data_dir, "--url", dead, "--token", "x", "--name", "Xã C").returncode == 0
    assert remote_add(data_dir, "--url", "ftp://x", "--token", "x").returncode != 0
    assert stat.S_IMODE(os.stat(remotes.path(data_dir)).st_mode) == 0o600  # the tokens are secrets
    remotes.cache.tiles = None  # this process's cache, fresh for this test
    body = ok(client.get("/api/v1/overview", headers=bearer(token_for(client, "quantri", PASSWORD))))
    by_server = {t["remote"]: t for t in body["remotes"]}
    alive, silent = by_server[commune["base"]], by_server[dead]
    assert alive["unreachable"] is False and alive["unit"]["name"].startswith("Trung tâm")
    assert isinstance(alive["waiting"], int) and "counters" in alive
    assert silent == {"unit": {"id": None, "code": dead, "name": "Xã C"}, "remote": dead, "unreachable": True}
    # a supervisor or a unit's admin sees no remote server
    sup = ok(client.get("/api/v1/overview", headers=bearer(token_for(client, "giamsat", PASSWORD))))
    assert sup["remotes"] == []


def test_an_integration_account_reads_its_own_units_tile_only(commune):
    res = requests.get(f"{commune['base']}/api/v1/overview", timeout=30,
                       headers={"Authorization": f"Bearer {commune['token']}"})
    assert res.status_code == 200 and len(res.json()["units"]) == 1 and res.json()["remotes"] == []
