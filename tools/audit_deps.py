"""Audit the installed Python dependencies for known vulnerabilities (``make audit``).

The project has no Python lock file: the audited set is what ``.venv`` holds
(``pip-audit --local``, the onestop package itself skipped). Steps:

1. ``pip-audit`` (PyPI's vulnerability data, per installed version) with every accepted
   vulnerability of ``.pip-audit-ignore`` passed as ``--ignore-vuln``;
2. for a package pip-audit could not look up (some networks answer only PyPI's project
   pages, ``/pypi/<name>/json``, not the per-version ones), that project page: its
   ``vulnerabilities`` are those of the latest release, so they count when the installed
   version *is* the latest; an older installed version is reported as not audited.

Exit 1 on any known vulnerability that is not accepted, on a malformed or lapsed entry in
``.pip-audit-ignore``, or when PyPI cannot be reached; with ``AUDIT_STRICT=1`` also when
some package could not be audited at all. ``.pip-audit-ignore`` has one accepted
vulnerability per line: ``ID  UNTIL(YYYY-MM-DD)  reason`` (see docs/security.md).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import subprocess
import sys
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
IGNORE_FILE = ROOT / ".pip-audit-ignore"
OURSELVES = "onestop"  # installed editable; a different project of that name is on PyPI
PYPI = os.environ.get("AUDIT_PYPI_URL", "https://pypi.org/pypi")
LINE = re.compile(r"^(?P<id>[A-Za-z0-9][A-Za-z0-9_.:-]+)\s+(?P<until>\d{4}-\d{2}-\d{2})"
                  r"\s+(?P<reason>\S.{9,})$")


def accepted(today: dt.date) -> tuple[set[str], list[str]]:
    """The accepted ids still in force, and the problems with the file."""
    ids: set[str] = set()
    problems: list[str] = []
    if not IGNORE_FILE.is_file():
        return ids, problems
    for number, raw in enumerate(IGNORE_FILE.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.split("#", 1)[0].strip() if raw.lstrip().startswith("#") else raw.strip()
        if not line:
            continue
        match = LINE.match(line)
        if match is None:
            problems.append(f"{IGNORE_FILE.name}:{number}: want 'ID  YYYY-MM-DD  reason (10+ chars)'")
            continue
        if dt.date.fromisoformat(match["until"]) < today:
            problems.append(f"{IGNORE_FILE.name}:{number}: {match['id']} was accepted until "
                            f"{match['until']}: review it again")
            continue
        ids.add(match["id"])
    return ids, problems


def run_pip_audit(ignored: set[str]) -> list[dict[str, object]]:
    command = [sys.executable, "-m", "pip_audit", "--local", "--skip-editable", "--format", "json",
               "--progress-spinner", "off"]
    for vuln_id in sorted(ignored):
        command += ["--ignore-vuln", vuln_id]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600)
    try:
        report = json.loads(done.stdout)
    except json.JSONDecodeError:
        sys.stderr.write(done.stderr)
        raise SystemExit("audit: pip-audit gave no report (is it installed? pip install -e '.[test]')"
                         ) from None
    return list(report.get("dependencies", []))


def canonical(name: str) -> str:
    """PEP 503: ``Pydantic_Core`` and ``pydantic-core`` are one project."""
    return re.sub(r"[-_.]+", "-", name).lower()


def project_page(name: str) -> dict[str, object] | None:
    try:
        with urllib.request.urlopen(f"{PYPI}/{name}/json", timeout=20) as answer:  # noqa: S310
            return dict(json.load(answer))
    except urllib.error.HTTPError as error:
        return None if error.code == 404 else {"error": str(error)}
    except (urllib.error.URLError, TimeoutError, OSError) as error:
        return {"error": str(error)}


def _aliases(vuln: dict[str, object]) -> set[str]:
    return {str(vuln.get("id"))} | {str(a) for a in (vuln.get("aliases") or [])}  # type: ignore[union-attr]


def fallback(names: list[str], ignored: set[str]) -> tuple[list[str], list[str], list[str], int]:
    """(vulnerabilities found, packages not audited, network errors, packages audited)."""
    installed = {canonical(d.metadata["Name"]): d.version for d in metadata.distributions()}
    found, unaudited, errors = [], [], []
    audited = 0
    with ThreadPoolExecutor(max_workers=8) as pool:
        pages = dict(zip(names, pool.map(project_page, names), strict=True))
    for name in names:
        page, version = pages[name], installed.get(canonical(name), "?")
        if page is None:
            unaudited.append(f"{name} {version} (not on PyPI)")
        elif "error" in page:
            errors.append(f"{name}: {page['error']}")
        elif str(page["info"]["version"]) != version:  # type: ignore[index]
            unaudited.append(f"{name} {version} (latest is {page['info']['version']})")  # type: ignore[index]
        else:
            audited += 1
            for vuln in page.get("vulnerabilities") or []:  # type: ignore[union-attr]
                if not (_aliases(vuln) & ignored):
                    fixed = ", ".join(vuln.get("fixed_in") or []) or "no fix yet"
                    found.append(f"{name} {version}: {vuln.get('id')} (fixed in {fixed}) "
                                 f"{str(vuln.get('summary') or vuln.get('details') or '')[:120]}")
    return found, unaudited, errors, audited


def main() -> int:
    ignored, problems = accepted(dt.date.today())
    deps = run_pip_audit(ignored)
    found = [f"{d['name']} {d.get('version')}: {v['id']} "
             f"(fixed in {', '.join(v.get('fix_versions') or []) or 'no fix yet'})"
             for d in deps for v in d.get("vulns") or []]  # type: ignore[attr-defined]
    deps = [d for d in deps if canonical(str(d["name"])) != OURSELVES]
    skipped = sorted(str(d["name"]) for d in deps if d.get("skip_reason"))
    more, unaudited, errors, audited_late = fallback(skipped, ignored) if skipped else ([], [], [], 0)
    found += more
    print(f"audit: {len(deps)} installed packages; {len(deps) - len(skipped)} checked by pip-audit, "
          f"{audited_late} through PyPI's project pages, {len(unaudited)} not audited")
    for line in unaudited:
        print(f"  not audited: {line}")
    for line in problems + errors:
        print(f"  problem: {line}")
    for line in found:
        print(f"  VULNERABLE: {line}")
    if found:
        print("Upgrade, or accept with a line in .pip-audit-ignore: ID  UNTIL  reason")
    strict = os.environ.get("AUDIT_STRICT") == "1" and bool(unaudited)
    return 1 if (found or problems or errors or strict) else 0


if __name__ == "__main__":
    raise SystemExit(main())
