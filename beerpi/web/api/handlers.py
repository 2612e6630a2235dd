"""The HTTP API: status, readings, events and chamber changes as JSON (docs/http.md).

IOLoop only. Readings, events and changes are WebSocket commands underneath (see
``api/translate.py``): parsed by ``protocol/incoming.parse`` and carried out by ``dispatch.carry_out``,
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
from beerpi.repository.profiles import profile_key
from beerpi.web.api.base import ApiHandler
from beerpi.web.api.translate import (
    DEFAULT_POINTS,
    HTTP_ID,
    ApiError,
    body_message,
    command_text,
    not_saved,
    profile_body,
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
            "chambers": [protocol.chamber_message(chamber.info, hub.states.get(chamber.id, chamber.state),
                                                  hub.open_batches.get(chamber.id))
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
        self.prepare_for_a_body(MAX_BODY_BYTES)

    def data_received(self, chunk: bytes) -> None:
        self.body += chunk

    def within_budget(self) -> bool:
        """Whether this address may send another command now; if not, it is told ``too_fast``."""
        if self.budgets.take(self.request.remote_ip or ""):
            return True
        self.fail(429, "too_fast", f"more than {COMMANDS_PER_SECOND:g} commands a second from this "
                                   "address: this one changed nothing; slow down")
        return False

    async def post(self, chamber: str) -> None:
        if chamber not in self.hub.monitor.chambers:
            self.fail(404, "not_found", f"unknown chamber {chamber!r}: the chambers are "
                                        f"{', '.join(self.hub.monitor.chambers)}")
            return
        if not self.within_budget():
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


class ProfilesHandler(ChamberHandler):
    """GET /api/profiles[/<name>], PUT and DELETE /api/profiles/<name>: the ``profiles`` command."""

    SUPPORTED_METHODS = ("GET", "PUT", "DELETE")

    async def get(self, name: str | None = None) -> None:
        try:
            listed = await self.command({"type": "profiles", "action": "list", "id": HTTP_ID}, "profiles")
        except ApiError as error:
            self.refuse(error)
            return
        if name is None:
            self.answer(listed)
            return
        wanted = profile_key(name)
        found = [profile for profile in listed["profiles"] if profile_key(profile["name"]) == wanted]
        if found:
            self.answer({"profile": found[0]})
        else:
            self.fail(404, "not_found", f"no saved profile is named {name!r}")

    async def put(self, name: str | None = None) -> None:
        await self._change(name, "save")

    async def delete(self, name: str | None = None) -> None:
        await self._change(name, "delete")

    async def _change(self, name: str | None, action: str) -> None:
        if name is None:
            self.fail(405, "method_not_allowed", f"name the profile: {self.request.method} /api/profiles/<name>")
            return
        if not self.within_budget():
            return
        try:
            fields = {} if action == "delete" else profile_body(bytes(self.body))
            message = {**fields, "type": "profiles", "action": action, "name": name, "id": HTTP_ID}
            self.answer(await self.command(message, "ok"))
        except ApiError as error:
            self.refuse(error)
