"""The Tornado application: the dashboard page and the WebSocket at /ws.

Handlers run on the IOLoop only. They get their collaborators through ``initialize()``;
the set of connected clients lives on a ``Hub`` so two apps in one process never share
clients. Blocking work is handed to other threads: hardware and settings to the monitor
thread, history and events queries to the IOLoop's executor (at most ``QUERIES_PER_CLIENT`` per client,
and in the lanes of ``read_lanes``).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from pathlib import Path

import tornado.web
import tornado.websocket

from beerpi.control.settings import HYSTERESIS_RANGE, TARGET_RANGE
from beerpi.protocol import frames as protocol
from beerpi.protocol.access import UNAUTHORIZED, Access, log_request, take_token
from beerpi.protocol.incoming import request_id_of
from beerpi.protocol.rate_limit import COMMANDS_PER_SECOND, CommandBudget
from beerpi.web.admission import KnownAddresses, remember_token_holder
from beerpi.web.api import hydrometer_posts as api_hydrometer
from beerpi.web.api.base import RATE_LIMITED
from beerpi.web.archive_pages import page_routes as archive_routes
from beerpi.web.compare_page import ComparePageHandler
from beerpi.web.dispatch import INTERNAL_ERROR, QUERIES, carry_out
from beerpi.web.headers import SecurityHeaders
from beerpi.web.hosts import HostCheck, refuse_foreign_host
from beerpi.web.hub import Hub
from beerpi.web.intake import Intake
from beerpi.web.pages import PageHandler
from beerpi.web.routes import api_routes

log = logging.getLogger("beerpi.server")  # the log name users filter on (README, Layout)

QUERIES_PER_CLIENT = 2  # history, events and get_temp requests one client may have running at a time
PING_INTERVAL = 20.0  # s between WebSocket pings; a client silent for PING_TIMEOUT after one is dropped
PING_TIMEOUT = 20.0

NUL_IN_PATH = "Bad Request: a path may not hold a NUL byte"

PROJECT_ROOT = Path(__file__).resolve().parent.parent.parent
TEMPLATE_PATH = PROJECT_ROOT / "templates"
STATIC_PATH = PROJECT_ROOT / "static"
CHART_LIBRARY = "vendor/d3.min.js"  # fetched by make (beerpi/cli/vendor.py), never committed


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


class StaticHandler(tornado.web.StaticFileHandler):
    def initialize(self, path: str, default_filename: str | None = None,  # type: ignore[override]
                   hosts: HostCheck | None = None) -> None:
        super().initialize(path, default_filename)
        self.hosts = hosts

    def prepare(self) -> None:
        if self.hosts is not None:
            refuse_foreign_host(self, self.hosts)

    def parse_url_path(self, url_path: str) -> str:
        if "\x00" in url_path:  # no file name holds one; the OS would refuse it with a ValueError (a 500)
            raise tornado.web.HTTPError(400, reason=NUL_IN_PATH)
        return super().parse_url_path(url_path)


class MainHandler(PageHandler):
    def get(self) -> None:
        self.render("index.html", controls=SETTING_CONTROLS)


class WebSocketHandler(tornado.websocket.WebSocketHandler):
    def initialize(self, hub: Hub, access: Access, hosts: HostCheck) -> None:
        self.hub = hub
        self.access = access
        self.hosts = hosts
        self.authorised = False
        self.refusal: str | None = None  # why a token presented on the upgrade was refused
        self.queries: set[asyncio.Task] = set()  # history, events and get_temp being answered
        self.budget = CommandBudget()
        self.intake = Intake(self.budget, self.hub.sources, self._send, self._too_fast)

    def prepare(self) -> None:
        presented = take_token(self.request)
        if refuse_foreign_host(self, self.hosts):
            return
        outcome = self.access.check(self.request.remote_ip or "", presented) if presented else "unauthorized"
        self.authorised = outcome == "ok"
        if self.authorised:
            remember_token_holder(self)
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
        command = self.intake.admit(message)
        if command is None:
            return
        if isinstance(command, protocol.AuthCommand):
            self._authorise(command)
        elif isinstance(command, QUERIES):
            # Run beside this client's next frames: Tornado reads no further message until
            # on_message returns, and a ping must not wait for a long query or a probe read.
            if len(self.queries) >= QUERIES_PER_CLIENT:
                self._send(protocol.error_frame(
                    "busy", f"at most {QUERIES_PER_CLIENT} history, events or get_temp requests at a "
                            "time: wait for a reply before sending another", command.id))
                return
            task = asyncio.ensure_future(self._carry_out(command))
            self.queries.add(task)
            task.add_done_callback(self.queries.discard)
        else:
            await self._carry_out(command)

    async def _carry_out(self, command: protocol.Command) -> None:
        try:
            await carry_out(self.hub, command, self._send, self.authorised, self.request.remote_ip or "",
                            source=self._source())
        except Exception:  # as in on_message: a defect, answered and logged
            log.exception("could not handle %r from %s", command, self.request.remote_ip)
            self._send(protocol.error_frame("internal", INTERNAL_ERROR, getattr(command, "id", None)))

    def _source(self) -> str:
        """What the stored events name as the change's maker: a browser sends an Origin, a script does not."""
        return "dashboard" if self.request.headers.get("Origin") else "websocket"

    def _too_fast(self, message: object) -> None:
        if self.budget.abusive:
            log.warning("closing the connection of %s: it kept sending more than %d commands a second",
                        self.request.remote_ip, COMMANDS_PER_SECOND)
            self.close(1008, "too many commands")
        else:
            self._send(protocol.error_frame(
                "too_fast", f"at most {COMMANDS_PER_SECOND:.0f} commands a second: this one was ignored",
                request_id_of(message)))

    def _authorise(self, command: protocol.AuthCommand) -> None:
        outcome = self.access.check(self.request.remote_ip or "", command.token)
        if outcome == "ok":
            self.authorised = True
            remember_token_holder(self)
            self._send(protocol.auth_ok_frame(command.id))
        else:
            self._refuse(outcome, command.id)

    def _refuse(self, outcome: str, request_id: protocol.RequestId | None = None) -> None:
        if outcome == "rate_limited":
            self._send(protocol.error_frame("rate_limited", RATE_LIMITED, request_id))
        else:
            self._send(protocol.error_frame("unauthorized", UNAUTHORIZED, request_id))

    def _send(self, frame: str) -> None:
        try:
            self.write_message(frame)
        except tornado.websocket.WebSocketClosedError:
            pass


