"""/counter/tablet: the pairing screen for strangers, the rating screen's data for a tablet."""

from __future__ import annotations

import json
import re

from tests.api.helpers import add_device, assert_error, ok
from tests.ratings.conftest import rate, served, set_unit, tablet


def config_of(page: str) -> dict:
    found = re.search(r'<script type="application/json" id="tablet-config">(.*?)</script>', page, re.S)
    assert found
    return dict(json.loads(found.group(1)))


def test_an_unpaired_browser_gets_the_pairing_screen(app, client):
    page = client.get("/counter/tablet").get_data(as_text=True)
    assert 'id="tablet-pair"' in page and "Ghép nối máy tính bảng đánh giá" in page
    client.set_cookie("onestop_device", add_device(app, "kiosk", "Ki-ốt"))
    page = client.get("/counter/tablet").get_data(as_text=True)
    assert 'id="tablet-pair"' in page and "không phải máy tính bảng đánh giá" in page
    assert_error(client.get("/counter/tablet/state.json", headers={"Accept": "application/json"}),
                 403, "not_counter_tablet")


def test_the_tablet_page_knows_its_counter_scale_and_reasons(app, client):
    set_unit(app, rating_timeout_seconds=45, rating_reasons=["Phải chờ lâu", "Phải chờ lâu", ""])
    client.set_cookie("onestop_device", tablet(app, 3))
    res = client.get("/counter/tablet")
    page = res.get_data(as_text=True)
    assert "onclick" not in page and "style=" not in page and "<style" not in page
    config = config_of(page)
    assert config["counter"]["number"] == 3 and config["timeout_seconds"] == 45
    assert [lv["code"] for lv in config["levels"]] == ["very_satisfied", "satisfied", "dissatisfied"]
    assert config["reasons"] == [{"value": "Phải chờ lâu", "label": "Phải chờ lâu"}]
    assert config["clerk"] is None and config["pending"] is None
    english = config_of(client.get("/counter/tablet?lang=en").get_data(as_text=True))
    assert english["levels"][0]["label"] == "Very satisfied"


def test_a_reloaded_tablet_asks_again_until_rated(app, client):
    token = tablet(app, 3)
    ticket = served(client, 3)
    client.set_cookie("onestop_device", token)
    state = ok(client.get("/counter/tablet/state.json"))
    assert state["clerk"]["name"] and state["pending"]["ticket"]["id"] == ticket["id"]
    ok(rate(client, token, ticket["id"], "satisfied"), 201)
    assert ok(client.get("/counter/tablet/state.json"))["pending"] is None
