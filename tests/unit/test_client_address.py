"""The address login throttling counts: proxy headers only from a trusted proxy."""

from __future__ import annotations

import ipaddress
from types import SimpleNamespace

import pytest
from litestar.datastructures import Headers

from contest.web.client import client_address

PROXIES = (ipaddress.ip_network("10.0.0.1"), ipaddress.ip_network("192.168.5.0/24"))


def _connection(peer: str, *headers: tuple[str, str]):
    return SimpleNamespace(client=SimpleNamespace(host=peer), headers=Headers([(k.encode(), v.encode()) for k, v in headers]))


@pytest.mark.parametrize(
    ("peer", "headers", "expected"),
    [
        # No trusted proxy: the headers are anyone's words.
        ("203.0.113.9", [("x-forwarded-for", "1.2.3.4")], "203.0.113.9"),
        ("203.0.113.9", [("x-real-ip", "1.2.3.4")], "203.0.113.9"),
        # From a trusted proxy: the address it saw.
        ("10.0.0.1", [("x-forwarded-for", "172.16.0.8")], "172.16.0.8"),
        ("10.0.0.1", [("x-real-ip", "172.16.0.8")], "172.16.0.8"),
        ("10.0.0.1", [], "10.0.0.1"),
        # What a client wrote itself sits left of what our proxies appended: ignored.
        ("10.0.0.1", [("x-forwarded-for", "6.6.6.6, 172.16.0.8")], "172.16.0.8"),
        ("10.0.0.1", [("x-forwarded-for", "6.6.6.6, 172.16.0.8, 192.168.5.20")], "172.16.0.8"),
        ("10.0.0.1", [("x-forwarded-for", "6.6.6.6"), ("x-forwarded-for", "172.16.0.8")], "172.16.0.8"),
        ("10.0.0.1", [("x-forwarded-for", "2001:db8::7")], "2001:db8::7"),
        # Garbage passed on by a proxy counts as the proxy, never as a fresh address each time.
        ("10.0.0.1", [("x-forwarded-for", "not-an-address")], "10.0.0.1"),
        ("10.0.0.1", [("x-real-ip", "not-an-address")], "10.0.0.1"),
        # Not an IP at all (the test client): as it is.
        ("testclient", [("x-forwarded-for", "1.2.3.4")], "testclient"),
    ],
)
def test_client_address(peer: str, headers: list[tuple[str, str]], expected: str) -> None:
    assert client_address(_connection(peer, *headers), PROXIES) == expected


def test_without_configured_proxies_headers_are_never_believed() -> None:
    assert client_address(_connection("127.0.0.1", ("x-forwarded-for", "1.2.3.4")), ()) == "127.0.0.1"
