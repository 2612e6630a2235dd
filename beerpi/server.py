"""The Tornado application: the dashboard page and the WebSocket at /ws.

Handlers run on the IOLoop only. They get their collaborators through ``initialize()``;
the set of connected clients lives on a ``Hub`` so two apps in one process never share
clients. Blocking work is handed to other threads: hardware and settings to the monitor
thread, history queries to the IOLoop's executor (at most ``HISTORY_PER_CLIENT`` per client
and ``hub.QUERY_WORKERS`` in all at a time).
"""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import Future
from dataclasses import dataclass
from collections.abc import Callable
from pathlib import Path
from typing import Any

import tornado.web
import tornado.websocket
from tornado.ioloop import IOLoop

from . import protocol
from .auth import UNAUTHORIZED, Access, log_request, take_token
from .hosts import HostCheck
from .control import HYSTERESIS_RANGE, TARGET_RANGE
from .errors import BeerPiError, Closed, ConfigError, NotSaved
from .hub import Hub

log = logging.getLogger(__name__)

HISTORY_PER_CLIENT = 2  # history queries one client may have running at a time
INTERNAL_ERROR = "the server failed to handle this frame; the fault is logged on the server"

PROJECT_ROOT = Path(__file__).resolve().parent.parent
TEMPLATE_PATH = PROJECT_ROOT / "templates"
STATIC_PATH = PROJECT_ROOT / "static"


@dataclass(frozen=True)
class SettingControl:
    """A numeric setting on the dashboard; its range comes from the control rules."""

    name: str
    label: str
    low: float
    high: float
    step: float
    decimals: int


SETTING_CONTROLS = (
    SettingControl("target", "Target", *TARGET_RANGE, step=0.5, decimals=1),
    SettingControl("hysteresis", "Hysteresis", *HYSTERESIS_RANGE, step=0.05, decimals=2),
)


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


class StaticHandler(tornado.web.StaticFileHandler):
    def initialize(self, path: str, default_filename: str | None = None,  # type: ignore[override]
                   hosts: HostCheck | None = None) -> None:
        super().initialize(path, default_filename)
        self.hosts = hosts

    def prepare(self) -> None:
        if self.hosts is not None:
            refuse_foreign_host(self, self.hosts)


class MainHandler(tornado.web.RequestHandler):
    def initialize(self, hosts: HostCheck) -> None:
        self.hosts = hosts

    def prepare(self) -> None:
        take_token(self.request)  # the page keeps it (app.js); the request, and its log, do not
        refuse_foreign_host(self, self.hosts)

    def get(self) -> None:
        self.render("index.html", controls=SETTING_CONTROLS)