def warn_without_chart_library(static_path: Path = STATIC_PATH) -> bool:
    """Say at start when the chart library was never fetched (an install without make); True if so."""
    if (static_path / CHART_LIBRARY).is_file():
        return False
    log.warning("the chart library %s is missing: the dashboard shows live values and controls but no "
                "chart; run make (or python -m beerpi.cli.vendor) to fetch it", static_path / CHART_LIBRARY)
    return True


def make_app(hub: Hub, access: Access, hosts: HostCheck, debug: bool = False) -> tornado.web.Application:
    warn_without_chart_library()
    hydrometer_routes = api_hydrometer.routes(hub.hydrometers, {"hub": hub, "access": access, "hosts": hosts}) \
        if hub.hydrometers is not None else []
    return tornado.web.Application(
        [
            (r"/", MainHandler, {"hosts": hosts}),
            (r"/compare", ComparePageHandler, {"hosts": hosts}),  # batches side by side
            (r"/ws", WebSocketHandler, {"hub": hub, "access": access, "hosts": hosts}),
            *archive_routes(hub, access, hosts),  # /batches and /batches/<id>
            *hydrometer_routes,  # before /api/.*, which answers 404
            *api_routes(hub, access, hosts),  # the HTTP API and server-sent events: docs/http.md
        ],
        log_function=log_request,
        transforms=[SecurityHeaders],
        known_addresses=KnownAddresses(),  # the token holder's, for the connections kept for them (admission.py)  # on every answer, errors and upgrades included: headers.py
        static_handler_class=StaticHandler,
        static_handler_args={"hosts": hosts},
        template_path=str(TEMPLATE_PATH),
        static_path=str(STATIC_PATH),
        debug=debug,
        websocket_max_message_size=protocol.MAX_FRAME_BYTES,
        websocket_ping_interval=PING_INTERVAL,
        websocket_ping_timeout=PING_TIMEOUT,
    )
