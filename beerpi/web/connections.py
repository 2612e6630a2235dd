"""How many connections the web server takes, so that strangers cannot starve the probes or the brewer.

Every connection holds a file descriptor, and so does every probe read, the database, the
spool and the log. The server raises its soft open-file limit to the hard one at start,
keeps ``RESERVED_FDS`` descriptors for its own work and serves at most ``--max-clients``
connections (WebSockets, page loads and idle TCP connections alike), at most
``--max-clients-per-address`` of them from one address, and keeps the last places for the
token holder (the rules: admission.py). A connection beyond that is answered with a short
HTTP 503 and closed at once, before it costs anything more. A connection holds its place
only while it keeps up: the headers of a request (and the wait for the next one) within
``IDLE_CONNECTION_TIMEOUT``, its body within ``BODY_TIMEOUT``, and one that has sent no whole
request for ``STALLED_AFTER`` is closed when a newcomer needs its place. WebSockets and event
streams, past all three, are long-lived by design.
"""

from __future__ import annotations

import logging
import resource
import socket
import time
from collections.abc import Callable
from typing import Any, cast

from tornado.http1connection import HTTP1ServerConnection
from tornado.httpserver import HTTPServer
from tornado.httputil import HTTPConnection, HTTPHeaders, HTTPMessageDelegate, RequestStartLine, ResponseStartLine
from tornado.iostream import IOStream
from tornado.web import Application

from beerpi.base.errors import ConfigError
from beerpi.web.admission import MAX_CONNECTIONS_PER_ADDRESS, Admission, KnownAddresses, address_key

log = logging.getLogger("beerpi.connections")  # the log name users filter on (README, Layout)

RESERVED_FDS = 64  # for probes, SQLite (database, WAL, shm), the spool, the log, epoll, history threads
DEFAULT_MAX_CLIENTS = 500  # plenty for a home brewery; the fd limit may lower it
MIN_CLIENTS = 8  # below this the open-file limit is too low to be useful
IDLE_CONNECTION_TIMEOUT = 60.0  # s for the headers of a request, the wait for it included (not WebSockets, streams)
BODY_TIMEOUT = 10.0  # s for a request body once its headers arrived: 64 KiB at 6.6 KB/s; dripping bodies held places
STALLED_AFTER = 5.0  # s without a whole request after which a connection gives its place to a newcomer
DRAIN_BYTES = 64 * 1024  # read from a refused connection before closing, so it ends with FIN, not RST
MAX_BODY_BYTES = 64 * 1024  # an HTTP request body; the API answers a longer one with 413 (web/api/handlers.py)