class WebSocketHandler(tornado.websocket.WebSocketHandler):
    def initialize(self, hub: Hub, access: Access, hosts: HostCheck) -> None:
        self.hub = hub
        self.access = access
        self.hosts = hosts
        self.authorised = False
        self.refusal: str | None = None  # why a token presented on the upgrade was refused
        self.history_tasks: set[asyncio.Task] = set()

    def prepare(self) -> None:
        presented = take_token(self.request)
        if refuse_foreign_host(self, self.hosts):
            return
        outcome = self.access.check(self.request.remote_ip or "", presented) if presented else "unauthorized"
        self.authorised = outcome == "ok"
        if not self.authorised and presented is not None:
            self.refusal = outcome
        if not self.authorised and self.access.read_token_required:
            self.set_status(429 if outcome == "rate_limited" else 401)
            self.finish("BeerPi needs the token to watch too (--read-token-required): open the link "
                        "printed in its log at start, or send Authorization: Bearer <token>\n")

    def check_origin(self, origin: str) -> bool:
        """A page of this server (same origin), or one listed with --allow-origin; see hosts.py."""
        if self.hosts.origin_ok(origin, self.request.host):
            return True
        log.warning("refused a WebSocket from %s opened by a page of %r: not this server's "
                    "(allow it with --allow-origin)", self.request.remote_ip, origin)
        return False

    def open(self) -> None:
        self.hub.join(self)
        if self.refusal is not None:
            self._refuse(self.refusal)

    def on_close(self) -> None:
        self.hub.leave(self)

    async def on_message(self, message: str | bytes) -> None:
        try:
            await self._handle(message)
        except Exception:
            # A defect, not the client's fault: one log line (rate-limited where logging is
            # configured), an answer, and the connection carries on. Tornado would otherwise
            # log a traceback and drop the client.
            log.exception("could not handle a frame from %s", self.request.remote_ip)
            self._send(protocol.error_frame("internal", INTERNAL_ERROR))

    async def _handle(self, message: str | bytes) -> None:
        try:
            command = protocol.parse(message, self.hub.monitor.probes)
        except protocol.ProtocolError as exc:
            self._send(protocol.error_frame(exc.code, exc.message, exc.request_id))
            return
        if not isinstance(command, protocol.READ_ONLY) and not self.authorised:
            self._refuse("unauthorized")
        elif isinstance(command, protocol.AuthCommand):
            self._authorise(command.token)
        elif isinstance(command, protocol.PingCommand):
            self._send(protocol.PONG_FRAME)
        elif isinstance(command, protocol.SetCommand):
            await self._change_settings(command.changes, command.chamber)
        elif isinstance(command, protocol.ProfileCommand):
            await self._change_profile(command)
        elif isinstance(command, protocol.HistoryCommand):
            # Run beside this client's next frames: Tornado reads no further message
            # until on_message returns, and a ping must not wait for a long query.
            if len(self.history_tasks) >= HISTORY_PER_CLIENT:
                self._send(protocol.error_frame(
                    "busy", f"at most {HISTORY_PER_CLIENT} history requests at a time: wait for a "
                            "reply before sending another", command.id))
                return
            task = asyncio.ensure_future(self._history(command))
            self.history_tasks.add(task)
            task.add_done_callback(lambda done: self._history_done(done, command))

    def _authorise(self, token: str) -> None:
        outcome = self.access.check(self.request.remote_ip or "", token)
        if outcome == "ok":
            self.authorised = True
            self._send(protocol.AUTH_OK_FRAME)
        else:
            self._refuse(outcome)

    def _refuse(self, outcome: str) -> None:
        if outcome == "rate_limited":
            self._send(protocol.error_frame("rate_limited", "too many wrong tokens from this address: "
                                                            "wait a few minutes, then use the right token"))
        else:
            self._send(protocol.error_frame("unauthorized", UNAUTHORIZED))

    def _history_done(self, task: asyncio.Task, command: protocol.HistoryCommand) -> None:
        """Forget the task; a task that failed is logged and answered, never lost."""
        self.history_tasks.discard(task)
        if task.cancelled() or task.exception() is None:
            return
        log.error("history request %r failed", command, exc_info=task.exception())
        self._send(protocol.error_frame("internal", INTERNAL_ERROR, command.id))

    async def _history(self, command: protocol.HistoryCommand) -> None:
        store = self.hub.store
        if store is None:
            self._send(protocol.error_frame("unavailable", "this server keeps no history", command.id))
            return
        try:
            async with self.hub.history_slots:
                buckets = await IOLoop.current().run_in_executor(
                    None, store.history, command.probe, command.since, command.until, command.points)
        except Closed:
            self._send(protocol.error_frame("unavailable", "the server is shutting down", command.id))
        except BeerPiError as exc:
            log.warning("history request %r failed: %s", command, exc)
            self._send(protocol.error_frame("unavailable", f"the history cannot be read now: {exc}",
                                            command.id))
        except Exception:
            log.exception("history request %r failed", command)
            self._send(protocol.error_frame("unavailable", "the history cannot be read now", command.id))
        else:
            self._send(protocol.history_frame(command, buckets))

    async def _change_settings(self, changes: dict[str, Any], chamber: str | None = None) -> None:
        await self._submit(lambda: self.hub.monitor.submit_settings(changes, chamber_id=chamber),
                           "settings")

    async def _change_profile(self, command: protocol.ProfileCommand) -> None:
        await self._submit(lambda: self.hub.monitor.submit_profile(
            command.action, command.chamber, command.steps, command.at_step, command.elapsed),
            f"the profile ({command.action})")

    async def _submit(self, submit: Callable[[], Future], what: str) -> None:
        """Run a change on the monitor thread; the reply is the broadcast state, or an error frame."""
        try:
            await asyncio.wrap_future(submit())
        except NotSaved as exc:  # in force (the state frame went out), but lost at a restart
            self._send(protocol.error_frame("not_saved", str(exc)))
        except ConfigError as exc:
            self._send(protocol.error_frame("invalid_value", str(exc)))
        except Closed:
            self._send(protocol.error_frame("unavailable", "the controller is shutting down"))
        except BeerPiError as exc:
            log.error("could not change %s: %s", what, exc)
            self._send(protocol.error_frame("unavailable", f"could not change {what}: {exc}"))

    def _send(self, frame: str) -> None:
        try:
            self.write_message(frame)
        except tornado.websocket.WebSocketClosedError:
            pass


def make_app(hub: Hub, access: Access, hosts: HostCheck, debug: bool = False) -> tornado.web.Application:
    return tornado.web.Application(
        [
            (r"/", MainHandler, {"hosts": hosts}),
            (r"/ws", WebSocketHandler, {"hub": hub, "access": access, "hosts": hosts}),
        ],
        log_function=log_request,
        static_handler_class=StaticHandler,
        static_handler_args={"hosts": hosts},
        template_path=str(TEMPLATE_PATH),
        static_path=str(STATIC_PATH),
        debug=debug,
        websocket_max_message_size=protocol.MAX_FRAME_BYTES,
    )
