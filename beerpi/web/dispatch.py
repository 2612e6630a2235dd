"""Carry out a client's command: the one code path behind the WebSocket and the HTTP API.

IOLoop only. A command arrives parsed (``requests.parse``) with whether its sender holds
the control token; the answer goes out through ``reply``, one text frame at a time, and
always carries the command's ``id``. Changes run on the monitor thread, database queries
on the IOLoop's executor: nothing here blocks the loop.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from typing import TYPE_CHECKING

from tornado.ioloop import IOLoop

from beerpi.base.errors import BeerPiError, Closed, ConfigError, NotSaved
from beerpi.protocol import frames as protocol
from beerpi.protocol.access import UNAUTHORIZED
from beerpi.protocol.incoming import (
    READ_ONLY,
    AuthCommand,
    Command,
    EventsCommand,
    GetTempCommand,
    HistoryCommand,
    PingCommand,
    ProfileCommand,
    ProfilesChange,
    ProfilesQuery,
    RequestId,
    SetCommand,
)
from beerpi.protocol.incoming_batches import BatchChange, BatchesQuery, BatchStart
from beerpi.repository import Event, rollup
from beerpi.repository.profiles import SavedProfile
from beerpi.web.batch_commands import carry_out_batch
from beerpi.web.controller import RemoteError
from beerpi.web.read_lanes import Busy

if TYPE_CHECKING:
    from beerpi.web.hub import Hub

log = logging.getLogger("beerpi.dispatch")  # the log name users filter on (README, Layout)

Reply = Callable[[str], None]
QUERIES = (HistoryCommand, EventsCommand, GetTempCommand)  # answered later; a client may run a few at once
INTERNAL_ERROR = "the server failed to handle this request; the fault is logged on the server"


async def carry_out(hub: Hub, command: Command, reply: Reply, authorised: bool, address: str = "",
                    source: str = "client") -> None:
    """Answer ``command`` of a client at ``address`` through ``reply``; a change without the token is
    refused with ``unauthorized``. ``source`` names the transport in the events a change stores."""
    request_id = getattr(command, "id", None)
    if not isinstance(command, READ_ONLY) and not authorised:
        reply(protocol.error_frame("unauthorized", UNAUTHORIZED, request_id))
    elif isinstance(command, PingCommand):
        reply(protocol.pong_frame(command.id))
    elif isinstance(command, SetCommand):
        await _change(hub.monitor.submit_settings, "settings", command.id, reply, "set",
                      command.changes, source, chamber_id=command.chamber)
    elif isinstance(command, ProfileCommand):
        await _change(hub.monitor.submit_profile, f"the profile ({command.action})", command.id, reply,
                      "profile", command.action, command.chamber, command.steps, command.at_step,
                      command.elapsed, source)
    elif isinstance(command, HistoryCommand):
        await _history(hub, command, reply, address)
    elif isinstance(command, EventsCommand):
        await _events(hub, command, reply)
    elif isinstance(command, GetTempCommand):
        await _get_temp(hub, command, reply)
    elif isinstance(command, ProfilesQuery):
        await _list_profiles(hub, command, reply)
    elif isinstance(command, ProfilesChange):
        await _change_profiles(hub, command, reply)
    elif isinstance(command, BatchStart | BatchChange | BatchesQuery):
        await carry_out_batch(hub, command, reply, source)
    elif isinstance(command, AuthCommand):  # a WebSocket connection's own business (server.py)
        reply(protocol.error_frame("invalid_value", "auth is for a WebSocket connection: present the token "
                                                    "with the request (Authorization: Bearer)", command.id))
    else:
        raise TypeError(f"no handler for {command!r}")


async def _change(submit: Callable[..., Future], what: str, request_id: RequestId | None, reply: Reply,
                  request: str, *args: object, **kwargs: object) -> None:
    """Run a change on the monitor thread; every client gets the new ``state``, the sender an ``ok``."""
    try:
        state = await asyncio.wrap_future(submit(*args, **kwargs))
    except NotSaved as exc:  # in force (the state frame went out), but lost at a restart
        reply(protocol.error_frame("not_saved", str(exc), request_id))
    except RemoteError as exc:  # a hub's Pi answered with an error, or did not answer
        reply(protocol.error_frame(exc.code, str(exc), request_id))
    except ConfigError as exc:
        reply(protocol.error_frame("invalid_value", str(exc), request_id))
    except Closed:
        reply(protocol.error_frame("unavailable", "the controller is shutting down", request_id))
    except BeerPiError as exc:
        log.error("could not change %s: %s", what, exc)
        reply(protocol.error_frame("unavailable", f"could not change {what}: {exc}", request_id))
    else:
        if request_id is not None:
            reply(protocol.ok_frame(request, request_id, chamber=state.chamber,
                                    state=protocol.state_message(state)))


async def _query(hub: Hub, command: HistoryCommand | EventsCommand | ProfilesQuery, reply: Reply, what: str,
                 query: Callable[[], object], lane: asyncio.Semaphore) -> object | None:
    """Run a database query on the executor (a few at a time, in its lane); None, with the error sent,
    if it failed."""
    if hub.store is None:
        reply(protocol.error_frame("unavailable", f"this server keeps no {what}", command.id))
        return None
    try:
        async with lane:
            return await IOLoop.current().run_in_executor(None, query)
    except Closed:
        reply(protocol.error_frame("unavailable", "the server is shutting down", command.id))
    except BeerPiError as exc:
        log.warning("%s request %r failed: %s", what, command, exc)
        reply(protocol.error_frame("unavailable", f"the {what} cannot be read now: {exc}", command.id))
    except Exception:
        log.exception("%s request %r failed", what, command)
        reply(protocol.error_frame("unavailable", f"the {what} cannot be read now", command.id))
    return None


async def _history(hub: Hub, command: HistoryCommand, reply: Reply, address: str) -> None:
    store = hub.store
    reads = hub.reads

    def read() -> tuple[float | None, list]:
        return store.raw_kept_from(), store.history(command.probe, command.since, command.until, command.points)

    if not reads.is_bulk(command.points):
        answer = await _query(hub, command, reply, "history", read, reads.live)
    else:
        try:
            with reads.bulk_read(address):
                answer = await _query(hub, command, reply, "history", read, reads.bulk)
        except Busy as exc:
            reply(protocol.error_frame("busy", str(exc), command.id))
            return
    if answer is not None:
        raw_from, buckets = answer
        # On the executor too: the frame of thousands of buckets is not built on the IOLoop
        reply(await IOLoop.current().run_in_executor(None, protocol.history_frame, command, buckets,
                                                     history_width(command, raw_from), raw_from))


def history_width(command: HistoryCommand, raw_from: float | None) -> float:
    """The width, in seconds, of the buckets the store answers ``command`` with."""
    _, _, width = rollup.history_range(rollup.bound_ms(command.since), rollup.bound_ms(command.until),
                                       command.points, None if raw_from is None else rollup.to_ms(raw_from))
    return width / 1000


async def _events(hub: Hub, command: EventsCommand, reply: Reply) -> None:
    if command.chamber is not None and command.chamber not in hub.monitor.chambers:
        reply(protocol.error_frame("invalid_value", f"unknown chamber {command.chamber!r}: the chambers are "
                                                    f"{', '.join(hub.monitor.chambers)}", command.id))
        return
    store = hub.store
    found = await _query(hub, command, reply, "events", lambda: matching_events(
        store.events_between(command.since, command.until), command), hub.reads.live)
    if found is not None:
        events, truncated = found
        reply(protocol.events_frame(command, events, truncated))


def matching_events(events: Sequence[Event], command: EventsCommand) -> tuple[list[Event], bool]:
    """The events of the command's chamber (and those of no chamber: the clock, storage) and kinds,
    at most ``limit`` of them; and whether more were left out."""
    found = [event for event in events
             if (command.kinds is None or event.kind in command.kinds)
             and (command.chamber is None or event.detail.get("chamber") in (None, command.chamber))]
    return found[:command.limit], len(found) > command.limit


async def _get_temp(hub: Hub, command: GetTempCommand, reply: Reply) -> None:
    try:
        readings = await asyncio.wrap_future(hub.monitor.sample_now())
    except Closed:
        reply(protocol.error_frame("unavailable", "the controller is shutting down", command.id))
        return
    for reading in readings:
        reply(protocol.asked_reading_frame(reading, command.id))
    if command.id is not None:
        read = {reading.probe for reading in readings}
        reply(protocol.ok_frame("get_temp", command.id,
                                missing=[probe.id for probe in hub.monitor.probes if probe.id not in read]))


async def _list_profiles(hub: Hub, command: ProfilesQuery, reply: Reply) -> None:
    store = hub.store
    found = await _query(hub, command, reply, "saved profiles", lambda: store.list_profiles(), hub.reads.live)
    if found is not None:
        reply(protocol.profiles_frame(found, command.id))


async def _change_profiles(hub: Hub, command: ProfilesChange, reply: Reply) -> None:
    """Save or delete on the executor; every client then gets the new list, the sender an ``ok``."""
    store = hub.store
    if store is None:
        reply(protocol.error_frame("unavailable", "this server has no database to keep profiles in", command.id))
        return
    profile = None if command.steps is None else SavedProfile(
        command.name, tuple(step.as_dict() for step in command.steps), round(time.time(), 3))

    def change() -> tuple[bool, list[SavedProfile]]:
        if profile is None:
            done = store.delete_profile(command.name)
        else:
            store.save_profile(profile)
            done = True
        return done, store.list_profiles()

    try:
        done, profiles = await IOLoop.current().run_in_executor(None, change)
    except Closed:
        reply(protocol.error_frame("unavailable", "the server is shutting down", command.id))
        return
    except ConfigError as exc:
        reply(protocol.error_frame("invalid_value", str(exc), command.id))
        return
    except BeerPiError as exc:
        log.warning("could not %s the profile %r: %s", command.action, command.name, exc)
        reply(protocol.error_frame("unavailable", f"could not {command.action} the profile {command.name!r} "
                                                  f"now: {exc}", command.id))
        return
    if not done:
        reply(protocol.error_frame("not_found", f"no saved profile is named {command.name!r}", command.id))
        return
    log.info("profile %r %s", command.name, "saved" if profile else "deleted")
    hub.broadcast(protocol.profiles_frame(profiles))
    if command.id is not None:
        detail = {"profile": protocol.saved_profile_message(profile)} if profile else {"deleted": command.name}
        reply(protocol.ok_frame("profiles", command.id, **detail))
