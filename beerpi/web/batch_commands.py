"""Carry out the batch commands (``batch`` start, end, edit, note, delete, delete_note; the ``batches`` query).

IOLoop only; every database call runs on the executor. A change is stored first (the storage
refuses a second open batch in a chamber, whoever asks), then every client gets a ``batch``
frame and the sender an ``ok`` with the batch. Each change is also stored as an event of the
chamber (``repository/batch_events.py``: what a hub rebuilds the Pi's batches from) and handed to
``hub.batch_listeners`` (the MQTT bridge, the uplink). Starting with a saved profile starts it through
the same path as a ``profile`` command, after the batch is stored. An open batch is not deleted:
the brewer ends it first (the chamber's readings are never deleted, only the batch and its notes).
On a hub the chambers' batches are their Pis': a change is relayed to the Pi (``BatchRelay``),
which carries it out and answers; the hub hears of the change as every Pi's batch changes reach
it (``fleet/``).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from tornado.ioloop import IOLoop

from beerpi.base.errors import BeerPiError, Closed, ConfigError, NotSaved
from beerpi.batches.model import Batch, BatchNote, OpenBatchConflict, new_id
from beerpi.control.profile import parse_steps
from beerpi.protocol import frames as protocol
from beerpi.protocol.incoming_batches import BatchChange, BatchesQuery, BatchStart
from beerpi.repository import Repository
from beerpi.repository.batch_events import BatchChanged
from beerpi.repository.profiles import profile_key
from beerpi.web.controller import BatchRelay, RemoteError

if TYPE_CHECKING:
    from beerpi.web.hub import Hub

log = logging.getLogger("beerpi.batches")

Reply = Callable[[str], None]
T = TypeVar("T")
CHANGES = {"start": "started", "end": "ended", "edit": "edited", "note": "noted", "delete": "deleted",
           "delete_note": "note_deleted"}


class Refused(Exception):
    """A batch command that cannot be carried out: its error code and message."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


async def carry_out_batch(hub: Hub, command: BatchStart | BatchChange | BatchesQuery, reply: Reply,
                          source: str) -> None:
    store = hub.store
    if store is None:
        reply(protocol.error_frame("unavailable", "this server has no database to keep batches in", command.id))
        return
    try:
        if isinstance(command, BatchesQuery):
            found = await _on_executor(lambda: store.list_batches(command.search))
            reply(protocol.batches_frame(found, command.id))
            return
        if isinstance(hub.monitor, BatchRelay):
            await _relay(hub, hub.monitor, store, command, reply)
            return
        action = "start" if isinstance(command, BatchStart) else command.action
        chamber = None if isinstance(command, BatchChange) and command.batch else _chamber(hub, command.chamber)
        if isinstance(command, BatchStart):
            batch, note, steps = await _on_executor(lambda: _start(store, command, chamber, time.time()))
        else:
            batch, note = await _on_executor(lambda: _change(store, command, chamber, time.time()))
            steps = None
        changed = BatchChanged.of(CHANGES[action], batch, note, time.time())
        await _on_executor(lambda: store.add_event(changed.event))
    except Refused as exc:
        reply(protocol.error_frame(exc.code, exc.message, command.id))
        return
    _remember(hub, batch)
    log.info("batch %r in %s %s (from %s)", batch.name, batch.chamber, CHANGES[action], source)
    hub.broadcast(protocol.batch_frame(CHANGES[action], batch, note))
    _tell_listeners(hub, changed)
    if steps is not None and not await _start_profile(hub, batch, steps, command, reply, source):
        return
    if command.id is not None:
        fields: dict[str, Any] = {"batch": batch.as_dict()}
        if note is not None:
            fields["note"] = note.as_dict()
        reply(protocol.ok_frame("batch", command.id, **fields))


async def _relay(hub: Hub, relay: BatchRelay, store: Repository, command: BatchStart | BatchChange,
                 reply: Reply) -> None:
    """Relay a change to the Pi that owns the chamber (a hub); the Pi's answer, or why there is none.
    Raises Refused for what the hub can tell at once (no such batch or chamber)."""
    if isinstance(command, BatchStart):
        fields = {key: value for key, value in (
            ("name", command.name), ("style", command.style), ("notes", command.notes or None),
            ("hydrometer", command.hydrometer), ("og", command.og), ("fg", command.fg),
            ("started", command.started), ("profile", command.profile)) if value is not None}
        chamber, by_id = _chamber(hub, command.chamber), False
        fields["action"] = "start"
    elif command.batch is not None:
        batch = await _on_executor(lambda: store.get_batch(command.batch or ""))
        if batch is None:
            raise Refused("not_found", f"no batch has the id {command.batch!r}")
        chamber, by_id = batch.chamber, True
        fields = {"action": command.action, "batch": batch.id, **command.fields}
    else:
        chamber, by_id = _chamber(hub, command.chamber), False
        fields = {"action": command.action, **command.fields}
    try:
        answer = await asyncio.wrap_future(relay.relay_batch(chamber, fields, with_chamber=not by_id))
    except RemoteError as exc:
        reply(protocol.error_frame(exc.code, str(exc), command.id))
        return
    except ConfigError as exc:
        reply(protocol.error_frame("invalid_value", str(exc), command.id))
        return
    if command.id is not None:
        reply(protocol.ok_frame("batch", command.id, **answer))


