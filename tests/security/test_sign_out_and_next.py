"""Signing out ends every copy of the session; ``next=`` after sign-in stays on the site."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.api.helpers import assert_error
from tests.security.helpers import login_form


def _csrf(client: Any, url: str = "/login") -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', client.get(url).get_data(as_text=True))
    assert match, "no CSRF token"
    return match.group(1)


def _copy_session(app: Any, source: Any) -> Any:
    """A second browser holding a copy of ``source``'s session cookie (a stolen or left-over
    cookie, another tab of a PC that saved it)."""
    name = app.config["SESSION_COOKIE_NAME"]
    cookie = source.get_cookie(name)
    assert cookie is not None, "no session cookie after sign-in"
    twin = app.test_client()
    twin.set_cookie(name, cookie.value)
    return twin


def _signed_in(client: Any) -> bool:
    return client.get("/api/v1/auth/me").status_code == 200


def test_signing_out_ends_every_copy_of_the_session(app: Any) -> None:
    clerk, other = app.test_client(), app.test_client()
    assert login_form(clerk, "clerk1", "demo").status_code == 302
    assert login_form(other, "clerk2", "demo").status_code == 302
    twin = _copy_session(app, clerk)
    assert _signed_in(twin) and twin.get("/api/v1/auth/me").get_json()["username"] == "clerk1"

    res = clerk.post("/logout", data={"csrf_token": _csrf(clerk, "/")})  # the layout's sign-out form
    assert res.status_code == 302
    assert not _signed_in(clerk)
    # the copy taken before the sign-out is dead too: pages send it to the sign-in page, the API 401
    page = twin.get("/counter/")
    assert page.status_code == 302 and "/login" in page.headers["Location"]
    assert_error(twin.get("/api/v1/auth/me"), 401, "unauthorized")
    # another user's session goes on; the clerk signs in again as usual
    assert other.get("/api/v1/auth/me").get_json()["username"] == "clerk2"
    assert login_form(clerk, "clerk1", "demo").status_code == 302
    assert clerk.get("/api/v1/auth/me").get_json()["username"] == "clerk1"
    assert_error(twin.get("/api/v1/auth/me"), 401, "unauthorized")


def _sign_in_with_next(app: Any, raw_next: str) -> str:
    client = app.test_client()
    url = f"/login?next={raw_next}"
    res = client.post(url, data={"username": "clerk1", "password": "demo", "csrf_token": _csrf(client, url)})
    assert res.status_code == 302, res.status_code
    return str(res.headers["Location"])


def _leaves_site(location: str) -> bool:
    # what a browser does with the Location: tabs and newlines dropped, "\" read as "/"
    seen = re.sub(r"[\t\r\n]", "", location).replace("\\", "/").strip()
    parts = urlsplit(seen)
    return bool(parts.scheme or parts.netloc) or seen.startswith("//")


@pytest.mark.parametrize("raw_next", [
    "/%09/evil.example", "/%0a/evil.example", "/%0d/evil.example", "%09//evil.example",
    "/%5Cevil.example", "/%5C%5Cevil.example", "//evil.example", "///evil.example",
    "https://evil.example/", "https:evil.example", "%2F%2Fevil.example", "/%20/evil.example",
    "javascript:alert(1)",
])
def test_next_after_sign_in_cannot_leave_the_site(app: Any, raw_next: str) -> None:
    location = _sign_in_with_next(app, raw_next)
    assert not _leaves_site(location), location
    assert location == "/", location


def test_next_to_a_page_of_the_site_is_kept(app: Any) -> None:
    assert _sign_in_with_next(app, "/counter/book%3Fpage%3D2") == "/counter/book?page=2"
    assert _sign_in_with_next(app, "/admin/") == "/admin/"