def raise_open_file_limit() -> int:
    """Raise the soft RLIMIT_NOFILE to the hard limit; return the soft limit now in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and soft != resource.RLIM_INFINITY and soft < hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        except (ValueError, OSError) as exc:
            log.warning("could not raise the open-file limit from %d to %d: %s", soft, hard, exc)
            return soft
        log.info("open-file limit raised from %d to %d", soft, hard)
        return hard
    log.info("open-file limit: %s", "unlimited" if soft == resource.RLIM_INFINITY else soft)
    return soft


def client_limit(requested: int | None, open_files: int) -> int:
    """The connection cap: ``requested`` (None: the default) within what ``open_files`` allows."""
    available = open_files - RESERVED_FDS
    if available < MIN_CLIENTS:
        raise ConfigError(f"the open-file limit is {open_files}: BeerPi keeps {RESERVED_FDS} descriptors "
                          f"for probes and storage and needs at least {MIN_CLIENTS} more for clients; "
                          f"raise it (ulimit -n, or LimitNOFILE= in a systemd unit)")
    if requested is None:
        return min(DEFAULT_MAX_CLIENTS, available)
    if requested > available:
        log.warning("--max-clients %d is more than the open-file limit %d allows with %d kept in "
                    "reserve: serving at most %d connections", requested, open_files, RESERVED_FDS, available)
        return available
    return requested


class _Arrival(HTTPMessageDelegate):
    """Passes a request on to ``delegate``, calling ``arrived`` once the whole of it has come."""

    def __init__(self, delegate: HTTPMessageDelegate, arrived: Callable[[], object]) -> None:
        self.delegate = delegate
        self.arrived = arrived

    def headers_received(self, start_line: RequestStartLine | ResponseStartLine,
                         headers: HTTPHeaders) -> Any:
        return self.delegate.headers_received(start_line, headers)

    def data_received(self, chunk: bytes) -> Any:
        return self.delegate.data_received(chunk)

    def finish(self) -> None:
        self.arrived()
        self.delegate.finish()

    def on_connection_close(self) -> None:
        self.arrived()
        self.delegate.on_connection_close()


def refusal_answer(text: str) -> bytes:
    """A whole HTTP 503 answer saying ``text``."""
    body = (text + "\n").encode()
    return (b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\n"
            b"X-Content-Type-Options: nosniff\r\nContent-Length: %d\r\nRetry-After: 10\r\n"
            b"Connection: close\r\n\r\n%s" % (len(body), body))


class CappedHTTPServer(HTTPServer):
    """An HTTPServer that refuses, at once with a 503, the connections ``admission`` does not admit."""

    def initialize(self, *args: Any, admission: Admission, **kwargs: Any) -> None:
        super().initialize(*args, **kwargs)
        self.admission = admission
        self.max_clients = admission.max_clients
        # Every stream handed out, HTTP or WebSocket (a WebSocket keeps its HTTP stream), with
        # the address it counts against; a closed stream has given its descriptor back.
        self._streams: dict[IOStream, str] = {}
        # Those waiting for a request's headers or body (an idle keep-alive too), since when:
        # a connection that stalls there gives its place to a newcomer that would be refused.
        self._waiting: dict[IOStream, float] = {}
        why = {
            "full": f"BeerPi is serving the most connections it allows ({admission.max_clients}): try again later",
            "address": f"BeerPi is serving the most connections it allows from your address "
                       f"({admission.per_address}): close some (tabs, scripts), or try again later",
            "reserved": "BeerPi keeps its last connections for the brewer (addresses that used the token "
                        "lately): try again later",
        }
        self._why = why
        self._refusals = {reason: refusal_answer(text) for reason, text in why.items()}

    def open_connections(self) -> int:
        self._streams = {stream: key for stream, key in self._streams.items() if not stream.closed()}
        self._waiting = {stream: since for stream, since in self._waiting.items() if not stream.closed()}
        return len(self._streams)

    def handle_stream(self, stream: IOStream, address: Any) -> None:
        host = str(address[0]) if isinstance(address, tuple) else str(address)
        key = address_key(host)
        open_now = self.open_connections()
        held = sum(1 for held_by in self._streams.values() if held_by == key)
        reason = self.admission.refusal(host, held, open_now)
        if reason is not None and not self._make_room(host, key, reason, held, open_now):
            self._refuse(stream, host, reason)
            return
        self._streams[stream] = key
        super().handle_stream(stream, address)

    def start_request(self, server_conn: object, request_conn: HTTPConnection) -> HTTPMessageDelegate:
        stream = cast(HTTP1ServerConnection, server_conn).stream
        self._waiting[stream] = time.monotonic()
        return _Arrival(super().start_request(server_conn, request_conn), lambda: self._waiting.pop(stream, None))

    def _make_room(self, host: str, key: str, reason: str, held: int, open_now: int) -> bool:
        """Close the connection stalled longest (``key``'s own if it holds its share) for ``host`` to take its place."""
        stalled_since = time.monotonic() - STALLED_AFTER
        stalled = [(since, stream) for stream, since in self._waiting.items() if since <= stalled_since
                   and (reason != "address" or self._streams.get(stream) == key)]
        if not stalled:
            return False
        since, victim = min(stalled, key=lambda pair: pair[0])
        victim_key = self._streams.get(victim)
        # In the place of one of its own, an address holds no more than before; in another's,
        # the newcomer must be one the server would serve with that place free.
        if victim_key != key and self.admission.refusal(host, held, open_now - 1) is not None:
            return False
        log.warning("closed a connection from %s that sent no whole request for %.0f s, to serve one from %s",
                    victim_key, time.monotonic() - since, host)
        victim.close()
        self._streams.pop(victim, None)
        self._waiting.pop(victim, None)
        return True

    def _refuse(self, stream: IOStream, host: str, reason: str) -> None:
        # Synchronously, without the IOLoop: the descriptor is free again before the next
        # accept, so a flood never holds more than one descriptor beyond the cap.
        log.warning("refused a connection from %s: %s", host, self._why[reason])
        sock = stream.socket
        try:
            sock.send(self._refusals[reason])
            sock.shutdown(socket.SHUT_WR)
            sock.recv(DRAIN_BYTES)  # a request already sent would otherwise turn the close into a reset
        except OSError:
            pass  # not readable yet, or the client is gone: either way, close
        stream.close()


def open_http_server(app: Application, max_clients: int | None,
                     per_address: int | None = None) -> CappedHTTPServer:
    """The web server for ``app``, capped to what the open-file limit allows (raised first).

    The token holders' addresses are the app's ``known_addresses`` (its handlers remember them)."""
    open_files = raise_open_file_limit()
    cap = client_limit(max_clients, open_files)
    known = app.settings.get("known_addresses")
    admission = Admission(cap, per_address or MAX_CONNECTIONS_PER_ADDRESS,
                          known if isinstance(known, KnownAddresses) else None)
    log.info("serving at most %d connections at a time, %d from one address, the last %d only to "
             "addresses that used the token lately (%d of %d descriptors kept for probes, storage and "
             "the spool)", cap, admission.per_address, admission.holders_reserve, RESERVED_FDS, open_files)
    return CappedHTTPServer(app, admission=admission, idle_connection_timeout=IDLE_CONNECTION_TIMEOUT,
                            body_timeout=BODY_TIMEOUT, max_body_size=MAX_BODY_BYTES)
