"""``onestop doctor``: check a deployment, one line per check, exit 1 on any FAIL.

Each check says OK, WARN (works, but look at it) or FAIL (something a citizen or clerk will
notice), and for WARN and FAIL what to do. The checks read the same settings as the
server: on an installed box run ``onestop-admin doctor`` (``systemd/onestop-admin``: the
service user with ``/etc/onestop/onestop.env``; see ``systemd/INSTALL.md``).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import subprocess
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session

OK, WARN, FAIL = "OK", "WARN", "FAIL"
STATUS_TIMEOUT_S = 2.0  # the printers' own status timeout (hardware.printing)
PRINTERS_DEADLINE_S = 15.0  # all printers together, whatever a driver does
BACKUP_MAX_AGE = dt.timedelta(hours=36)
VENDOR_FILES = (
    "socket.io/socket.io.min.js",
    "fonts/be-vietnam-pro.css",
    "swagger-ui/swagger-ui-bundle.js",
    "barcode-detector/barcode-detector.js",
)
PACKAGE = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Result:
    name: str
    status: str
    message: str
    hint: str = ""

    def line(self) -> str:
        hint = f" -> {self.hint}" if self.hint else ""
        return f"{self.status:<4}  {self.name:<14} {self.message}{hint}"


def _pg_timeout(url: str) -> str:
    """PostgreSQL URLs get a 5 s connect timeout, so an unreachable host does not hang doctor."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql" or "connect_timeout" in parsed.query:
        return url
    return parsed.update_query_dict({"connect_timeout": "5"}).render_as_string(hide_password=False)


@contextmanager
def _engine(settings: dict[str, Any]) -> Iterator[Engine]:
    from onestop.db import make_engine

    engine = make_engine(_pg_timeout(str(settings["DATABASE_URL"])),
                         int(settings.get("SQLITE_BUSY_TIMEOUT_MS") or 10000))
    try:
        yield engine
    finally:
        engine.dispose()


def _redacted(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


def check_database(settings: dict[str, Any], engine: Engine) -> Result:
    url = str(settings["DATABASE_URL"])
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001
        return Result("database", FAIL, f"{_redacted(url)} does not answer ({type(exc).__name__})",
                      "check ONESTOP_DATABASE_URL and that the database server runs")
    return Result("database", OK, f"{_redacted(url)} answers")


def check_schema(settings: dict[str, Any]) -> Result:
    from onestop.migrate import current_heads

    try:
        db_rev, head = current_heads(_pg_timeout(str(settings["DATABASE_URL"])))
    except Exception as exc:  # noqa: BLE001
        return Result("schema", FAIL, f"revision unreadable ({type(exc).__name__})",
                      "fix the database first")
    if db_rev is None:
        return Result("schema", FAIL, "no onestop schema", "run: onestop db upgrade")
    if db_rev != head:
        return Result("schema", FAIL, f"database at {db_rev}, code at {head}", "run: onestop db upgrade")
    return Result("schema", OK, f"at head ({head})")


def check_secret(settings: dict[str, Any]) -> Result:
    from onestop.config import DEMO_SECRET

    secret = str(settings.get("SECRET_KEY") or "")
    hint = ("put ONESTOP_SECRET_KEY=$(python3 -c 'import secrets; print(secrets.token_hex(32))') "
            "in the environment file")
    if not secret or secret == DEMO_SECRET:
        return Result("secret", FAIL, "the demo secret (or none) is set", hint)
    if len(secret) < 32:
        return Result("secret", WARN, f"only {len(secret)} characters", hint)
    return Result("secret", OK, "set")


def check_public_url(settings: dict[str, Any]) -> Result:
    url = str(settings.get("PUBLIC_BASE_URL") or "")
    hint = "set ONESTOP_PUBLIC_BASE_URL to the address phones on the office network reach"
    host = urlsplit(url).hostname or ""
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback or host == "0.0.0.0"
    except ValueError:
        loopback = False
    if not host:
        return Result("public-url", FAIL, f"{url!r} is not a URL", hint)
    if loopback:
        return Result("public-url", FAIL, f"{url}: QR codes on receipts would point at the phone itself",
                      hint)
    return Result("public-url", OK, url)


def check_fonts(settings: dict[str, Any]) -> Result:
    from hardware.fonts import FontNotFound, find_font

    found = []
    for bold, key in ((False, "PRINT_FONT"), (True, "PRINT_FONT_BOLD")):
        configured = str(settings.get(key) or "") or None
        try:
            spec = find_font(bold, configured)
        except FontNotFound:
            return Result("fonts", FAIL, "no font covering Vietnamese for printed slips",
                          "apt-get install fonts-dejavu-core, or npm ci + make assets")
        if configured and configured not in spec.paths:
            return Result("fonts", WARN, f"{key} {configured} lacks Vietnamese letters; using {spec.name}",
                          f"fix or clear ONESTOP_{key}")
        found.append(spec.name)
    return Result("fonts", OK, " / ".join(found))


def _printer_status(uri: str) -> tuple[str, str]:
    from hardware.printing import open_printer

    status = open_printer(uri).status()
    return status.state.value, status.detail


def _printing_devices(engine: Engine) -> list[tuple[str, str, str]]:
    """(device label, kind, printer URI) of devices printing directly (not through an agent)."""
    from onestop.accounts.models import Device

    with Session(engine) as session:
        rows = session.scalars(select(Device).where(
            Device.revoked_at.is_(None), Device.printer_uri.is_not(None)).order_by(Device.id)).all()
        return [(f"{d.kind} {d.id} {d.name!r}", d.kind, str(d.printer_uri)) for d in rows
                if d.printer_uri and not str(d.printer_uri).startswith("agent")]


def check_printers(engine: Engine) -> list[Result]:
    try:
        devices = _printing_devices(engine)
    except Exception as exc:  # noqa: BLE001
        return [Result("printers", FAIL, f"devices unreadable ({type(exc).__name__})",
                       "fix the database first")]
    if not devices:
        return [Result("printers", OK, "no device with a direct printer URI (agents report themselves)")]
    pool = ThreadPoolExecutor(max_workers=min(8, len(devices)))
    futures = [(label, uri, pool.submit(_printer_status, uri)) for label, _, uri in devices]
    results = []
    deadline = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=PRINTERS_DEADLINE_S)
    for label, uri, future in futures:
        left = max(0.1, (deadline - dt.datetime.now(dt.UTC)).total_seconds())
        try:
            state, detail = future.result(timeout=left)
        except FutureTimeout:
            state, detail = "unknown", "no answer in time"
        except Exception as exc:  # noqa: BLE001 - a bad URI, a missing driver
            results.append(Result("printer", FAIL, f"{label} {uri}: {exc}", "fix the printer URI"))
            continue
        results.append(_printer_result(label, uri, state, detail))
    pool.shutdown(wait=False, cancel_futures=True)
    return results


