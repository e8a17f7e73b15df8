"""Where python-escpos keeps its parsed printer-capabilities file.

python-escpos parses a large capabilities file with PyYAML when it is first imported (about
0.6 s) and pickles the result to ``ESCPOS_CAPABILITIES_PICKLE_DIR``; unset, that is a new
``mkdtemp()`` directory per process, so every start parses again and leaves the pickle
behind in /tmp (a server restarted daily, a print agent, every test process).

Here one private per-user cache directory is used instead:
``ESCPOS_CAPABILITIES_PICKLE_DIR`` if set; else systemd's ``$CACHE_DIRECTORY``; else
``$XDG_CACHE_HOME/onestop/escpos`` (``~/.cache/onestop/escpos``). The directory must be ours
and closed to others (a pickle is code); if none qualifies, python-escpos's default stands.

python-escpos writes its pickle in place, so a process starting while another writes could
read half a file. So the variable is only set once a complete pickle is there; the first
process parses as before, then :func:`store` writes the pickle whole (temporary file, then
rename). python-escpos 3.1 still creates one empty ``mkdtemp()`` directory per import: its
default is computed even when the variable is set.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import pickle
import platform
import stat
import tempfile
from pathlib import Path

ENV = "ESCPOS_CAPABILITIES_PICKLE_DIR"
_chosen: Path | None = None


def _private_dir(path: Path) -> bool:
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = path.stat()
    except OSError:
        return False
    return (stat.S_ISDIR(info.st_mode) and info.st_uid == os.getuid()
            and not info.st_mode & (stat.S_IWGRP | stat.S_IWOTH))


def _pickle_name() -> str:
    return f"{platform.python_version()}.capabilities.pickle"  # python-escpos's own name


def _source_mtime() -> float:
    """python-escpos's capabilities file, found without importing python-escpos."""
    spec = importlib.util.find_spec("escpos")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        path = Path(folder) / "capabilities.json"
        if path.is_file():
            return path.stat().st_mtime
    return float("inf")  # not found: never trust a pickle


def _usable(cached: Path) -> bool:
    """A pickle python-escpos can start from (it needs the ``default`` profile); one that is
    not is removed, and python-escpos parses its file again (a few ms to check, 0.6 s not
    to need)."""
    try:
        with cached.open("rb") as fh:
            data = pickle.load(fh)  # noqa: S301 - our own file, in a directory only we can write
        if isinstance(data, dict) and "default" in data.get("profiles", {}):
            return True
    except Exception:  # noqa: BLE001 - any unreadable cache is just a miss
        pass
    with contextlib.suppress(OSError):
        cached.unlink()
    return False


def _candidates() -> list[Path]:
    out = []
    if os.environ.get("CACHE_DIRECTORY"):  # systemd CacheDirectory=
        out.append(Path(os.environ["CACHE_DIRECTORY"].split(":")[0]) / "escpos")
    base = os.environ.get("XDG_CACHE_HOME") or (
        str(Path.home() / ".cache") if os.environ.get("HOME") else "")
    if base:
        out.append(Path(base) / "onestop" / "escpos")
    return out


def configure() -> str | None:
    """Point python-escpos at a complete cached pickle, if there is one; remember where
    :func:`store` should write one otherwise. Returns the directory set, if any."""
    global _chosen
    if os.environ.get(ENV):
        return os.environ[ENV]
    for path in _candidates():
        if _private_dir(path):
            _chosen = path
            cached = path / _pickle_name()
            if cached.is_file() and cached.stat().st_mtime >= _source_mtime() and _usable(cached):
                os.environ[ENV] = str(path)
                return str(path)
            return None
    return None


def store(capabilities: object) -> None:
    """After python-escpos parsed its file itself: keep the result, written whole."""
    if _chosen is None or os.environ.get(ENV):
        return
    partial = ""
    try:
        with tempfile.NamedTemporaryFile("wb", dir=_chosen, delete=False) as fh:
            partial = fh.name
            pickle.dump(capabilities, fh, protocol=2)
        os.replace(partial, _chosen / _pickle_name())
    except (OSError, pickle.PicklingError):  # a cache only: the next start parses again
        with contextlib.suppress(OSError):
            if partial:
                os.unlink(partial)


configure()  # on import: hardware.printing imports this module before anything else
