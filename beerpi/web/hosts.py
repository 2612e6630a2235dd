"""Which Host and Origin headers the server answers: its own names and addresses, and those allowed.

A page from another site may not open the WebSocket (Origin check), and a page whose own
name was made to point at this machine (DNS rebinding: Host and Origin both ``evil.example``)
is refused because ``evil.example`` is not one of the server's names. The names are this
machine's host name (and ``<name>.local`` for mDNS), ``localhost``, the bound host and any
``--allow-host``; an address is accepted when it is one of this machine's (it can be bound
to). A request without an Origin (a script, not a browser) passes the Origin check; it is
never trusted to change anything without the token (protocol/access.py).
"""

from __future__ import annotations

import functools
import ipaddress
import logging
import socket
from collections.abc import Iterable
from urllib.parse import urlsplit

import tornado.web

from beerpi.protocol.access import WILDCARDS, lan_addresses

log = logging.getLogger("beerpi.server")  # the log name users filter on (README, Layout)

LOCAL_NAMES = ("localhost", "localhost.localdomain")


def host_name(host_header: str) -> str:
    """The name or address in a Host header, without its port, brackets or trailing dot; lower case."""
    host = host_header.strip().lower()
    if host.startswith("["):  # [::1]:8888
        return host[1:].partition("]")[0]
    if host.count(":") == 1:
        host = host.partition(":")[0]
    return host.rstrip(".")


@functools.lru_cache(maxsize=256)
def is_own_address(text: str) -> bool:
    """True if ``text`` is an IP address of this machine (one it can bind to; nothing is sent)."""
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return False
    if address.is_loopback:
        return True
    family = socket.AF_INET6 if address.version == 6 else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_DGRAM) as probe:
            probe.bind((str(address), 0))
    except OSError:
        return False
    return True


class HostCheck:
    """The server's names and the allowed extras; answers for Host and Origin headers."""

    def __init__(self, names: Iterable[str], allow_hosts: Iterable[str] = (),
                 allow_origins: Iterable[str] = ()) -> None:
        self.names = frozenset(host_name(n) for n in [*names, *allow_hosts] if n)
        self.allow_origins = frozenset(o.strip().lower().rstrip("/") for o in allow_origins)

    @classmethod
    def for_server(cls, bound_host: str, allow_hosts: Iterable[str] = (),
                   allow_origins: Iterable[str] = ()) -> HostCheck:
        hostname = socket.gethostname()
        names = [hostname, f"{hostname}.local", *LOCAL_NAMES, *lan_addresses("0.0.0.0")]
        if bound_host not in WILDCARDS:
            names.append(bound_host)
        return cls(names, allow_hosts, allow_origins)

    def host_ok(self, host_header: str) -> bool:
        name = host_name(host_header)
        return name in self.names or is_own_address(name)

    def origin_ok(self, origin: str, host_header: str) -> bool:
        """Same origin as the request (whose Host passed host_ok), or listed with --allow-origin."""
        origin = origin.strip().lower().rstrip("/")
        netloc = urlsplit(origin).netloc
        if origin in self.allow_origins or host_name(netloc) in self.allow_origins:
            return True
        return bool(netloc) and netloc == host_header.strip().lower()

    def refusal(self, host_header: str) -> str:
        name = host_name(host_header) or "(none)"
        return (f"BeerPi does not answer to the host name {name!r}: open it by this machine's name or "
                f"address, or start it with --allow-host {name} if that name is really yours\n")


def refuse_foreign_host(handler: tornado.web.RequestHandler, hosts: HostCheck) -> bool:
    """Answer 403 to a request whose Host is not one of the server's (DNS rebinding); True if refused."""
    if hosts.host_ok(handler.request.host):
        return False
    log.warning("refused a request from %s for host %r: not one of this server's names (--allow-host)",
                handler.request.remote_ip, handler.request.host)
    handler.set_status(403)
    handler.set_header("Content-Type", "text/plain; charset=utf-8")
    handler.finish(hosts.refusal(handler.request.host))
    return True
