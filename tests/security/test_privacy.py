"""Privacy (Nghị định 13/2023/NĐ-CP): retention purge, export on request, audited reads,
no tokens or ID numbers in the logs."""

from __future__ import annotations

import datetime as dt
import json
import logging
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from sqlalchemy import select

from onestop import privacy
from onestop.audit.models import AuditEntry
from onestop.cli import main
from onestop.dossiers.engine import change_state
from onestop.dossiers.models import Dossier
from onestop.ops.logs import ACCESS_FORMAT, JsonFormatter, RedactFilter, TextFormatter
from onestop.queueing.engine import Actor
from tests.api.helpers import assert_error, in_db
from tests.conftest import bearer, token_for
from tests.dossiers.conftest import APPLICANT, demo_unit, receive

ID = APPLICANT.id_number
LONG_AGO = dt.datetime(2024, 3, 4, 2, 0, tzinfo=dt.UTC)


def _closed_dossier(session: Any, when: dt.datetime, state: str = "returned") -> Dossier:
    dossier = receive(session, when)
    actor = Actor(user_id=3)
    if state == "returned":
        change_state(session, dossier, "processing", actor=actor, now=when)
        change_state(session, dossier, "ready", actor=actor, now=when)
        change_state(session, dossier, "returned", actor=actor, now=when)
    elif state == "withdrawn":
        change_state(session, dossier, "withdrawn", actor=actor, now=when)
    session.flush()
    return dossier


def _dossiers(app: Any) -> tuple[str, str, str]:
    """An old returned dossier, an old open one, and a recently returned one."""
    with in_db(app) as session:
        old = _closed_dossier(session, LONG_AGO).code
        still_open = receive(session, LONG_AGO).code
        recent = _closed_dossier(session, dt.datetime.now(dt.UTC) - dt.timedelta(days=10)).code
    return old, still_open, recent


def _row(app: Any, code: str) -> dict[str, Any]:
    with in_db(app) as session:
        d = session.scalars(select(Dossier).where(Dossier.code == code)).one()
        return {"name": d.applicant_name, "id": d.applicant_id_number, "phone": d.applicant_phone,
                "email": d.applicant_email, "address": d.applicant_address,
                "erased": d.personal_erased_at, "state": d.state, "procedure_id": d.procedure_id,
                "received_at": d.received_at}


def test_purge_erases_only_closed_dossiers_past_retention(app: Any) -> None:
    old, still_open, recent = _dossiers(app)
    before = _row(app, old)
    with in_db(app) as session:
        dry = privacy.purge(session, dt.datetime.now(dt.UTC), dry_run=True)
    assert list(dry.codes.values()) == [[old]]
    assert _row(app, old)["erased"] is None  # a dry run changes nothing
    with in_db(app) as session:
        done = privacy.purge(session, dt.datetime.now(dt.UTC))
    assert done.count == 1
    after = _row(app, old)
    assert after["name"] == "(đã xoá)" and after["erased"] is not None
    assert after["id"] == after["phone"] == after["email"] == after["address"] == ""
    # statistics stay: state, procedure, dates
    assert (after["state"], after["procedure_id"], after["received_at"]) == (
        before["state"], before["procedure_id"], before["received_at"])
    assert _row(app, still_open)["id"] == ID and _row(app, recent)["id"] == ID
    with in_db(app) as session:  # a second run has nothing left to do
        assert privacy.purge(session, dt.datetime.now(dt.UTC)).count == 0
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "purge")).one()
        assert entry.after is not None and entry.after["codes"] == [old]


def test_retention_is_a_unit_setting(app: Any) -> None:
    _old, _open, recent = _dossiers(app)
    with in_db(app) as session:
        demo_unit(session).settings = {**demo_unit(session).settings,
                                       "personal_data_retention_days": 5}
    with in_db(app) as session:
        assert privacy.purge(session, dt.datetime.now(dt.UTC)).count == 2
    assert _row(app, recent)["name"] == "(đã xoá)"


def test_erased_dossier_still_reads_and_prints(app: Any, client: Any) -> None:
    old, _open, _recent = _dossiers(app)
    with in_db(app) as session:
        privacy.purge(session, dt.datetime.now(dt.UTC))
    token = token_for(client, "clerk1")
    res = client.get(f"/api/v1/dossiers/{old}", headers=bearer(token))
    assert res.status_code == 200 and res.get_json()["applicant"]["id_number"] == ""
    assert client.get(f"/api/v1/dossiers/{old}/receipt.pdf", headers=bearer(token)).status_code == 200
    assert client.get("/api/v1/dossiers/book.xlsx?year=2024", headers=bearer(token)).status_code == 200


def _cli(db_url: str, tmp_path: Path, *args: str) -> Any:
    env = {"ONESTOP_DATA_DIR": str(tmp_path), "ONESTOP_DATABASE_URL": db_url}
    return CliRunner().invoke(main, list(args), env=env)


