"""One connection to BeerPi: connect with the token, read ``hello``, send requests, match replies.

This is the part to copy when writing a client of your own. The protocol is in
docs/protocol.md; in short: the server speaks first (``hello``), every frame is one JSON
object, a change needs the control token, and a request is answered by an ``error``, by an
``ok`` carrying the request's ``id`` (newer servers) or by the ``state`` broadcast to every
client (servers of the first release, which the matcher below recognises).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import socket
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus, InvalidURI

from beerpi.client.address import host_of

Frame = dict[str, Any]
Matcher = Callable[[Frame], Frame | None]  # the frame if it answers the request, else None
MAX_FRAME = 8 * 1024 * 1024  # a history reply of 5000 buckets is about half a megabyte
EXIT_FAILED = 1
EXIT_UNAUTHORIZED = 2
REFUSED_TOKEN = ("unauthorized", "rate_limited")
HANDSHAKE_STATUS = {  # what a refused upgrade means, and the exit code it earns
    401: ("the server needs the control token even to watch (--read-token-required): "
          "pass --token or set BEERPI_TOKEN", EXIT_UNAUTHORIZED),
    403: ("the server refused this connection (403): it does not answer to this host name; "
          "use its address, or start it with --allow-host", EXIT_FAILED),
    429: ("too many wrong tokens recently: this one is wrong too; check the token (the right one is always "
          "accepted)",
          EXIT_UNAUTHORIZED),
    503: ("the server is serving as many clients as it may (503): try again later", EXIT_FAILED),
}


class ClientError(Exception):
    """What went wrong, in words for the user, and the exit code it earns.

    ``transient``: the server could not be reached, which may heal by itself (a restart).
    """

    def __init__(self, message: str, exit_code: int = EXIT_FAILED, transient: bool = False) -> None:
        super().__init__(message)
        self.exit_code = exit_code
        self.transient = transient


class Session:
    """A connected client that has read ``hello``."""

    def __init__(self, connection: ClientConnection, hello: Frame, url: str) -> None:
        self.connection = connection
        self.hello = hello
        self.url = url
        self._ids = itertools.count(1)
        self._server_takes_ids = True  # until it refuses one: a server of the first release

    @property
    def now(self) -> float:
        """The server's clock at hello: compare reading times with it, not with ours."""
        return float(self.hello["ts"])

    def chamber_ids(self) -> list[str]:
        return [chamber["id"] for chamber in self.hello.get("chambers", ())]

    def chamber(self, wanted: str | None) -> str | None:
        """The chamber a command is for: the one named, or the only one (None: let the server say)."""
        ids = self.chamber_ids()
        return wanted if wanted is not None else (ids[0] if len(ids) == 1 else None)

    def chamber_state(self, chamber_id: str | None) -> Frame | None:
        for chamber in self.hello.get("chambers", ()):
            if chamber["id"] == chamber_id:
                return chamber["state"]
        return None

    async def receive(self, timeout: float | None = None) -> Frame:
        """The next frame; ConnectionClosed when the server goes away, TimeoutError after ``timeout``."""
        text = await asyncio.wait_for(self.connection.recv(), timeout)
        return json.loads(text)

    async def frames(self) -> AsyncIterator[Frame]:
        """Every frame until the connection closes (then ConnectionClosed)."""
        while True:
            yield await self.receive()

    async def request(self, frame: Mapping[str, Any], matches: Matcher, timeout: float,
                      warn: Callable[[str], None] = lambda text: None, strict_id: bool = False) -> Frame:
        """Send ``frame`` with a fresh ``id`` and return the reply: a frame with that id, or a match.

        ``matches`` recognises the broadcast ``state`` that answers a server without ``ok``.
        An ``error`` for this request raises ClientError; so does an ``error`` without an id
        (a server of the first release puts none on errors to ``set`` and ``profile``) unless
        ``strict_id``. ``not_saved`` is not a refusal: ``warn`` is told and the wait goes on.
        """
        request_id = f"cli-{next(self._ids)}"
        await self._send(frame, request_id)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            left = deadline - loop.time()
            if left <= 0:
                raise ClientError(f"no reply from {host_of(self.url)} within {timeout:g} s")
            try:
                reply = await self.receive(left)
            except TimeoutError:
                continue
            except ConnectionClosed as exc:
                raise ClientError(f"the server closed the connection before replying ({_closed(exc)})") from None
            their_id = reply.get("id")
            if their_id == request_id and reply.get("type") != "error":
                return reply  # an ``ok``, or the reply that is the answer itself (``history``)
            if reply.get("type") == "error" and (their_id == request_id or (their_id is None and not strict_id)):
                if reply.get("code") == "not_saved":
                    warn(reply.get("message", "the change took effect but could not be saved"))
                    continue
                if reply.get("code") == "unknown_field" and self._server_takes_ids and their_id is None:
                    # We send only fields the protocol defines, so the unknown one is our id:
                    # a server of the first release. It changed nothing; send it again without.
                    self._server_takes_ids = False
                    await self._send(frame, request_id)
                    continue
                code = reply.get("code")
                raise ClientError(f"{code}: {reply.get('message', '')}",
                                  EXIT_UNAUTHORIZED if code in REFUSED_TOKEN else EXIT_FAILED)
            if (state := matches(reply)) is not None:
                return state

    async def _send(self, frame: Mapping[str, Any], request_id: str) -> None:
        with_id = {**frame, "id": request_id} if self._server_takes_ids or frame.get("type") == "history" else frame
        try:
            await self.connection.send(json.dumps(with_id))
        except ConnectionClosed as exc:
            raise ClientError(f"the server closed the connection ({_closed(exc)})") from None


