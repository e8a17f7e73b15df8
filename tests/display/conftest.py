"""Fast password hashing for these tests (the demo data hashes ten passwords).

The hash method is part of the stored hash, so a cheap pbkdf2 hash checks exactly like a
production one.
"""

from __future__ import annotations

import functools
import shutil

import pytest
from werkzeug.security import generate_password_hash

from onestop.accounts import models
from tests.conftest import need_service


@pytest.fixture(autouse=True)
def _cheap_password_hash(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(models, "generate_password_hash",
                        functools.partial(generate_password_hash, method="pbkdf2:sha256:1"))


@pytest.fixture
def espeak() -> str:
    """espeak-ng with its Vietnamese voice (Debian package ``espeak-ng``; CI installs it)."""
    binary = shutil.which("espeak-ng")
    if binary is None:
        need_service("services", "espeak-ng is not installed (apt-get install espeak-ng)")
    assert binary is not None
    return binary
