"""Who gets one of the server's connections: a share per address, and a reserve for the token holder.

When a connection is accepted the server knows only the address it comes from, so the rules
are about addresses (``web/connections.py`` applies them before it reads a byte):

- No address holds more than ``MAX_CONNECTIONS_PER_ADDRESS`` connections at a time (each
  IPv6 address on its own: on a home network every device shares one /64). A browser keeps
  up to six connections to a server, plus a WebSocket or event stream per tab: a browser
  with many tabs, or a few behind one router, is well inside it; one stranger cannot hold
  more, however slowly he sends.
- The last places of ``--max-clients`` are kept. The last ``max_clients // RESERVE_DIVISOR``
  go only to an address that presented the right token within ``KNOWN_FOR`` (the brewer's
  browser or phone, a script with the token): strangers on any number of addresses cannot
  take them, so the token holder always gets in from an address that used the token before.
  As many again before those go, besides, to an address that holds fewer than
  ``NEWCOMER_SHARE`` connections: someone new can still load the dashboard while a few
  addresses hold the rest. Everything else is first come, first served.
- What a connection may hold a place for is bounded in time by ``web/connections.py``: the
  headers of a request, and the wait for the next one, by ``IDLE_CONNECTION_TIMEOUT``, a
  body by ``BODY_TIMEOUT``; and a connection that has sent no whole request for
  ``STALLED_AFTER`` gives its place to a newcomer these rules would otherwise refuse (to one
  from its own address always, so a stranger on the brewer's own machine or behind his router
  cannot shut him out). WebSockets and event streams are long-lived by design: pings
  (server.py) and a bound on unsent events (sse.py) drop the dead ones.

Behind a reverse proxy on the same machine every client has the proxy's address: raise
``--max-clients-per-address`` to what the proxy lets through.
"""

from __future__ import annotations

import ipaddress
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tornado.web import RequestHandler

MAX_CONNECTIONS_PER_ADDRESS = 32  # a few browsers with several tabs, streams and WebSockets behind one address
RESERVE_DIVISOR = 10  # a tenth of --max-clients kept for the token holder, a tenth more for newcomers too
NEWCOMER_SHARE = 4  # an address holding fewer than this may take the newcomers' places: enough for a page load
KNOWN_FOR = 7 * 24 * 3600.0  # s an address counts as the token holder's after it presented the right token
MAX_KNOWN_ADDRESSES = 256  # token holders' addresses remembered; the least recent are forgotten beyond it


def address_key(address: str) -> str:
    """What connections are counted by: the address, an IPv4-mapped IPv6 one as IPv4, without a scope."""
    text = address.partition("%")[0]  # a link-local address's scope (fe80::1%eth0)
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        return address  # a Unix socket's path, say: counted as it is
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return str(ip.ipv4_mapped)
    return str(ip)


class KnownAddresses:
    """The addresses that presented the right token lately: the token holder's."""

    def __init__(self, keep_for: float = KNOWN_FOR, size: int = MAX_KNOWN_ADDRESSES,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.keep_for = keep_for
        self.size = size
        self.clock = clock
        self._seen: OrderedDict[str, float] = OrderedDict()

    def remember(self, address: str) -> None:
        key = address_key(address)
        self._seen.pop(key, None)
        self._seen[key] = self.clock()  # last: the least recent are forgotten first
        while len(self._seen) > self.size:
            self._seen.popitem(last=False)

    def __contains__(self, address: object) -> bool:
        seen = self._seen.get(address_key(str(address)))
        return seen is not None and self.clock() - seen < self.keep_for


class Admission:
    """Whether a new connection from an address is served, given what is open (see the module's rules)."""

    def __init__(self, max_clients: int, per_address: int = MAX_CONNECTIONS_PER_ADDRESS,
                 known: KnownAddresses | None = None) -> None:
        self.max_clients = max_clients
        self.per_address = per_address
        self.known = known if known is not None else KnownAddresses()
        self.holders_reserve = max_clients // RESERVE_DIVISOR
        self.newcomers_reserve = max_clients // RESERVE_DIVISOR

    def refusal(self, address: str, held: int, open_now: int) -> str | None:
        """None to serve a connection from ``address``, which holds ``held`` of the ``open_now``;
        else why not: ``full``, ``address`` or ``reserved``."""
        if open_now >= self.max_clients:
            return "full"
        if held >= self.per_address:
            return "address"
        free = self.max_clients - open_now
        if free > self.holders_reserve + self.newcomers_reserve:
            return None
        if address in self.known:
            return None
        if free > self.holders_reserve and held < NEWCOMER_SHARE:
            return None
        return "reserved"


def remember_token_holder(handler: RequestHandler) -> None:
    """Note that ``handler``'s client presented the right token (in its app's ``known_addresses``)."""
    known = handler.application.settings.get("known_addresses")
    if isinstance(known, KnownAddresses) and handler.request.remote_ip:
        known.remember(handler.request.remote_ip)