@asynccontextmanager
async def open_session(url: str, token: str | None, timeout: float) -> AsyncIterator[Session]:
    """Connect (the token as ``Authorization: Bearer``, never in the URL) and read ``hello``."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        connection = await connect(url, additional_headers=headers, open_timeout=timeout, max_size=MAX_FRAME)
    except Exception as exc:
        raise connect_error(exc, url) from None
    try:
        try:
            hello = json.loads(await asyncio.wait_for(connection.recv(), timeout))
        except (TimeoutError, ConnectionClosed, ValueError):
            raise ClientError(f"{host_of(url)} accepted the connection but sent no BeerPi hello: "
                              "is it a BeerPi server?", transient=True) from None
        if not isinstance(hello, dict) or hello.get("type") != "hello":
            raise ClientError(f"{host_of(url)} did not start with a BeerPi hello: is it a BeerPi server?")
        yield Session(connection, hello, url)
    finally:
        await connection.close()


def connect_error(exc: Exception, url: str) -> ClientError:
    """A failed connection as one sentence that says what to check."""
    where = host_of(url)
    if isinstance(exc, InvalidStatus):
        status = exc.response.status_code
        text, code = HANDSHAKE_STATUS.get(status, (f"the server answered {status} instead of a WebSocket: "
                                                   f"is {url} BeerPi's address?", EXIT_FAILED))
        return ClientError(text, code, transient=status == 503)
    if isinstance(exc, InvalidURI):
        return ClientError(f"{url} is not a WebSocket URL: expected ws://<host>:8888/ws")
    if isinstance(exc, TimeoutError):
        return ClientError(f"no answer from {where}: is BeerPi running at {url}, and is the address right?",
                           transient=True)
    if isinstance(exc, OSError):
        reason = ("connection refused" if isinstance(exc, ConnectionRefusedError)
                  else "unknown host name" if isinstance(exc, socket.gaierror)
                  else exc.strerror or str(exc) or type(exc).__name__)
        return ClientError(f"cannot connect to {where} ({reason}): is BeerPi running at {url}?", transient=True)
    if isinstance(exc, InvalidHandshake):
        return ClientError(f"{where} did not accept a WebSocket ({exc}): is {url} BeerPi's address?")
    raise exc


def _closed(exc: ConnectionClosed) -> str:
    frame = exc.rcvd
    return f"code {frame.code}{': ' + frame.reason if frame.reason else ''}" if frame else "no close frame"