def _chamber(hub: Hub, chamber: str | None) -> str:
    chambers = list(hub.monitor.chambers)
    if chamber is None:
        if len(chambers) != 1:
            raise Refused("invalid_value", f"name the chamber: this server has {', '.join(chambers) or 'none'}")
        return chambers[0]
    if chamber not in hub.monitor.chambers:
        raise Refused("invalid_value", f"unknown chamber {chamber!r}: the chambers are {', '.join(chambers)}")
    return chamber


async def _on_executor(work: Callable[[], T]) -> T:
    """Run ``work`` (database calls) on the executor; its failures as ``Refused``."""
    try:
        return await IOLoop.current().run_in_executor(None, work)
    except Refused:
        raise
    except OpenBatchConflict as exc:
        raise Refused("conflict", str(exc)) from None
    except ConfigError as exc:
        raise Refused("invalid_value", str(exc)) from None
    except Closed:
        raise Refused("unavailable", "the server is shutting down") from None
    except BeerPiError as exc:
        log.warning("a batch command failed: %s", exc)
        raise Refused("unavailable", f"the batches cannot be changed or read now: {exc}") from None


def _start(store: Repository, command: BatchStart, chamber: str,
           now: float) -> tuple[Batch, None, tuple[Any, ...] | None]:
    steps = None
    if command.profile is not None:
        wanted = profile_key(command.profile)
        found = [p for p in store.list_profiles() if p.key == wanted]
        if not found:
            raise Refused("not_found", f"no saved profile is named {command.profile!r}: nothing was started")
        steps = parse_steps(found[0].steps)
    batch = Batch(new_id(), chamber, command.name, now if command.started is None else command.started,
                  style=command.style, notes=command.notes, hydrometer=command.hydrometer, og=command.og,
                  fg=command.fg)
    store.save_batch(batch)
    return store.get_batch(batch.id) or batch, None, steps


def _target(store: Repository, command: BatchChange, chamber: str | None) -> Batch:
    """The batch a change names: by id, or the open batch of the chamber."""
    if command.batch is not None:
        batch = store.get_batch(command.batch)
        if batch is None:
            raise Refused("not_found", f"no batch has the id {command.batch!r}")
        return batch
    found = [batch for batch in store.list_batches(open_only=True) if batch.chamber == chamber]
    if not found:
        raise Refused("not_found", f"the chamber {chamber!r} has no open batch: start one first")
    return found[0]


def _change(store: Repository, command: BatchChange, chamber: str | None,
            now: float) -> tuple[Batch, BatchNote | None]:
    batch = _target(store, command, chamber)
    fields = command.fields
    if command.action == "note":
        note = BatchNote(new_id(), batch.id, fields.get("ts", now), fields.get("text", ""), fields.get("gravity"))
        store.add_batch_note(note)
        return batch, note
    if command.action == "delete":
        if batch.open:
            raise Refused("invalid_value", f"the batch {batch.name!r} is open: end it before deleting it")
        store.delete_batch(batch.id)
        return batch, None
    if command.action == "delete_note":
        found = [note for note in store.notes_of(batch.id) if note.id == fields["note"]]
        if not found:
            raise Refused("not_found", f"the batch {batch.name!r} has no note with the id {fields['note']!r}")
        store.delete_batch_note(found[0].id)
        return batch, found[0]
    if command.action == "end":
        if not batch.open:
            raise Refused("invalid_value", f"the batch {batch.name!r} has ended already: edit it to change its end")
        fields = {"ended": fields.get("ended", now), **({"fg": fields["fg"]} if "fg" in fields else {})}
    batch = batch.edited(**fields)
    store.save_batch(batch)
    return store.get_batch(batch.id) or batch, None


def _tell_listeners(hub: Hub, changed: BatchChanged) -> None:
    for listener in hub.batch_listeners:
        try:
            listener(changed)
        except Exception:  # one listener failing never stops the command's answer
            log.exception("a listener of batch changes failed")


def _remember(hub: Hub, batch: Batch) -> None:
    """Keep the hello's open batches as they are now."""
    if batch.open:
        hub.open_batches[batch.chamber] = batch
    elif (kept := hub.open_batches.get(batch.chamber)) is not None and kept.id == batch.id:
        del hub.open_batches[batch.chamber]


async def _start_profile(hub: Hub, batch: Batch, steps: tuple[Any, ...], command: BatchStart | BatchChange,
                         reply: Reply, source: str) -> bool:
    """Start the batch's profile on its chamber, as a ``profile`` ``start`` would; False, with the error
    sent, if it could not be (the batch stays started)."""
    try:
        await asyncio.wrap_future(hub.monitor.submit_profile("start", batch.chamber, steps, source=source))
    except BeerPiError as exc:
        code = (exc.code if isinstance(exc, RemoteError) else "not_saved" if isinstance(exc, NotSaved)
                else "invalid_value" if isinstance(exc, ConfigError) else "unavailable")
        if code == "not_saved":  # in force: the batch and its profile run, a restart would lose the profile
            reply(protocol.error_frame(code, str(exc), command.id))
            return True
        reply(protocol.error_frame(code, f"the batch {batch.name!r} started, but its profile did not: {exc}",
                                   command.id))
        return False
    return True
