"""Procedure lists in Vietnamese alphabetical order (Đ after D, before E), not by code
point (which puts every Đ after Y): the API search, the kiosk catalogue and the kiosk's
field page."""

from __future__ import annotations

import re

from onestop.dossiers.models import Procedure
from tests.api.helpers import in_db

NAMES = ("Ém hồ sơ thử", "Đăng ký thử nghiệm", "Dịch vụ thử nghiệm", "Yêu cầu thử nghiệm")
ORDER = ["Dịch vụ thử nghiệm", "Đăng ký thử nghiệm", "Ém hồ sơ thử", "Yêu cầu thử nghiệm"]


def add_procedures(app) -> None:
    with in_db(app) as session:
        for i, name in enumerate(NAMES):
            proc = Procedure(unit_id=1, service_id=1, code=f"9.9{i}", name=name, documents=[])
            proc.refresh_search()
            session.add(proc)


def test_api_search_lists_names_in_vietnamese_order(app, client):
    add_procedures(app)
    res = client.get("/api/v1/procedures", query_string={"q": "thu"})
    assert res.status_code == 200
    body = res.get_json()
    items = body["procedures"] if isinstance(body, dict) else body
    assert [p["name"] for p in items if p["name"] in NAMES] == ORDER


def test_kiosk_lists_names_in_vietnamese_order(app, client):
    add_procedures(app)
    for url in ("/kiosk/procedures?q=thu", "/kiosk/field/1"):
        html = client.get(url).get_data(as_text=True)
        where = [m.start() for name in ORDER for m in [re.search(re.escape(name), html)] if m]
        assert len(where) == len(ORDER), url
        assert where == sorted(where), url
