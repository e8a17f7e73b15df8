"""GET /api/v1/dossiers: the dossier desk's search over HTTP (code parts, ID number, phone,
name with or without diacritics, state, field, dates, overdue / due soon, paging, roles)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import pytest

from onestop.dossiers.models import Dossier
from onestop.privacy import erase
from tests.api.helpers import add_device, add_integration_user, assert_error, in_db, ok
from tests.conftest import MONDAY_9, bearer, local, token_for

SAME_DAY = "1.001193"  # Tư pháp – Hộ tịch (service 1), due the day of receipt
TEN_DAYS = "1.004227"  # Đất đai, 10 working days
ANH = ("Nguyễn Thị Ánh Tuyết", "001203004005", "0912345678")
BINH = ("Lê Văn Bình", "001203004099", "0987111222")
DUC = ("Đặng Văn Đức", "001203004777", "0356000111")


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Any:
    def set_clock(when: Any) -> None:
        monkeypatch.setattr("onestop.api.dossiers.now", lambda: when)

    set_clock(MONDAY_9)
    return set_clock


def _receive(client: Any, token: str, person: tuple[str, str, str], code: str) -> str:
    name, id_number, phone = person
    body = {"procedure_code": code, "applicant": {"name": name, "id_number": id_number, "phone": phone}}
    return str(ok(client.post("/api/v1/dossiers", json=body, headers=bearer(token)), 201)["code"])


@pytest.fixture
def world(client: Any, clock: Any) -> dict[str, Any]:
    """Ánh and Bình received on Monday 23/11, Đức on Tuesday 24/11 at 08:30."""
    clerk = token_for(client, "clerk1")
    anh = _receive(client, clerk, ANH, SAME_DAY)
    binh = _receive(client, clerk, BINH, TEN_DAYS)
    clock(local(2026, 11, 24, 8, 30))
    duc = _receive(client, clerk, DUC, SAME_DAY)
    return {"clerk": clerk, "anh": anh, "binh": binh, "duc": duc}


def codes(client: Any, token: str, query: str) -> list[str]:
    body = ok(client.get(f"/api/v1/dossiers?{query}", headers=bearer(token)))
    return [item["code"] for item in body["items"]]


def test_codes_have_the_shape_the_tests_assume(world):
    assert world["anh"].endswith("-261123-0001") and world["binh"].endswith("-261123-0002")
    assert world["duc"].endswith("-261124-0001")


QUERIES = [
    ("nguyen thi anh", ["anh"]), ("Nguyễn Thị Ánh", ["anh"]), ("NGUYEN tuyet", ["anh"]),
    ("dang van duc", ["duc"]), ("ĐỨC", ["duc"]), ("van", ["duc", "binh"]),
    ("0001", ["duc", "anh"]), ("261123-0002", ["binh"]), ("H56.12.3-261124-0001", ["duc"]),
    ("001203004099", ["binh"]), ("4099", ["binh"]),
    ("0987 111 222", ["binh"]), ("+84987111222", ["binh"]), ("0987.111.222", ["binh"]),
    ("001203004777|123456789|Đặng Văn Đức|01011990|Nam|Hà Nội|01012021", ["duc"]),
    ("nguyen binh", []), ("100%", []), ("_", []),
]


def test_q_matches_code_parts_id_phone_and_names_without_diacritics(client, world):
    # one world for every query: a demo centre per case would cost seconds of the suite
    for q, who in QUERIES:
        assert codes(client, world["clerk"], urlencode({"q": q})) == [world[w] for w in who], q


def test_filters_state_field_and_dates(client, world):
    clerk = world["clerk"]
    ok(client.post(f"/api/v1/dossiers/{world['binh']}/status", json={"state": "processing"},
                   headers=bearer(clerk)))
    assert codes(client, clerk, "state=processing") == [world["binh"]]
    assert codes(client, clerk, "state=received") == [world["duc"], world["anh"]]
    assert codes(client, clerk, "service_id=1") == [world["duc"], world["anh"]]
    assert codes(client, clerk, "from=2026-11-24") == [world["duc"]]
    assert codes(client, clerk, "to=2026-11-23") == [world["binh"], world["anh"]]
    assert codes(client, clerk, "from=2026-11-23&to=2026-11-23&q=van") == [world["binh"]]


def test_overdue_and_due_soon(client, world, clock):
    clerk = world["clerk"]
    # Tuesday 09:00: Ánh was due Monday 17:00, Đức is due today, Bình in ten working days
    clock(local(2026, 11, 24, 9, 0))
    assert codes(client, clerk, "overdue=true") == [world["anh"]]
    assert codes(client, clerk, "due_soon=true") == [world["duc"]]
    found = ok(client.get("/api/v1/dossiers?overdue=1", headers=bearer(clerk)))["items"]
    assert [d["overdue"] for d in found] == [True]
    # a dossier with its result ready is never overdue
    ok(client.post(f"/api/v1/dossiers/{world['anh']}/status", json={"state": "processing"},
                   headers=bearer(clerk)))
    ok(client.post(f"/api/v1/dossiers/{world['anh']}/status", json={"state": "ready"},
                   headers=bearer(clerk)))
    assert codes(client, clerk, "overdue=true") == []


def test_paging_newest_first(client, world):
    clerk = world["clerk"]
    first = ok(client.get("/api/v1/dossiers?per_page=2", headers=bearer(clerk)))
    assert (first["total"], first["pages"], first["page"], first["per_page"]) == (3, 2, 1, 2)
    assert [d["code"] for d in first["items"]] == [world["duc"], world["binh"]]
    second = ok(client.get("/api/v1/dossiers?per_page=2&page=2", headers=bearer(clerk)))
    assert [d["code"] for d in second["items"]] == [world["anh"]]
    past = ok(client.get("/api/v1/dossiers?per_page=2&page=9", headers=bearer(clerk)))
    assert past["page"] == 2  # clamped into the pages there are
    item = second["items"][0]
    assert item["url"] == f"/counter/dossiers/{world['anh']}"
    assert (item["applicant_name"], item["state_label"]) == (ANH[0], "Đã tiếp nhận")


def test_an_erased_applicant_is_no_longer_found_by_name_or_id(app, client, world):
    with in_db(app) as session:
        dossier = session.query(Dossier).filter_by(code=world["anh"]).one()
        erase(dossier, MONDAY_9)
    clerk = world["clerk"]
    assert codes(client, clerk, "q=nguyen") == []
    assert codes(client, clerk, f"q={ANH[1]}") == []
    assert codes(client, clerk, "q=261123-0001") == [world["anh"]]  # the code stays


def test_roles_and_bad_queries(app, client, world):
    assert_error(client.get("/api/v1/dossiers"), 401, "unauthorized")
    assert_error(client.get("/api/v1/dossiers", headers=bearer(add_device(app, "kiosk", "K1"))), 401)
    integration = add_integration_user(app, client)
    assert len(ok(client.get("/api/v1/dossiers?q=van", headers=bearer(integration)))["items"]) == 2
    for query in ("state=lost", "from=23/11/2026", "per_page=1000", "page=0", "service_id=x",
                  "q=" + "x" * 201, "overdue=maybe", "extra=1"):
        assert_error(client.get(f"/api/v1/dossiers?{query}", headers=bearer(world["clerk"])), 422)


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_migration_0011_fills_the_search_text_and_takes_the_new_events(backend, tmp_path, request):
    """Dossiers received before 0011 are found by their unaccented name; deliveries of the
    three new events are accepted after it, and dropped by the downgrade."""
    from alembic import command
    from sqlalchemy import text
    from sqlalchemy.exc import IntegrityError

    from onestop.db import make_engine
    from onestop.migrate import alembic_config, upgrade

    url = (f"sqlite:///{tmp_path / 's.sqlite3'}" if backend == "sqlite"
           else request.getfixturevalue("pg_url"))
    upgrade(url, "0010")
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO units (code, name, address, timezone, settings, catalog_version)"
                          " VALUES ('M11', 'Unit', '', 'Asia/Ho_Chi_Minh', '{}', 1)"))
        unit = conn.scalar(text("SELECT id FROM units WHERE code = 'M11'"))
        conn.execute(text("INSERT INTO procedures (unit_id, code, name, processing_days, fee, documents,"
                          " search_text, active) VALUES (:u, 'P', 'Proc', 1, '', '[]', '', true)"),
                     {"u": unit})
        proc = conn.scalar(text("SELECT id FROM procedures WHERE unit_id = :u"), {"u": unit})
        conn.execute(text(
            "INSERT INTO dossiers (code, unit_id, procedure_id, business_date, number, book_year,"
            " book_volume, book_line, applicant_name, applicant_id_number, applicant_phone,"
            " applicant_email, applicant_address, on_behalf_of, documents, state, received_at,"
            " appointment_at, updated_at, supplement_count, supplement_note, apology_count,"
            " apology_reason, note) VALUES ('M11-261123-0001', :u, :p, '2026-11-23', 1, 2026, 'S/2026',"
            " 1, 'Đặng Thị Ánh', '001090000001', '0901234567', '', '', '', '[]', 'received',"
            " '2026-11-23 02:00:00', '2026-11-24 02:00:00', '2026-11-23 02:00:00', 0, '', 0, '', '')"),
            {"u": unit, "p": proc})
        conn.execute(text("INSERT INTO webhooks (unit_id, url, secret, events, active, created_at)"
                          " VALUES (:u, 'http://x.example/', 's', '[]', true, '2026-11-23 02:00:00')"),
                     {"u": unit})
    engine.dispose()
    upgrade(url)
    delivery = ("INSERT INTO webhook_deliveries (webhook_id, event, payload, state, attempts, last_error,"
                " created_at) VALUES ((SELECT id FROM webhooks), :e, '{}', 'pending', 0, '',"
                " '2026-11-23 02:00:00')")
    engine = make_engine(url)
    with engine.begin() as conn:
        assert conn.scalar(text("SELECT search_text FROM dossiers")) == \
            "m11-261123-0001 dang thi anh 001090000001 0901234567"
        for event in ("dossier.ready", "dossier.supplement_requested", "dossier.returned", "ticket.called"):
            conn.execute(text(delivery), {"e": event})
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(text(delivery), {"e": "dossier.eaten"})
    engine.dispose()
    command.downgrade(alembic_config(url), "0010")
    engine = make_engine(url)
    with engine.begin() as conn:
        assert conn.execute(text("SELECT event FROM webhook_deliveries")).scalars().all() == ["ticket.called"]
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(text(delivery), {"e": "dossier.ready"})
    engine.dispose()
