"""The dependency audit (tools/audit_deps.py): accepted vulnerabilities need a reason and an
end date; a vulnerability of an installed release fails the audit."""

from __future__ import annotations

import datetime as dt
import importlib.util
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def audit(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location("audit_deps", ROOT / "tools" / "audit_deps.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setattr(module, "IGNORE_FILE", tmp_path / ".pip-audit-ignore")
    return module


def test_the_committed_ignore_file_is_valid(audit: ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(audit, "IGNORE_FILE", ROOT / ".pip-audit-ignore")
    _ids, problems = audit.accepted(dt.date.today())
    assert problems == []


def test_accepting_needs_a_reason_and_lapses(audit: ModuleType) -> None:
    audit.IGNORE_FILE.write_text(
        "# comment\n"
        "GHSA-aaaa-bbbb-cccc  2030-01-31  only the Windows build is affected (lead, 2026-11-22)\n"
        "PYSEC-2024-1  2025-01-01  was fine until the end of last year, review again\n"
        "CVE-2026-9  2030-01-01\n", encoding="utf-8")
    ids, problems = audit.accepted(dt.date(2026, 11, 22))
    assert ids == {"GHSA-aaaa-bbbb-cccc"}
    assert len(problems) == 2
    assert "review it again" in problems[0] and ":4:" in problems[1]


def test_a_vulnerable_latest_release_is_found_unless_accepted(audit: ModuleType,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    from importlib import metadata

    flask_version = metadata.version("flask")
    pages: dict[str, Any] = {
        "flask": {"info": {"version": flask_version},
                  "vulnerabilities": [{"id": "GHSA-test-0001", "aliases": ["CVE-2026-1"],
                                       "fixed_in": ["9.9"], "summary": "bad"}]},
        "werkzeug": {"info": {"version": "999.0"}, "vulnerabilities": []},
        "gone": None,
    }
    monkeypatch.setattr(audit, "project_page", lambda name: pages[name])
    found, unaudited, errors, audited = audit.fallback(["flask", "werkzeug", "gone"], set())
    assert len(found) == 1 and "GHSA-test-0001" in found[0] and "9.9" in found[0]
    assert len(unaudited) == 2 and errors == [] and audited == 1
    found, *_ = audit.fallback(["flask"], {"CVE-2026-1"})  # accepted by an alias
    assert found == []
    monkeypatch.setattr(audit, "project_page", lambda name: {"error": "no route to host"})
    _f, _u, errors, _a = audit.fallback(["flask"], set())
    assert errors == ["flask: no route to host"]
