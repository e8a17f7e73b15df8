"""Helpers for the security tests."""

from __future__ import annotations

import re
from typing import Any


def login_form(client: Any, username: str, password: str, **kwargs: Any) -> Any:
    """POST the sign-in form the way a browser does (with its CSRF token)."""
    page = client.get("/login", **kwargs).get_data(as_text=True)
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match, "no CSRF token on the login page"
    return client.post("/login", data={"username": username, "password": password,
                                       "csrf_token": match.group(1)}, **kwargs)
