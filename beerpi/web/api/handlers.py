"""The HTTP API: status, readings, events and chamber changes as JSON (docs/http.md).

IOLoop only. Readings, events and changes are WebSocket commands underneath (see
``api_commands``): parsed by ``requests.parse`` and carried out by ``dispatch.carry_out``,
which runs changes on the monitor thread and queries on the executor.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import tornado.web

from beerpi import __version__
from beerpi.protocol import frames as protocol
from beerpi.protocol.access import Access
from beerpi.protocol.incoming import Command, ProtocolError
from beerpi.protocol.rate_limit import COMMANDS_PER_SECOND, AddressBudgets
from beerpi.web.api.base import ApiHandler
from beerpi.web.api.translate import (
    DEFAULT_POINTS,
    ApiError,
    body_message,
    command_text,
    not_saved,
    query_message,
    reply_body,
    status_for,
)
from beerpi.web.connections import MAX_BODY_BYTES
from beerpi.web.dispatch import carry_out
from beerpi.web.hosts import HostCheck
from beerpi.web.hub import Hub

log = logging.getLogger("beerpi.api")  # the log name users filter on (README, Layout)


async def run_command(hub: Hub, text: str, authorised: bool, address: str = "") -> list[str]:
    """Parse ``text`` as a WebSocket frame from ``address`` and carry it out; the frames dispatch replied with."""
    try:
        command: Command = protocol.parse(text, hub.sources())
    except ProtocolError as exc:
        raise ApiError(status_for(exc.code), exc.code, exc.message) from None
    frames: list[str] = []
    await carry_out(hub, command, frames.append, authorised, address, source="api")
    return frames


class CommandHandler(ApiHandler):
    """Shared by the endpoints that are commands: an ApiError becomes its status and error body."""

    def arguments(self) -> dict[str, str]:
        """The query arguments (the last of a repeated one), the token already taken off."""
        return {name: self.get_query_argument(name) for name in self.request.query_arguments}

    async def command(self, message: dict[str, Any], kind: str) -> dict[str, Any]:
        frames = await run_command(self.hub, command_text(message), self.authorised, self.request.remote_ip or "")
        return reply_body(frames, kind)

    def refuse(self, error: ApiError) -> None:
        self.fail(error.status, error.code, error.message)


class StatusHandler(ApiHandler):
    """GET /api/status: chambers and their states, the latest readings, storage, uptime, version."""

    def initialize(self, hub: Hub, access: Access, hosts: HostCheck, started: float) -> None:  # type: ignore[override]
        super().initialize(hub, access, hosts)
        self.started = started

    def get(self) -> None:
        hub = self.hub
        now = time.time()
        self.answer({
            "version": __version__, "protocol": protocol.VERSION, "ts": now,
            "uptime": round(time.monotonic() - self.started, 3), "simulated": hub.simulated,
            "interval": hub.monitor.interval,
            "chambers": [protocol.chamber_message(chamber.info, hub.states[chamber.id])
                         for chamber in hub.monitor.chambers.values()],
            "probes": [{"id": probe.id, "name": probe.name} for probe in hub.monitor.probes],
            "readings": [protocol.reading_message(hub.latest[key]) for key in sorted(hub.latest)],
            "storage": dict(hub.storage_status()) if hub.storage_status is not None else None,
        })


class ReadingsHandler(CommandHandler):
    """GET /api/readings: min, mean and max of one probe in buckets (the ``history`` command)."""

    async def get(self) -> None:
        try:
            message = query_message("history", self.arguments(), time.time(), {"points": DEFAULT_POINTS})
            self.answer(await self.command(message, "history"))
        except ApiError as error:
            self.refuse(error)


class EventsHandler(CommandHandler):
    """GET /api/events: stored events of a range, by chamber and kind (the ``events`` command)."""

    async def get(self) -> None:
        try:
            message = query_message("events", self.arguments(), time.time())
            self.answer(await self.command(message, "events"))
        except ApiError as error:
            self.refuse(error)


@tornado.web.stream_request_body
class ChamberHandler(CommandHandler):
    """POST /api/chambers/<id>/settings and /profile: the ``set`` and ``profile`` commands; the new state."""

    SUPPORTED_METHODS = ("POST",)

    def initialize(self, hub: Hub, access: Access, hosts: HostCheck, kind: str,  # type: ignore[override]
                   budgets: AddressBudgets) -> None:
        super().initialize(hub, access, hosts)
        self.kind = kind
        self.budgets = budgets
        self.body = bytearray()

    def prepare(self) -> None:
        declared = self.request.headers.get("Content-Length", "")
        too_large = declared.isdigit() and int(declared) > MAX_BODY_BYTES
        if too_large:
            # Answered before the body is read (413, or 401/403 first): let Tornado read past its
            # own limit rather than append a bare 400 to the answer. The connection closes once
            # the answer is out, so the rest of the body is never read.
            self.request.connection.set_max_body_size(int(declared))
        super().prepare()
        if too_large and not self._finished:
            self.fail(413, "too_large", f"the body may be at most {MAX_BODY_BYTES // 1024} KiB")

    def data_received(self, chunk: bytes) -> None:
        self.body += chunk

    async def post(self, chamber: str) -> None:
        if chamber not in self.hub.monitor.chambers:
            self.fail(404, "not_found", f"unknown chamber {chamber!r}: the chambers are "
                                        f"{', '.join(self.hub.monitor.chambers)}")
            return
        if not self.budgets.take(self.request.remote_ip or ""):
            self.fail(429, "too_fast", f"more than {COMMANDS_PER_SECOND:g} commands a second from this "
                                       "address: this one changed nothing; slow down")
            return
        try:
            message = body_message(self.kind, chamber, bytes(self.body))
            frames = await run_command(self.hub, command_text(message), self.authorised)
            warning = not_saved(frames)
            if warning is None:
                self.answer({"state": reply_body(frames, "ok")["state"]})
            else:  # in force, and every client was told, but a restart would lose it
                state = self.hub.monitor.chambers[chamber].state
                self.answer({"state": protocol.state_message(state),
                             "warning": {"code": "not_saved", "message": warning}})
        except ApiError as error:
            self.refuse(error)
