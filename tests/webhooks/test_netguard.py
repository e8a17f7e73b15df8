"""Which addresses a webhook may reach (SSRF care): LAN yes, link-local and loopback no."""

from __future__ import annotations

import ipaddress

import pytest

from onestop.queueing.errors import DomainError
from onestop.webhooks.netguard import BlockedAddress, blocked_reason, check_url, resolve


@pytest.mark.parametrize(("address", "reason"), [
    ("10.1.2.3", None), ("172.16.0.9", None), ("192.168.1.20", None), ("203.0.113.7", None),
    ("fd00::5", None), ("169.254.169.254", "link_local"), ("fe80::1", "link_local"),
    ("127.0.0.1", "loopback"), ("127.8.8.8", "loopback"), ("::1", "loopback"),
    ("::ffff:127.0.0.1", "loopback"), ("::ffff:169.254.169.254", "link_local"),
    ("0.0.0.0", "unspecified"), ("0.1.2.3", "unspecified"), ("::", "unspecified"),
    ("224.0.0.1", "multicast"),
])
def test_blocked_reason(address, reason):
    assert blocked_reason(ipaddress.ip_address(address), allow_loopback=False) == reason


def test_loopback_setting():
    assert blocked_reason(ipaddress.ip_address("127.0.0.1"), allow_loopback=True) is None
    assert blocked_reason(ipaddress.ip_address("169.254.1.1"), allow_loopback=True) == "link_local"
    assert check_url(" http://localhost:8000/h ", allow_loopback=True) == "http://localhost:8000/h"
    with pytest.raises(DomainError) as refused:
        check_url("http://api.localhost/h", allow_loopback=False)
    assert refused.value.details == {"reason": "loopback"}


def test_names_are_checked_when_sending():
    assert check_url("http://motcua.example.gov.vn/h", allow_loopback=False)  # not resolved yet
    with pytest.raises(BlockedAddress, match="loopback"):
        resolve("localhost", 80, allow_loopback=False)
    assert "127.0.0.1" in resolve("localhost", 80, allow_loopback=True)
