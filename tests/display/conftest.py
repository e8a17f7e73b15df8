"""Fast password hashing for these tests (the demo data hashes ten passwords).

The hash method is part of the stored hash, so a cheap pbkdf2 hash checks exactly like a
production one.
"""

from __future__ import annotations

import functools

import pytest
from werkzeug.security import generate_password_hash

from onestop.accounts import models


@pytest.fixture(autouse=True)
def _cheap_password_hash(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(models, "generate_password_hash",
                        functools.partial(generate_password_hash, method="pbkdf2:sha256:1"))