def test_cli_purge_export_and_day_close(app: Any, tmp_path: Path) -> None:
    old, still_open, _recent = _dossiers(app)
    url = app.config["DATABASE_URL"]
    dry = _cli(url, tmp_path, "privacy", "purge", "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert old in dry.output and "would be erased" in dry.output
    assert _row(app, old)["erased"] is None

    out = tmp_path / "person.json"
    res = _cli(url, tmp_path, "privacy", "export", "--id-number", ID, "--out", str(out))
    assert res.exit_code == 0, res.output
    data = json.loads(out.read_text(encoding="utf-8"))
    assert {d["code"] for d in data["dossiers"]} >= {old, still_open}
    assert all(d["applicant"]["id_number"] == ID for d in data["dossiers"])
    assert out.stat().st_mode & 0o077 == 0
    bad = _cli(url, tmp_path, "privacy", "export", "--id-number", "12ab")
    assert bad.exit_code != 0

    closed = _cli(url, tmp_path, "day-close")
    assert closed.exit_code == 0, closed.output
    assert "1 dossier(s): personal data erased" in closed.output
    assert _row(app, old)["name"] == "(đã xoá)"
    with in_db(app) as session:
        exports = session.scalars(select(AuditEntry).where(AuditEntry.action == "export")).all()
        assert [e.entity_id for e in exports] == ["*********005"]


def test_person_api_is_admin_only_and_audited(app: Any, client: Any) -> None:
    old, still_open, _recent = _dossiers(app)
    url = f"/api/v1/privacy/person?id_number={ID}"
    assert_error(client.get(url), 401, "unauthorized")
    for name in ("clerk1", "manager"):
        assert_error(client.get(url, headers=bearer(token_for(client, name))), 403, "forbidden")
    admin = bearer(token_for(client, "admin"))
    assert_error(client.get("/api/v1/privacy/person?id_number=abc", headers=admin), 422)
    res = client.get(url, headers=admin)
    assert res.status_code == 200
    assert res.headers["Cache-Control"] == "private, no-store"
    codes = {d["code"] for d in res.get_json()["dossiers"]}
    assert {old, still_open} <= codes
    empty = client.get("/api/v1/privacy/person?id_number=999999999", headers=admin)
    assert empty.get_json()["dossiers"] == []
    with in_db(app) as session:
        entries = session.scalars(select(AuditEntry).where(AuditEntry.entity == "person")).all()
    assert len(entries) == 2 and entries[0].actor_name
    assert ID not in json.dumps([e.entity_id for e in entries])


def test_staff_reads_of_a_dossier_are_audited_public_lookups_are_not(app: Any, client: Any) -> None:
    old, _open, _recent = _dossiers(app)
    token = bearer(token_for(client, "clerk1"))
    assert client.get(f"/api/v1/dossiers/{old}", headers=token).status_code == 200
    assert client.get(f"/api/v1/dossiers/{old}/receipt.pdf", headers=token).status_code == 200
    assert client.get(f"/api/v1/dossiers/{old}/refusal.pdf", headers=token).status_code == 404
    assert client.get(f"/api/v1/lookup?code={old}&phone4=5678").status_code == 200
    with in_db(app) as session:
        reads = session.execute(select(AuditEntry.entity_id, AuditEntry.actor_name, AuditEntry.after)
                                .where(AuditEntry.action == "read", AuditEntry.entity == "dossier")
                                .order_by(AuditEntry.id)).all()
    assert [r[0] for r in reads] == [old, old]  # the detail, then the receipt; not the 404
    assert reads[1][2] == {"form": "receipt_pdf"}
    assert all(r[1] for r in reads)


def test_log_lines_carry_no_tokens_or_phone_digits() -> None:
    atoms = {"h": "10.0.0.7", "{x-forwarded-for}i": "-", "r": "GET /lookup/H56-1?k=secret12&lang=en HTTP/1.1",
             "s": "200", "b": "10", "M": "3", "a": "UA", "{onestop.request_id}e": "rid1",
             "m": "GET", "U": "/lookup/H56-1", "q": "k=secret12&phone4=5678&lang=en", "B": "10"}
    for formatter in (TextFormatter(), JsonFormatter()):
        record = logging.LogRecord("gunicorn.access", logging.INFO, __file__, 1, ACCESS_FORMAT,
                                   None, None)
        record.args = dict(atoms)
        assert RedactFilter().filter(record)
        line = formatter.format(record)
        assert "secret12" not in line and "5678" not in line, line
        assert "k=***" in line and "lang=en" in line
    app_record = logging.LogRecord("onestop", logging.WARNING, __file__, 1, "refused %s", ("/t/3?k=abc",),
                                   None)
    RedactFilter().filter(app_record)
    assert app_record.getMessage() == "refused /t/3?k=***"


def test_logging_config_installs_the_filter() -> None:
    from onestop.ops.logs import logging_config

    config = logging_config("json", "info")
    assert config["handlers"]["onestop"]["filters"] == ["redact"]



def test_the_real_access_log_has_no_lookup_tokens(tmp_path: Path) -> None:
    """gunicorn's access log of a running server (``onestop demo``): the paths, never the
    ``k=`` / ``phone4=`` values."""
    import requests

    from tests.livesrv import demo_server

    with demo_server(tmp_path, ONESTOP_LOG_FORMAT="json") as base:
        requests.get(f"{base}/lookup/H56-000000-0001?k=secrettoken12", timeout=10)
        requests.get(f"{base}/api/v1/lookup?code=H56-000000-0001&phone4=9876", timeout=10)
        requests.get(f"{base}/t/1?k=anothersecret", timeout=10)
        requests.get(f"{base}/healthz", timeout=10)
    log = (tmp_path / "server.log").read_text(encoding="utf-8", errors="replace")
    assert "/lookup/H56-000000-0001" in log and "/t/1" in log  # the access log is there
    for secret in ("secrettoken12", "9876", "anothersecret"):
        assert secret not in log, secret