def _printer_result(label: str, uri: str, state: str, detail: str) -> Result:
    message = f"{label} {uri}: {state}" + (f" ({detail})" if detail else "")
    if state == "online":
        return Result("printer", OK, message)
    if state == "paper_near_end":
        return Result("printer", WARN, message, "load a new paper roll soon")
    if state == "unknown":
        return Result("printer", WARN, message, "the printer did not say how it is: print a test slip "
                      f"(onestop print-test --printer '{uri}')")
    return Result("printer", FAIL, message, "check power, cable, paper and cover; then "
                  f"onestop print-test --printer '{uri}'")


def check_agents(engine: Engine) -> Result:
    from onestop.accounts.models import Device

    try:
        with Session(engine) as session:
            agents = session.scalars(select(Device).where(
                Device.revoked_at.is_(None), Device.kind == "agent")).all()
            down = [f"{a.id} {a.name!r}" for a in agents
                    if not ((a.settings or {}).get("agent") or {}).get("connected")]
            total = len(agents)
    except Exception as exc:  # noqa: BLE001
        return Result("print-agents", FAIL, f"devices unreadable ({type(exc).__name__})",
                      "fix the database first")
    if not total:
        return Result("print-agents", OK, "none registered")
    if down:
        return Result("print-agents", WARN, f"not connected: {', '.join(down)}",
                      "systemctl status onestop-agent on that PC")
    return Result("print-agents", OK, f"{total} connected")


def check_voice(settings: dict[str, Any] | None = None) -> Result:
    """The server voice a display set to "auto" gets, and what it falls back to."""
    from hardware.voice import Announcer, folders

    clips, cache = folders(settings or {})
    status = Announcer(clips_dir=clips, cache_dir=cache).status("auto")
    espeak = Announcer(cache_dir=cache).status("espeak")
    usable_espeak = espeak.active == "espeak"
    fallback = [f"espeak ({espeak.engine})" if name == "espeak" else name
                for name in status.fallbacks if name != "espeak" or usable_espeak]
    said = f"{status.active}: {status.engine}" if status.engine else status.active
    message = f"{said}; fallback: {', '.join(fallback) or 'none'}"
    if status.active not in ("clips", "espeak"):
        return Result("voice", WARN, f"no server voice ({message}): calls are said only by a display "
                      "browser with a Vietnamese voice, else by the chime alone",
                      "pip install espeakng-loader (make install does), or apt-get install espeak-ng")
    binary = Announcer().espeak().binary
    if usable_espeak and binary and not _espeak_has_vietnamese(binary):
        return Result("voice", WARN, f"{binary} has no Vietnamese voice ({message})",
                      "apt-get install espeak-ng-data")
    return Result("voice", OK, message)


