"""GET /events: the WebSocket's frames as server-sent events, for clients that cannot do WebSocket.

IOLoop only. A stream starts with the ``hello`` (and the storage ``status``), then carries
every broadcast as one event: ``id: <run>-<sequence>`` and ``data: <the frame>``. The hub
numbers its broadcasts and keeps the last ``recent_frames.RECENT_FRAMES`` of them, so a client that
reconnects with ``Last-Event-ID`` (browsers' EventSource does it by itself) is sent what it
missed instead of a new hello, as long as it missed no more than those; the run part
makes an id from before a restart start afresh. A comment every ``KEEPALIVE_SECONDS``
keeps proxies from closing a quiet stream. A client that reads slower than the frames
come is dropped once ``MAX_UNSENT_BYTES`` wait for it: nothing is buffered without bound.
"""

from __future__ import annotations

import asyncio
import logging
import time
from asyncio import Future
from typing import TYPE_CHECKING

from tornado.ioloop import PeriodicCallback

from beerpi.protocol import frames as protocol
from beerpi.protocol.access import Access
from beerpi.web.api.base import ApiHandler
from beerpi.web.hosts import HostCheck

if TYPE_CHECKING:
    from beerpi.web.hub import Hub

log = logging.getLogger("beerpi.sse")  # the log name users filter on (README, Layout)

KEEPALIVE_SECONDS = 15.0
MAX_UNSENT_BYTES = 1024 * 1024
RETRY_MS = 2000  # how long EventSource waits before reconnecting


def event_text(event_id: str, frame: str) -> str:
    """One event; a frame is compact JSON, so a single ``data:`` line holds it."""
    return f"id: {event_id}\ndata: {frame}\n\n"


class EventStreamHandler(ApiHandler):
    """One client's stream; the hub calls ``send`` for every broadcast."""

    def initialize(self, hub: Hub, access: Access, hosts: HostCheck) -> None:
        super().initialize(hub, access, hosts)
        self.ended = asyncio.Event()
        self.pending = 0  # bytes written since the last flush
        self.unsent = 0  # bytes flushed to the connection and not yet taken by the socket

    async def get(self) -> None:
        self.set_header("Content-Type", "text/event-stream; charset=utf-8")
        self.set_header("X-Accel-Buffering", "no")  # a proxy (nginx) must pass events on as they come
        recent = self.hub.recent
        missed = recent.after(self.request.headers.get("Last-Event-ID"))
        self._put(f"retry: {RETRY_MS}\n\n")
        if missed is None:
            # Numbered as of the last broadcast: resuming from here replays what follows it.
            now = recent.event_id(recent.sequence)
            self._put(event_text(now, self.hub.hello()))
            if self.hub.storage_status is not None:
                self._put(event_text(now, protocol.status_frame(time.time(), self.hub.storage_status())))
        else:
            for sequence, frame in missed:
                self._put(event_text(recent.event_id(sequence), frame))
        self.hub.listen(self)  # in the same loop turn as the hello: no broadcast falls in between
        keepalive = PeriodicCallback(self._keep_alive, KEEPALIVE_SECONDS * 1000)
        try:
            self._flush()
            keepalive.start()
            await self.ended.wait()
        finally:
            keepalive.stop()
            self.hub.unlisten(self)

    def send(self, sequence: int, frame: str) -> None:
        """Pass on one broadcast (called by the hub)."""
        self._put(event_text(self.hub.recent.event_id(sequence), frame))
        self._flush()

    def drop(self, why: str) -> None:
        """End the stream from this side."""
        if self.ended.is_set():
            return
        log.warning("dropping the event stream of %s: %s", self.request.remote_ip, why)
        self.hub.unlisten(self)
        self.ended.set()
        self.request.connection.close()

    def on_connection_close(self) -> None:
        self.ended.set()  # the client went away; get() unlistens

    def _keep_alive(self) -> None:
        self._put(": keep-alive\n\n")
        self._flush()

    def _put(self, text: str) -> None:
        data = text.encode()
        self.write(data)
        self.pending += len(data)

    def _flush(self) -> None:
        if self.ended.is_set():
            return
        size, self.pending = self.pending, 0
        self.unsent += size
        if self.unsent > MAX_UNSENT_BYTES:
            self.drop(f"more than {MAX_UNSENT_BYTES // 1024} KiB of events wait for it (it reads too slowly)")
            return
        self.flush().add_done_callback(lambda future: self._written(future, size))

    def _written(self, future: Future, size: int) -> None:
        self.unsent -= size
        if not future.cancelled():
            future.exception()  # a closed connection: on_connection_close has seen to it
