"""Communes on their own servers, watched from this one (the hub; issue 22 item 5).

``onestop units remote add --url https://xa-b.example --token TOKEN [--name NAME]`` keeps the
remote server in ``DATA_DIR/remotes.json`` (mode 0600: the tokens are secrets). The token is
an API token of an account of the remote server that may read ``GET /api/v1/overview``
there: an ``integration`` account (its own unit), a supervisor or an admin.

The overview of an admin without a unit shows, after its own units, each remote unit's tile
as the remote server answers it; a server that does not answer within ``TIMEOUT_S`` (or
answers an error) is one tile marked "không phản hồi". The answers are kept ``FRESH_S``
seconds and refreshed in the background (the first look waits for them, ``TIMEOUT_S`` at
most, all servers at once).
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import requests

log = logging.getLogger(__name__)

TIMEOUT_S = 2.0
FRESH_S = 10.0
FILE = "remotes.json"


def path(data_dir: str | Path) -> Path:
    return Path(data_dir) / FILE


def load(data_dir: str | Path) -> list[dict[str, str]]:
    try:
        return list(json.loads(path(data_dir).read_text(encoding="utf-8")))
    except FileNotFoundError:
        return []


def add(data_dir: str | Path, url: str, token: str, name: str = "") -> None:
    """Add or replace (same URL) a remote server."""
    url = url.rstrip("/")
    if not url.startswith(("http://", "https://")):
        raise ValueError("the URL must start with http:// or https://")
    rows = [r for r in load(data_dir) if r["url"] != url]
    rows.append({"url": url, "token": token, "name": name or url})
    target = path(data_dir)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump(rows, out, ensure_ascii=False, indent=1)


def fetch(remote: dict[str, str]) -> list[dict[str, Any]]:
    """One remote server's tiles, each marked with the server; one unreachable tile if it
    does not answer."""
    try:
        res = requests.get(f"{remote['url']}/api/v1/overview", timeout=TIMEOUT_S,
                           headers={"Authorization": f"Bearer {remote['token']}"})
        res.raise_for_status()
        tiles = list(res.json()["units"])
    except (requests.RequestException, ValueError, KeyError, TypeError) as exc:
        log.info("remote %s did not answer: %s", remote["url"], exc)
        return [{"unit": {"id": None, "code": remote["url"], "name": remote["name"]},
                 "remote": remote["url"], "unreachable": True}]
    return [{**t, "unit": {**t["unit"], "id": None, "code": f"{remote['url']}#{t['unit']['code']}"},
             "remote": remote["url"], "unreachable": False} for t in tiles]


class Cache:
    """The remote tiles of this process, refreshed in the background when stale."""

    def __init__(self) -> None:
        self.tiles: list[dict[str, Any]] | None = None
        self.at = 0.0
        self.busy = threading.Lock()

    def refresh(self, remotes: list[dict[str, str]]) -> None:
        if not self.busy.acquire(blocking=False):
            return
        try:
            with ThreadPoolExecutor(max_workers=min(8, max(1, len(remotes)))) as pool:
                found = [tile for tiles in pool.map(fetch, remotes) for tile in tiles]
            self.tiles, self.at = found, time.monotonic()
        finally:
            self.busy.release()

    def get(self, remotes: list[dict[str, str]]) -> list[dict[str, Any]]:
        if not remotes:
            return []
        if self.tiles is None:
            self.refresh(remotes)  # the first look waits, TIMEOUT_S at most
        elif time.monotonic() - self.at > FRESH_S:
            threading.Thread(target=self.refresh, args=(remotes,), daemon=True).start()
        return list(self.tiles or [])


cache = Cache()
