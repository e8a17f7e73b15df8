from onestop.tokens import short_mac, ticket_url, verify_mac


def test_tokens_are_short_ascii_and_bound_to_purpose_and_secret():
    token = short_mac("s", "ticket", "42")
    assert len(token) == 12 and token.isascii()
    assert verify_mac("s", "ticket", "42", token)
    assert not verify_mac("s", "dossier", "42", token)
    assert not verify_mac("other", "ticket", "42", token)
    assert not verify_mac("s", "ticket", "43", token)
    assert not verify_mac("s", "ticket", "42", token[:-1] + ("A" if token[-1] != "A" else "B"))
    assert not verify_mac("s", "ticket", "42", None)


def test_ticket_url():
    url = ticket_url("http://10.0.0.2:8000/", "s", 7)
    assert url.startswith("http://10.0.0.2:8000/t/7?k=") and url.isascii()
