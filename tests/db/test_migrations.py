"""The Alembic migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from onestop.db import Database, make_engine, next_sequence
from onestop.migrate import current_heads, upgrade
from onestop.models import Base


def _diff(url: str) -> list:
    engine = make_engine(url)
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(ctx, Base.metadata)
    engine.dispose()
    return diff


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_migrations_match_models(backend, tmp_path, request):
    url = (f"sqlite:///{tmp_path / 'm.sqlite3'}" if backend == "sqlite"
           else request.getfixturevalue("pg_url"))
    upgrade(url)
    db_rev, head = current_heads(url)
    assert db_rev == head
    assert _diff(url) == []
    upgrade(url)  # running it again is harmless


def test_sqlite_runs_in_wal_with_immediate_transactions(tmp_path):
    url = f"sqlite:///{tmp_path / 'w.sqlite3'}"
    database = Database()
    database.engine = make_engine(url, busy_timeout_ms=400)
    database.session_factory.configure(bind=database.engine)
    other = make_engine(url, busy_timeout_ms=400)
    with database.transaction() as session:
        assert session.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        # SQLite never sleeps in C (see onestop.db._begin_immediate): the wait is ours
        assert session.execute(text("PRAGMA busy_timeout")).scalar() == 0
        # this transaction holds the write lock from its BEGIN: another one waits for it
        # for the configured time, then gives up with "database is locked"
        t0 = time.monotonic()
        with pytest.raises(OperationalError, match="locked"), other.begin():
            pass
        assert 0.35 < time.monotonic() - t0 < 2.0
    with other.begin() as conn:  # free again
        assert conn.execute(text("SELECT 1")).scalar() == 1
    other.dispose()
    database.engine.dispose()


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_sequence_is_per_scope_and_day_and_rolls_back(backend, tmp_path, request):
    url = (f"sqlite:///{tmp_path / 's.sqlite3'}" if backend == "sqlite"
           else request.getfixturevalue("pg_url"))
    upgrade(url)
    database = Database()
    database.engine = make_engine(url)
    database.session_factory.configure(bind=database.engine)
    day, next_day = dt.date(2026, 11, 23), dt.date(2026, 11, 24)
    with database.transaction() as s:
        assert [next_sequence(s, "a", day) for _ in range(3)] == [1, 2, 3]
        assert next_sequence(s, "b", day) == 1
        assert next_sequence(s, "a", next_day) == 1
    with pytest.raises(RuntimeError), database.transaction() as s:
        next_sequence(s, "a", day)
        raise RuntimeError("refused")
    with database.transaction() as s:
        assert next_sequence(s, "a", day) == 4
    database.engine.dispose()


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_0007_keeps_tickets_and_adds_their_procedure(backend, tmp_path, request):
    """Tickets issued before 0007 survive it with no procedure; new ones can carry one."""
    from sqlalchemy import inspect

    url = (f"sqlite:///{tmp_path / 'p.sqlite3'}" if backend == "sqlite"
           else request.getfixturevalue("pg_url"))
    upgrade(url, "0006")
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO units (code, name, address, timezone, settings, catalog_version)"
                          " VALUES ('M7', 'Unit', '', 'Asia/Ho_Chi_Minh', '{}', 1)"))
        unit = conn.scalar(text("SELECT id FROM units WHERE code = 'M7'"))
        conn.execute(text("INSERT INTO services (unit_id, code, name, name_en, prefix, weekdays,"
                          " windows, cutoff_minutes, zone, active, sort_order)"
                          " VALUES (:u, 'S', 'Field', '', 'A', '[]', '[]', 0, '', true, 0)"), {"u": unit})
        service = conn.scalar(text("SELECT id FROM services WHERE unit_id = :u"), {"u": unit})
        conn.execute(text(
            "INSERT INTO tickets (unit_id, service_id, issued_service_id, business_date, number,"
            " label, priority, source, state, issued_at, queue_at, recall_count, print_state)"
            " VALUES (:u, :s, :s, '2026-11-23', 1, 'A001', 'none', 'kiosk', 'waiting',"
            " '2026-11-23 02:00:00', '2026-11-23 02:00:00', 0, 'none')"), {"u": unit, "s": service})
    engine.dispose()
    upgrade(url)
    engine = make_engine(url)
    columns = {c["name"]: c for c in inspect(engine).get_columns("tickets")}
    assert columns["procedure_code"]["nullable"]
    with engine.begin() as conn:
        assert conn.execute(text("SELECT label, procedure_code FROM tickets")).all() == [("A001", None)]
        conn.execute(text("UPDATE tickets SET procedure_code = '1.001193'"))
        assert conn.scalar(text("SELECT procedure_code FROM tickets")) == "1.001193"
    engine.dispose()


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_0008_keeps_accounts_and_their_sessions_and_adds_locks_and_budgets(backend, tmp_path, request):
    """Accounts (and the tokens that point at them) survive 0008; a session signed in before
    it keeps its stamp (generation 0); the lock moves to login_locks; downgrade goes back."""
    import hashlib

    from alembic import command
    from sqlalchemy import inspect

    from onestop.accounts.models import User
    from onestop.migrate import alembic_config

    url = (f"sqlite:///{tmp_path / 'l.sqlite3'}" if backend == "sqlite"
           else request.getfixturevalue("pg_url"))
    upgrade(url, "0007")
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO users (username, full_name, password_hash, role, active, created_at,"
                          " failed_logins, locked_until) VALUES ('m8', 'M', 'h', 'clerk', true,"
                          " '2026-11-23 02:00:00', 3, '2026-11-23 02:10:00')"))
        uid = conn.scalar(text("SELECT id FROM users WHERE username = 'm8'"))
        conn.execute(text("INSERT INTO api_tokens (user_id, token_hash, created_at)"
                          " VALUES (:u, 'x8', '2026-11-23 02:00:00')"), {"u": uid})
    engine.dispose()
    upgrade(url)
    engine = make_engine(url)
    columns = {c["name"] for c in inspect(engine).get_columns("users")}
    assert "session_generation" in columns and not {"failed_logins", "locked_until"} & columns
    assert {"login_locks", "throttle_counts"} <= set(inspect(engine).get_table_names())
    with engine.begin() as conn:
        assert conn.execute(text("SELECT username, session_generation FROM users")).all() == [("m8", 0)]
        assert conn.scalar(text("SELECT user_id FROM api_tokens")) == uid
        conn.execute(text("INSERT INTO login_locks (user_id, address, failures, locks)"
                          " VALUES (:u, '10.0.0.1', 1, 0)"), {"u": uid})
    # generation 0 stamps a session as before 0008: nobody is signed out by the upgrade
    old_stamp = hashlib.sha256(b"h").hexdigest()[:16]
    assert User(password_hash="h", session_generation=0).session_stamp() == old_stamp
    engine.dispose()
    command.downgrade(alembic_config(url), "0007")
    engine = make_engine(url)
    assert "login_locks" not in inspect(engine).get_table_names()
    assert "failed_logins" in {c["name"] for c in inspect(engine).get_columns("users")}
    engine.dispose()


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_0009_links_tickets_to_dossiers_once_a_day(backend, tmp_path, request):
    """Tickets issued before 0009 survive it unlinked; a ticket can be linked to a dossier with
    a purpose, only one per dossier and day, a foreign purpose is refused; downgrade goes back."""
    from alembic import command
    from sqlalchemy import inspect
    from sqlalchemy.exc import IntegrityError

    from onestop.migrate import alembic_config

    url = (f"sqlite:///{tmp_path / 'd.sqlite3'}" if backend == "sqlite"
           else request.getfixturevalue("pg_url"))
    upgrade(url, "0008")
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO units (code, name, address, timezone, settings, catalog_version)"
                          " VALUES ('M9', 'Unit', '', 'Asia/Ho_Chi_Minh', '{}', 1)"))
        unit = conn.scalar(text("SELECT id FROM units WHERE code = 'M9'"))
        conn.execute(text("INSERT INTO services (unit_id, code, name, name_en, prefix, weekdays,"
                          " windows, cutoff_minutes, zone, active, sort_order)"
                          " VALUES (:u, 'S', 'Field', '', 'A', '[]', '[]', 0, '', true, 0)"), {"u": unit})
        service = conn.scalar(text("SELECT id FROM services WHERE unit_id = :u"), {"u": unit})
        for n in (1, 2, 3):
            conn.execute(text(
                "INSERT INTO tickets (unit_id, service_id, issued_service_id, business_date, number,"
                " label, priority, source, state, issued_at, queue_at, recall_count, print_state)"
                " VALUES (:u, :s, :s, '2026-11-23', :n, 'A00' || :n, 'none', 'kiosk', 'waiting',"
                " '2026-11-23 02:00:00', '2026-11-23 02:00:00', 0, 'none')"),
                {"u": unit, "s": service, "n": n})
        conn.execute(text("INSERT INTO procedures (unit_id, service_id, code, name, processing_days,"
                          " fee, documents, search_text, active)"
                          " VALUES (:u, :s, 'P', 'Proc', 1, '', '[]', '', true)"), {"u": unit, "s": service})
        proc = conn.scalar(text("SELECT id FROM procedures WHERE unit_id = :u"), {"u": unit})
        conn.execute(text(
            "INSERT INTO dossiers (code, unit_id, procedure_id, business_date, number, book_year,"
            " book_volume, book_line, applicant_name, applicant_id_number, applicant_phone,"
            " applicant_email, applicant_address, on_behalf_of, documents, state, received_at,"
            " appointment_at, updated_at, supplement_count, supplement_note, apology_count,"
            " apology_reason, note) VALUES ('M9-261123-0001', :u, :p, '2026-11-23', 1, 2026, 'S/2026',"
            " 1, 'A', '001090000001', '0901234567', '', '', '', '[]', 'ready', '2026-11-23 02:00:00',"
            " '2026-11-24 02:00:00', '2026-11-23 02:00:00', 0, '', 0, '', '')"), {"u": unit, "p": proc})
    engine.dispose()
    upgrade(url)
    engine = make_engine(url)
    columns = {c["name"]: c for c in inspect(engine).get_columns("tickets")}
    assert columns["dossier_id"]["nullable"] and columns["purpose"]["nullable"]
    with engine.begin() as conn:
        assert conn.execute(text("SELECT dossier_id, purpose FROM tickets")).all() == [(None, None)] * 3
        dossier = conn.scalar(text("SELECT id FROM dossiers"))
        conn.execute(text("UPDATE tickets SET dossier_id = :d, purpose = 'pickup' WHERE number = 1"),
                     {"d": dossier})
    for sql in ("UPDATE tickets SET dossier_id = :d, purpose = 'pickup' WHERE number = 2",
                "UPDATE tickets SET purpose = 'lunch' WHERE number = 3"):
        with pytest.raises(IntegrityError), engine.begin() as conn:
            conn.execute(text(sql), {"d": dossier})
    with engine.begin() as conn:
        assert conn.execute(text("SELECT number, dossier_id, purpose FROM tickets ORDER BY number")).all() \
            == [(1, dossier, "pickup"), (2, None, None), (3, None, None)]
    engine.dispose()
    command.downgrade(alembic_config(url), "0008")
    engine = make_engine(url)
    assert not {"dossier_id", "purpose"} & {c["name"] for c in inspect(engine).get_columns("tickets")}
    engine.dispose()


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_0010_adds_provincial_codes_and_the_push_outbox(backend, tmp_path, request):
    """Tickets and dossiers from before 0010 keep their rows with no provincial code; the
    code is indexed on dossiers; pushes refuse a foreign state; downgrade goes back to 0009."""
    from alembic import command
    from sqlalchemy import inspect
    from sqlalchemy.exc import IntegrityError

    from onestop.migrate import alembic_config

    url = (f"sqlite:///{tmp_path / 'p.sqlite3'}" if backend == "sqlite"
           else request.getfixturevalue("pg_url"))
    upgrade(url, "0009")
    engine = make_engine(url)
    assert "province_pushes" not in inspect(engine).get_table_names()
    engine.dispose()
    upgrade(url, "0010")
    engine = make_engine(url)
    inspector = inspect(engine)
    assert inspector.get_columns("tickets")[-1]["name"] == "provincial_code"
    assert "ix_dossiers_provincial_code" in {i["name"] for i in inspector.get_indexes("dossiers")}
    assert {"state", "attempts", "next_attempt_at", "last_error", "payload"} <= {
        c["name"] for c in inspector.get_columns("province_pushes")}
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(text("INSERT INTO province_pushes (dossier_id, payload, state, attempts, last_error,"
                          " created_at) VALUES (1, '{}', 'lost', 0, '', '2026-11-23 02:00:00')"))
    engine.dispose()
    command.downgrade(alembic_config(url), "0009")
    engine = make_engine(url)
    assert "province_pushes" not in inspect(engine).get_table_names()
    assert "provincial_code" not in {c["name"] for c in inspect(engine).get_columns("dossiers")}
    assert "provincial_code" not in {c["name"] for c in inspect(engine).get_columns("tickets")}
    engine.dispose()


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_0012_adds_bookings_and_the_new_ticket_sources_keeping_tickets(backend, tmp_path, request):
    """Tickets from before 0012 (with the events that refer to them) survive it, the source
    CHECK takes booking, remote and reception and still refuses anything else (replaced in
    place on SQLite: no foreign key broken); bookings refuse a foreign state and a second
    code; downgrade turns the new sources into api and goes back to 0011."""
    from alembic import command
    from sqlalchemy import inspect
    from sqlalchemy.exc import IntegrityError

    from onestop.migrate import alembic_config

    url = (f"sqlite:///{tmp_path / 'b.sqlite3'}" if backend == "sqlite"
           else request.getfixturevalue("pg_url"))
    upgrade(url, "0011")
    engine = make_engine(url)
    ticket_sql = ("INSERT INTO tickets (unit_id, service_id, issued_service_id, business_date, number,"
                  " label, priority, source, state, issued_at, queue_at, recall_count, print_state)"
                  " VALUES (:u, :s, :s, '2026-11-23', :n, 'A', 'none', :source, 'waiting',"
                  " '2026-11-23 02:00:00', '2026-11-23 02:00:00', 0, 'none')")
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO units (code, name, address, timezone, settings, catalog_version)"
                          " VALUES ('M12', 'Unit', '', 'Asia/Ho_Chi_Minh', '{}', 1)"))
        unit = conn.scalar(text("SELECT id FROM units WHERE code = 'M12'"))
        conn.execute(text("INSERT INTO services (unit_id, code, name, name_en, prefix, weekdays,"
                          " windows, cutoff_minutes, zone, active, sort_order)"
                          " VALUES (:u, 'S', 'Field', '', 'A', '[]', '[]', 0, '', true, 0)"), {"u": unit})
        service = conn.scalar(text("SELECT id FROM services WHERE unit_id = :u"), {"u": unit})
        for n, source in ((1, "kiosk"), (2, "counter")):
            conn.execute(text(ticket_sql), {"u": unit, "s": service, "n": n, "source": source})
        conn.execute(text("INSERT INTO ticket_events (ticket_id, at, action, to_state, details)"
                          " SELECT id, issued_at, 'issue', 'waiting', '{}' FROM tickets"))
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(text(ticket_sql), {"u": unit, "s": service, "n": 3, "source": "booking"})
    engine.dispose()
    upgrade(url, "0012")
    engine = make_engine(url)
    inspector = inspect(engine)
    assert {"phone", "origin"} <= {c["name"] for c in inspector.get_columns("tickets")}
    assert {"ix_bookings_slot", "ix_bookings_phone"} <= {i["name"] for i in inspector.get_indexes("bookings")}
    with engine.begin() as conn:
        assert conn.execute(text("SELECT number, source, phone FROM tickets ORDER BY number")).all() \
            == [(1, "kiosk", None), (2, "counter", None)]
        assert conn.scalar(text("SELECT count(*) FROM ticket_events")) == 2
        assert conn.scalar(text("SELECT booking FROM services")) is None
        for n, source in ((3, "booking"), (4, "remote"), (5, "reception")):
            conn.execute(text(ticket_sql), {"u": unit, "s": service, "n": n, "source": source})
        if backend == "sqlite":
            assert conn.execute(text("PRAGMA foreign_key_check")).all() == []
            assert conn.scalar(text("PRAGMA integrity_check")) == "ok"
    booking_sql = ("INSERT INTO bookings (unit_id, service_id, code, start, \"end\", phone, state,"
                   " channel, created_at) VALUES (:u, :s, :code, '2026-11-23 02:30:00',"
                   " '2026-11-23 02:45:00', '+84912345678', :state, 'web', '2026-11-20 02:00:00')")
    with engine.begin() as conn:
        conn.execute(text(booking_sql), {"u": unit, "s": service, "code": "ABCDEF", "state": "booked"})
    for sql, values in ((ticket_sql, {"n": 6, "source": "fax"}),
                        (booking_sql, {"code": "ABCDEG", "state": "lost"}),
                        (booking_sql, {"code": "ABCDEF", "state": "booked"})):
        with pytest.raises(IntegrityError), engine.begin() as conn:
            conn.execute(text(sql), {"u": unit, "s": service, **values})
    engine.dispose()
    command.downgrade(alembic_config(url), "0011")
    engine = make_engine(url)
    assert "bookings" not in inspect(engine).get_table_names()
    assert "booking" not in {c["name"] for c in inspect(engine).get_columns("services")}
    with engine.begin() as conn:
        assert conn.execute(text("SELECT number, source FROM tickets ORDER BY number")).all() == [
            (1, "kiosk"), (2, "counter"), (3, "api"), (4, "api"), (5, "api")]
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(text(ticket_sql), {"u": unit, "s": service, "n": 7, "source": "remote"})
    engine.dispose()


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_0013_adds_notes_reception_roles_and_desk_printers(backend, tmp_path, request):
    """Before 0013 a reception account is refused; after it the account, a desk printer, a
    ticket note and a supervisor's units are stored; downgrade goes back to 0012, turning the
    new accounts into inactive clerks."""
    from alembic import command
    from sqlalchemy import inspect
    from sqlalchemy.exc import IntegrityError

    from onestop.migrate import alembic_config

    url = (f"sqlite:///{tmp_path / 'd.sqlite3'}" if backend == "sqlite"
           else request.getfixturevalue("pg_url"))
    add = ("INSERT INTO users (username, full_name, password_hash, role, active, created_at,"
           " session_generation) VALUES ('desk', '', 'x', 'reception', true, '2026-12-01 02:00:00', 0)")
    upgrade(url, "0012")
    engine = make_engine(url)
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(text(add))
    engine.dispose()
    upgrade(url, "0013")
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text(add))
        conn.execute(text("INSERT INTO units (code, name, address, timezone, settings, catalog_version)"
                          " VALUES ('U1', 'U', '', 'Asia/Ho_Chi_Minh', '{}', 0)"))
        conn.execute(text("INSERT INTO user_units (user_id, unit_id)"
                          " SELECT u.id, n.id FROM users u, units n"))
        conn.execute(text("INSERT INTO devices (unit_id, kind, name, token_hash, settings, created_at)"
                          " SELECT id, 'printer', 'Bàn đón tiếp', 'h', '{}', '2026-12-01 02:00:00'"
                          " FROM units"))
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(text("UPDATE users SET role = 'boss'"))
    assert {"note", "return_counter_id"} <= {c["name"] for c in inspect(engine).get_columns("tickets")}
    engine.dispose()
    command.downgrade(alembic_config(url), "0012")
    engine = make_engine(url)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT role, active FROM users")).one() == ("clerk", False)
        assert conn.execute(text("SELECT kind FROM devices")).scalar_one() == "kiosk"
    assert "user_units" not in inspect(engine).get_table_names()
    assert "note" not in {c["name"] for c in inspect(engine).get_columns("tickets")}
    engine.dispose()


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_0014_adds_hall_media_and_playlists(backend, tmp_path, request):
    """0014 adds the media and playlist tables (a playlist line is a medium or the QR cards,
    never both); downgrade goes back to 0013 without them."""
    from alembic import command
    from sqlalchemy import inspect
    from sqlalchemy.exc import IntegrityError

    from onestop.migrate import alembic_config

    url = (f"sqlite:///{tmp_path / 'h.sqlite3'}" if backend == "sqlite"
           else request.getfixturevalue("pg_url"))
    upgrade(url, "0014")
    engine = make_engine(url)
    assert {"media_items", "playlist_items"} <= set(inspect(engine).get_table_names())
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO units (code, name, address, timezone, settings, catalog_version)"
                          " VALUES ('M1', 'Đơn vị', '', 'Asia/Ho_Chi_Minh', '{}', 0)"))
        conn.execute(text("INSERT INTO playlist_items (unit_id, zone, position, kind, seconds)"
                          " SELECT id, '', 0, 'qr_cards', 10 FROM units"))
    with pytest.raises(IntegrityError), engine.begin() as conn:  # a medium's line needs its medium
        conn.execute(text("INSERT INTO playlist_items (unit_id, zone, position, kind)"
                          " SELECT id, '', 1, 'media' FROM units"))
    engine.dispose()
    command.downgrade(alembic_config(url), "0013")
    engine = make_engine(url)
    assert not {"media_items", "playlist_items"} & set(inspect(engine).get_table_names())
    engine.dispose()
