"""Markers for the system tests (pyproject lists only postgres/redis/browser)."""

from __future__ import annotations

from typing import Any


def pytest_configure(config: Any) -> None:
    config.addinivalue_line(
        "markers", "slow: spawns several processes or a real server (deselect with -m 'not slow')")
