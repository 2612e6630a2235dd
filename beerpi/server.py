"""The Tornado application: the dashboard page and the WebSocket at /ws.

Handlers run on the IOLoop only. They get their collaborators through ``initialize()``;
the set of connected clients lives on a ``Hub`` so two apps in one process never share
clients. Blocking work (hardware, database) is handed to the monitor thread.
"""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path
from typing import Any

import tornado.web
import tornado.websocket

from . import protocol
from .control import ControlState
from .errors import BeerPiError, Closed, ConfigError
from .monitor import Monitor
from .probe import Reading

log = logging.getLogger(__name__)

PROJECT_ROOT = Path(__file__).resolve().parent.parent
TEMPLATE_PATH = PROJECT_ROOT / "templates"
STATIC_PATH = PROJECT_ROOT / "static"


class Hub:
    """The connected clients and what a newcomer is told; IOLoop only."""

    def __init__(self, monitor: Monitor, latest: list[Reading]) -> None:
        self.monitor = monitor
        self.waiters: set[WebSocketHandler] = set()
        self.state: ControlState = monitor.state
        self.latest: dict[str, Reading] = {r.probe: r for r in latest}

    def hello(self) -> str:
        return protocol.hello_frame(self.state, self.monitor.probes, self.monitor.control_probe.id,
                                    [self.latest[key] for key in sorted(self.latest)],
                                    now=time.time(), interval=self.monitor.interval)

    def publish(self, event: Reading | ControlState) -> None:
        """Remember the event and send it to every client, encoded once."""
        if isinstance(event, Reading):
            self.latest[event.probe] = event
        else:
            self.state = event
        self.broadcast(protocol.event_frame(event))

    def broadcast(self, frame: str) -> None:
        for waiter in list(self.waiters):
            try:
                waiter.write_message(frame)
            except tornado.websocket.WebSocketClosedError:
                self.waiters.discard(waiter)
            except Exception:
                log.exception("dropping a client that failed to receive a frame")
                self.waiters.discard(waiter)
                waiter.close()


class MainHandler(tornado.web.RequestHandler):
    def get(self) -> None:
        self.render("index.html")


class WebSocketHandler(tornado.websocket.WebSocketHandler):
    def initialize(self, hub: Hub) -> None:
        self.hub = hub

    def open(self) -> None:
        self.hub.waiters.add(self)
        self.write_message(self.hub.hello())

    def on_close(self) -> None:
        self.hub.waiters.discard(self)

    async def on_message(self, message: str | bytes) -> None:
        try:
            command = protocol.parse(message)
        except protocol.ProtocolError as exc:
            self._send(protocol.error_frame(exc.code, exc.message))
            return
        if isinstance(command, protocol.PingCommand):
            self._send(protocol.PONG_FRAME)
        elif isinstance(command, protocol.SetCommand):
            await self._change_settings(command.changes)

    async def _change_settings(self, changes: dict[str, Any]) -> None:
        try:
            await asyncio.wrap_future(self.hub.monitor.submit_settings(changes))
        except ConfigError as exc:
            self._send(protocol.error_frame("invalid_value", str(exc)))
        except Closed:
            self._send(protocol.error_frame("unavailable", "the controller is shutting down"))
        except BeerPiError as exc:
            log.error("could not change settings %s: %s", changes, exc)
            self._send(protocol.error_frame("unavailable", f"could not change settings: {exc}"))

    def _send(self, frame: str) -> None:
        try:
            self.write_message(frame)
        except tornado.websocket.WebSocketClosedError:
            pass


def make_app(hub: Hub, debug: bool = False) -> tornado.web.Application:
    return tornado.web.Application(
        [
            (r"/", MainHandler),
            (r"/ws", WebSocketHandler, {"hub": hub}),
        ],
        template_path=str(TEMPLATE_PATH),
        static_path=str(STATIC_PATH),
        debug=debug,
    )
