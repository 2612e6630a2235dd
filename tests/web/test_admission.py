"""The rules for who gets a connection (web/admission.py), without sockets; the server's own test is
test_connection_limits.py."""

from __future__ import annotations

import pytest

from beerpi.web.admission import NEWCOMER_SHARE, Admission, KnownAddresses, address_key
from tests.support.fake_time import FakeTime

BREWER, STRANGER = "192.168.1.20", "192.168.1.66"


@pytest.fixture
def admission() -> Admission:
    """100 places, 10 per address, the last 10 for the token holder, the 10 before for newcomers too."""
    known = KnownAddresses()
    known.remember(BREWER)
    return Admission(100, per_address=10, known=known)


@pytest.mark.parametrize("address, held, open_now, outcome", [
    pytest.param(STRANGER, 0, 0, None, id="an-empty-server-serves-anyone"),
    pytest.param(STRANGER, 9, 79, None, id="a-stranger-within-his-share-before-the-reserve"),
    pytest.param(STRANGER, 10, 10, "address", id="a-stranger-at-his-share"),
    pytest.param(BREWER, 10, 10, "address", id="the-brewer-at-his-share-too"),
    pytest.param(STRANGER, NEWCOMER_SHARE - 1, 80, None, id="a-newcomer-in-the-newcomers-places"),
    pytest.param(STRANGER, NEWCOMER_SHARE, 80, "reserved", id="an-address-holding-several-not-in-the-newcomers-places"),
    pytest.param(STRANGER, 0, 90, "reserved", id="a-newcomer-not-in-the-token-holders-places"),
    pytest.param(BREWER, 5, 90, None, id="the-brewer-in-the-token-holders-places"),
    pytest.param(BREWER, 5, 99, None, id="the-brewer-in-the-last-place"),
    pytest.param(BREWER, 0, 100, "full", id="nobody-when-full"),
])
def test_who_is_served(admission, address, held, open_now, outcome):
    assert admission.refusal(address, held, open_now) == outcome


def test_a_small_server_keeps_no_reserve():
    assert Admission(9).refusal(STRANGER, 0, 8) is None


@pytest.mark.parametrize("address, key", [
    pytest.param("10.0.0.1", "10.0.0.1", id="ipv4"),
    pytest.param("::ffff:10.0.0.1", "10.0.0.1", id="ipv4-mapped"),
    pytest.param("fe80::1%eth0", "fe80::1", id="scope-dropped"),
    pytest.param("2001:db8::1", "2001:db8::1", id="ipv6-each-on-its-own"),
])
def test_connections_are_counted_by_address(address, key):
    assert address_key(address) == key


def test_a_token_holders_address_is_known_for_a_while_and_only_so_many_are_kept():
    clock = FakeTime(1000.0)
    known = KnownAddresses(keep_for=60.0, size=2, clock=clock)
    known.remember("::ffff:10.0.0.1")
    assert "10.0.0.1" in known and "10.0.0.2" not in known
    clock.advance(61.0)
    assert "10.0.0.1" not in known
    for address in ("10.0.0.1", "10.0.0.2", "10.0.0.3"):
        known.remember(address)
    assert "10.0.0.1" not in known and "10.0.0.3" in known
