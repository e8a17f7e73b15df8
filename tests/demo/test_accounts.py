"""The demo's accounts: every one signs in with the published password, hashed once."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from onestop import demo
from onestop.accounts import models
from onestop.accounts.models import User
from onestop.db import make_engine
from onestop.migrate import upgrade
from tests.ops.conftest import load_demo


def test_every_demo_account_signs_in_with_the_one_hash(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    real = models.generate_password_hash

    def counting(password: str, *args: Any, **kwargs: Any) -> str:
        calls.append(password)
        return real(password, *args, **kwargs)

    monkeypatch.setattr(models, "generate_password_hash", counting)
    url = f"sqlite:///{tmp_path / 'demo.sqlite3'}"
    upgrade(url)
    load_demo(url)
    engine = make_engine(url)
    with Session(engine) as session:
        users = {u.username: u for u in session.scalars(select(User))}
    engine.dispose()
    assert calls == [demo.DEMO_PASSWORD]  # ten accounts, one hash computed
    assert sorted(users) == sorted(a["username"] for a in demo.accounts())
    for user in users.values():
        assert user.check_password(demo.DEMO_PASSWORD), user.username
        assert not user.check_password("demo1"), user.username
