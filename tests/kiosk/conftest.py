"""Kiosk fixtures: an app that follows the fields' schedules at a chosen moment."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import demo_app, local

SUNDAY_9 = local(2026, 11, 22, 9, 0)  # no demo field works on Sunday
MONDAY_9 = local(2026, 11, 23, 9, 0)  # Mon/Wed/Fri and weekday fields open
MONDAY_NOON = local(2026, 11, 23, 12, 0)  # between the morning and afternoon windows
TUESDAY_9 = local(2026, 11, 24, 9, 0)  # Tue/Thu and weekday fields open


@pytest.fixture
def scheduled(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """An app with ALWAYS_OPEN off; ``scheduled.at(moment)`` sets the kiosk's clock."""
    def at(moment: dt.datetime) -> None:
        monkeypatch.setattr("onestop.api.common.now", lambda: moment)

    with demo_app(tmp_path, ALWAYS_OPEN=False) as application:
        application.at = at
        at(MONDAY_9)
        yield application


def serve_always(app: Any, service_id: int = 1) -> None:
    """The API reads the real clock: let a field take tickets at any hour of any day."""
    from tests.api.helpers import set_service

    set_service(app, service_id, weekdays=[1, 2, 3, 4, 5, 6, 7], windows=[])


def csrf_of(html: str) -> str:
    match = re.search(r'<meta name="csrf-token" content="([^"]+)"', html)
    assert match, "no CSRF meta tag"
    return match.group(1)


def tiles_of(html: str) -> dict[str, str]:
    """Field name -> the HTML of its tile on the home screen."""
    out = {}
    for block in re.findall(r'<button type="button" class="tile .*?</button>', html, re.S):
        name = re.search(r'<span class="tile-name">([^<]+)</span>', block)
        assert name
        out[name.group(1)] = block
    return out
