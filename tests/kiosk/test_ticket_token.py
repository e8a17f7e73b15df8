"""The ticket page's token is checked whole: a prefix, a longer string that starts with the
token, or the token in another case is refused like a forged one (same 404)."""

from __future__ import annotations

import re

from onestop.tokens import ticket_token, verify_mac
from tests.kiosk.test_ticket_page import issue


def test_a_prefix_or_an_extension_of_the_token_is_refused(app, client):
    ticket = issue(app, client)
    good = ticket_token(app.config["SECRET_KEY"], ticket["id"])
    phone = app.test_client()
    assert phone.get(f"/t/{ticket['id']}?k={good}").status_code == 200
    forged = phone.get(f"/t/{ticket['id']}?k={'A' * len(good)}")
    for bad in (good[:1], good[:6], good[:-1], good + "A", good + good, good.swapcase(), good + " "):
        res = phone.get(f"/t/{ticket['id']}", query_string={"k": bad})
        assert res.status_code == 404, bad
        assert _page(res) == _page(forged), bad
        qr = phone.get(f"/kiosk/qr/{ticket['id']}.svg", query_string={"k": bad})
        assert qr.status_code == 404, bad
    assert phone.get(f"/kiosk/qr/{ticket['id']}.svg", query_string={"k": good}).status_code == 200


def test_verify_mac_wants_the_whole_token():
    token = ticket_token("s", 42)
    assert verify_mac("s", "ticket", "42", token)
    for bad in ("", token[:8], token[:-1], token + "x", token.swapcase()):
        assert not verify_mac("s", "ticket", "42", bad), bad


def _page(res: object) -> bytes:
    """The page without its CSRF token, which carries the second it was made in."""
    return re.sub(rb'name="csrf-token" content="[^"]*"', b"", res.get_data())  # type: ignore[attr-defined]
