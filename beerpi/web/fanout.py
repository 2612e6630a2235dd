"""The broadcast's fast path: one frame built once, written straight to every client's socket.

Tornado's ``write_message`` costs, for every client and every frame: encoding the text,
building the frame header, ``IOStream.write`` (a buffer append, a ``Future`` with a done
callback, and ``call_soon`` to resolve it once written) and a coroutine wrapped in a Task to
translate its errors. That is about 45 µs of one core per delivery; the frame bytes are the
same for every client, because a server's frames are not masked.

Here the text is encoded and framed once per broadcast, and each client whose stream has
nothing queued gets it with one ``socket.send``: no Future, no Task, no callback. What the
kernel does not take (``EAGAIN``, or part of it) goes to the stream's own buffer through
``IOStream.write``, which sends it when the socket drains, in order. A client whose buffer
passes ``MAX_UNSENT`` bytes is closed, so one that stops reading costs a bounded amount of
memory and never delays the others.

It relies on Tornado internals (checked against Tornado 6.6: ``WebSocketHandler.ws_connection``,
``WebSocketProtocol13.stream`` and ``_compressor``, ``IOStream._write_buffer``); ``route``
checks them for each client, and any client they do not fit (another Tornado, TLS, a
compressed connection, a closing one) is sent the frame by ``write_message`` as before.
"""

from __future__ import annotations

import logging
import struct
from collections.abc import Iterable, Sequence
from typing import Any

from tornado.iostream import IOStream, StreamClosedError
from tornado.websocket import WebSocketClosedError, WebSocketHandler, WebSocketProtocol13

log = logging.getLogger("beerpi.fanout")  # the log name users filter on (README, Layout)

MAX_UNSENT = 1024 * 1024  # bytes queued for one client beyond what its socket holds; past it, it is dropped
# 1013 "Try Again Later" (IANA registry): the server casts off a client it cannot serve now.
# A slow phone should reconnect (the dashboard does, for any close); 1008 "policy violation"
# would speak of a message the client sent, and it sent none.
SLOW_CLIENT_CODE = 1013
SLOW_CLIENT_REASON = "too slow: more than 1 MiB of readings unsent"


def text_frames(texts: Sequence[str]) -> bytes:
    """Each of ``texts`` as a text frame, one after the other, ready for one ``send``."""
    return b"".join(text_frame(text) for text in texts)


def text_frame(text: str) -> bytes:
    """``text`` as one unmasked, unfragmented, uncompressed text frame (RFC 6455 section 5.2)."""
    payload = text.encode("utf-8")
    size = len(payload)
    if size < 126:
        return struct.pack("!BB", 0x81, size) + payload
    if size < 0x10000:
        return struct.pack("!BBH", 0x81, 126, size) + payload
    return struct.pack("!BBQ", 0x81, 127, size) + payload


def route(waiter: WebSocketHandler) -> IOStream | None:
    """The plain TCP stream the frame can be written to as it is, or None: use ``write_message``."""
    connection = getattr(waiter, "ws_connection", None)
    if type(connection) is not WebSocketProtocol13 or connection.mask_outgoing:
        return None
    if getattr(connection, "_compressor", True) is not None:  # permessage-deflate: compressed per client
        return None
    if connection.client_terminated or connection.server_terminated:
        return None
    stream = getattr(connection, "stream", None)
    if type(stream) is not IOStream or stream.closed():  # an SSLIOStream must write through TLS
        return None
    if not hasattr(stream, "_write_buffer"):  # without it, a slow client could not be told apart
        return None
    return stream


def unsent(stream: Any) -> int:
    """Bytes queued in the stream because its socket would not take them yet (0 if unknown)."""
    return len(getattr(stream, "_write_buffer", None) or ())


def broadcast(waiters: Iterable[WebSocketHandler], texts: Sequence[str],
              max_unsent: int = MAX_UNSENT) -> list[WebSocketHandler]:
    """Send ``texts`` to every waiter; return those that are gone or were dropped for being too slow."""
    frame = text_frames(texts)
    gone = []
    for waiter in waiters:
        stream = route(waiter)
        queued = unsent(stream or getattr(getattr(waiter, "ws_connection", None), "stream", None))
        if queued > max_unsent:
            drop(waiter, queued, max_unsent)
            gone.append(waiter)
            continue
        if stream is None:
            if not send_slowly(waiter, texts):
                gone.append(waiter)
            continue
        try:
            sent = 0 if queued else stream.socket.send(frame)  # queued: send after it, in order
        except BlockingIOError:
            sent = 0
        except OSError:  # reset or gone: let the stream fail and close as it does for its own writes
            sent = 0
        if sent < len(frame):
            try:
                stream.write(memoryview(frame)[sent:])
            except StreamClosedError:
                gone.append(waiter)
    return gone


def send_slowly(waiter: WebSocketHandler, texts: Sequence[str]) -> bool:
    """Tornado's own way, for a client the fast path does not fit; False if it is gone."""
    try:
        for text in texts:
            waiter.write_message(text)
    except WebSocketClosedError:
        return False
    except Exception:
        log.exception("dropping a client that failed to receive a frame")
        waiter.close()
        return False
    return True


def drop(waiter: WebSocketHandler, queued: int, max_unsent: int) -> None:
    log.warning("dropped a client at %s: %d bytes unsent, more than %d; it reads too slowly (close code %d)",
                waiter.request.remote_ip, queued, max_unsent, SLOW_CLIENT_CODE)
    waiter.close(SLOW_CLIENT_CODE, SLOW_CLIENT_REASON)
