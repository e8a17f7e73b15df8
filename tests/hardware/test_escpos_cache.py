"""python-escpos's parsed capabilities are kept in one private cache directory and reused."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from hardware.printing import _escpos_cache

PROBE = ("import os, hardware.printing, escpos.capabilities as c; "
         "print(os.environ.get('ESCPOS_CAPABILITIES_PICKLE_DIR', '-')); print(c.full_load)")


def _run(env: dict[str, str]) -> list[str]:
    out = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True,
                         check=True, cwd=Path(__file__).resolve().parents[2])
    return out.stdout.split()


def test_the_second_process_reuses_the_first_ones_parse(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items()
           if k not in ("ESCPOS_CAPABILITIES_PICKLE_DIR", "CACHE_DIRECTORY")}
    env.update(XDG_CACHE_HOME=str(tmp_path / "cache"), TMPDIR=str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    cache = tmp_path / "cache" / "onestop" / "escpos"
    # the first start parses (in python-escpos's own temporary directory), then keeps the
    # result, written whole, in the cache directory
    assert _run(env) == ["-", "True"]
    assert [p.name.endswith(".capabilities.pickle") for p in cache.iterdir()] == [True]
    assert oct(cache.stat().st_mode & 0o777) == oct(0o700)
    assert _run(env) == [str(cache), "False"]  # the next start loads it, parsing nothing
    assert _run(env) == [str(cache), "False"]
    # only python-escpos's first, unavoidable directory has a file in it: later starts
    # leave nothing behind in /tmp but an empty directory
    assert len([p for p in (tmp_path / "tmp").rglob("*") if p.is_file()]) == 1


def test_a_directory_others_can_write_is_not_used(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    shared = tmp_path / "shared" / "onestop" / "escpos"
    shared.mkdir(parents=True)
    shared.chmod(0o777)
    # configure() sets the variable itself: set first, so that it is restored afterwards
    monkeypatch.setenv(_escpos_cache.ENV, "")
    monkeypatch.delenv(_escpos_cache.ENV)
    monkeypatch.setattr(_escpos_cache, "_chosen", None)
    monkeypatch.delenv("CACHE_DIRECTORY", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "shared"))
    assert _escpos_cache.configure() is None
    assert _escpos_cache.ENV not in os.environ
    monkeypatch.setenv("CACHE_DIRECTORY", str(tmp_path / "systemd-cache"))  # systemd's own
    assert _escpos_cache.configure() is None  # chosen, but nothing cached there yet
    _escpos_cache.store({"profiles": {}})  # not something python-escpos can start from
    assert _escpos_cache.configure() is None
    assert list((tmp_path / "systemd-cache" / "escpos").iterdir()) == []  # removed
    _escpos_cache.store({"profiles": {"default": {}}, "encodings": {}})
    assert _escpos_cache.configure() == str(tmp_path / "systemd-cache" / "escpos")