def _espeak_has_vietnamese(binary: str) -> bool:
    try:
        voices = subprocess.run([binary, "--voices=vi"], capture_output=True, text=True, timeout=10,
                                check=False).stdout
    except (OSError, subprocess.SubprocessError):
        return False
    return " vi" in voices


def check_assets(package: Path = PACKAGE) -> list[Result]:
    vendor = package / "static" / "vendor"
    missing = [name for name in VENDOR_FILES if not (vendor / name).is_file()]
    out = [Result("assets", FAIL, f"missing in {vendor}: {', '.join(missing)}",
                  "npm ci && python tools/build_assets.py (make assets), then restart")
           if missing else Result("assets", OK, f"built ({vendor})")]
    catalogues = list((package / "translations").glob("*/LC_MESSAGES/messages.po"))
    stale = [p for p in catalogues if not p.with_suffix(".mo").is_file()]
    if stale:
        out.append(Result("translations", WARN, "not compiled: " + ", ".join(p.parts[-3] for p in stale),
                          "pybabel compile -d onestop/translations (make translations)"))
    return out


def check_queue(settings: dict[str, Any]) -> Result:
    from onestop.ops.health import ping_queue

    url = settings.get("MESSAGE_QUEUE_URL")
    if not url:
        return Result("message-queue", OK, "not configured (one instance)")
    answer = ping_queue(str(url))
    if answer["status"] != "ok":
        return Result("message-queue", FAIL, f"{url} does not answer",
                      "systemctl status redis-server; check ONESTOP_MESSAGE_QUEUE_URL")
    return Result("message-queue", OK, f"{url} answers")


def check_data_dir(settings: dict[str, Any]) -> Result:
    folder = Path(settings["DATA_DIR"])
    if not folder.is_dir():
        return Result("data-dir", FAIL, f"{folder} does not exist", f"mkdir -p {folder}, owned by onestop")
    if not os.access(folder, os.W_OK):
        return Result("data-dir", FAIL, f"{folder} is not writable by this user",
                      f"chown onestop: {folder} (and run doctor as onestop)")
    return Result("data-dir", OK, str(folder))


def check_backups(settings: dict[str, Any], now: dt.datetime | None = None) -> Result:
    from onestop.ops.backup import backup_dir, latest

    folder = backup_dir(settings)
    newest = latest(folder)
    if newest is None:
        return Result("backups", WARN, f"none in {folder}",
                      "systemctl enable --now onestop-backup.timer (or run: onestop backup)")
    age = (now or dt.datetime.now(dt.UTC)) - dt.datetime.fromtimestamp(newest.stat().st_mtime, dt.UTC)
    if age > BACKUP_MAX_AGE:
        return Result("backups", WARN, f"newest is {age.days} d {age.seconds // 3600} h old: {newest}",
                      "systemctl status onestop-backup.service")
    return Result("backups", OK, f"newest {newest.name}")


def run_checks(settings: dict[str, Any]) -> list[Result]:
    results = [check_secret(settings), check_public_url(settings), check_data_dir(settings)]
    with _engine(settings) as engine:
        results.append(check_database(settings, engine))
        database_ok = results[-1].status == OK
        if database_ok:
            results.append(check_schema(settings))
            if results[-1].status == OK:
                results += check_printers(engine)
                results.append(check_agents(engine))
    results += [check_fonts(settings), check_voice(settings), *check_assets(), check_queue(settings),
                check_backups(settings)]
    return results


def main(settings: dict[str, Any], echo: Callable[[str], Any] = print) -> int:
    """Print one line per check and a summary; 1 if any check failed."""
    results = run_checks(settings)
    for result in results:
        echo(result.line())
    failed = sum(r.status == FAIL for r in results)
    warned = sum(r.status == WARN for r in results)
    echo(f"{len(results)} checks: {failed} failed, {warned} warnings")
    return 1 if failed else 0
