"""How many connections the web server takes, so that strangers cannot starve the probes.

Every connection holds a file descriptor, and so does every probe read, the database, the
spool and the log. The server raises its soft open-file limit to the hard one at start,
keeps ``RESERVED_FDS`` descriptors for its own work and serves at most ``--max-clients``
connections (WebSockets, page loads and idle TCP connections alike); a connection beyond
that is answered with a short HTTP 503 and closed at once, before it costs anything more.
"""

from __future__ import annotations

import logging
import resource
import socket
from typing import Any

from tornado.httpserver import HTTPServer
from tornado.iostream import IOStream
from tornado.web import Application

from .errors import ConfigError

log = logging.getLogger(__name__)

RESERVED_FDS = 64  # for probes, SQLite (database, WAL, shm), the spool, the log, epoll, history threads
DEFAULT_MAX_CLIENTS = 500  # plenty for a home brewery; the fd limit may lower it
MIN_CLIENTS = 8  # below this the open-file limit is too low to be useful
IDLE_CONNECTION_TIMEOUT = 60.0  # seconds an HTTP connection may sit without a request (not WebSockets)
DRAIN_BYTES = 64 * 1024  # read from a refused connection before closing, so it ends with FIN, not RST
MAX_BODY_BYTES = 64 * 1024  # an HTTP request body; the API answers a longer one with 413 (api.py)


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


class CappedHTTPServer(HTTPServer):
    """An HTTPServer that refuses connections beyond ``max_clients`` with a 503, at once."""

    def initialize(self, *args: Any, max_clients: int, **kwargs: Any) -> None:
        super().initialize(*args, **kwargs)
        self.max_clients = max_clients
        # Every stream handed out, HTTP or WebSocket (a WebSocket keeps its HTTP stream);
        # a closed stream has given its descriptor back.
        self._streams: set[IOStream] = set()
        body = (f"BeerPi is serving the most connections it allows ({max_clients}): "
                "try again later\n").encode()
        self._refusal = (b"HTTP/1.1 503 Service Unavailable\r\n"
                         b"Content-Type: text/plain; charset=utf-8\r\n"
                         b"Content-Length: %d\r\nRetry-After: 10\r\nConnection: close\r\n\r\n%s"
                         % (len(body), body))

    def open_connections(self) -> int:
        self._streams = {stream for stream in self._streams if not stream.closed()}
        return len(self._streams)

    def handle_stream(self, stream: IOStream, address: Any) -> None:
        if self.open_connections() >= self.max_clients:
            self._refuse(stream, address)
            return
        self._streams.add(stream)
        super().handle_stream(stream, address)

    def _refuse(self, stream: IOStream, address: Any) -> None:
        # Synchronously, without the IOLoop: the descriptor is free again before the next
        # accept, so a flood never holds more than one descriptor beyond the cap.
        host = address[0] if isinstance(address, tuple) else address
        log.warning("refused a connection from %s: already serving %d connections (--max-clients)",
                    host, self.max_clients)
        sock = stream.socket
        try:
            sock.send(self._refusal)
            sock.shutdown(socket.SHUT_WR)
            sock.recv(DRAIN_BYTES)  # a request already sent would otherwise turn the close into a reset
        except OSError:
            pass  # not readable yet, or the client is gone: either way, close
        stream.close()


def open_http_server(app: Application, max_clients: int | None) -> CappedHTTPServer:
    """The web server for ``app``, capped to what the open-file limit allows (raised first)."""
    open_files = raise_open_file_limit()
    cap = client_limit(max_clients, open_files)
    log.info("serving at most %d connections at a time (%d of %d descriptors kept for probes, "
             "storage and the spool)", cap, RESERVED_FDS, open_files)
    return CappedHTTPServer(app, max_clients=cap, idle_connection_timeout=IDLE_CONNECTION_TIMEOUT,
                            max_body_size=MAX_BODY_BYTES)
