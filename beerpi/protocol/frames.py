"""WebSocket protocol v1, without I/O: the frames the server sends (``incoming`` parses what it receives).

See docs/protocol.md. Everything here is plain data and strings so it can be tested by
feeding messages in and reading what comes out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from beerpi.batches.model import Batch, BatchNote
from beerpi.control.chamber import ChamberInfo
from beerpi.control.settings import ControlState
from beerpi.hardware.probe import Probe, Reading
from beerpi.protocol.incoming import (  # noqa: F401  (the parsing side of the protocol, re-exported)
    EVENT_KINDS,
    MAX_EVENTS,
    MAX_ID_LENGTH,
    MAX_POINTS,
    MAX_TOKEN_LENGTH,
    MAX_WINDOW,
    READ_ONLY,
    SETTABLE,
    AuthCommand,
    Command,
    EventsCommand,
    GetTempCommand,
    HistoryCommand,
    PingCommand,
    ProfileCommand,
    ProfilesChange,
    ProfilesQuery,
    ProtocolError,
    RequestId,
    SetCommand,
    parse,
)
from beerpi.protocol.wire import encode
from beerpi.repository import Event
from beerpi.repository.profiles import SavedProfile

VERSION = 1
MAX_FRAME_BYTES = 4 * 1024  # a client frame is a few hundred bytes; larger ones close the connection (1009)


def reading_message(reading: Reading) -> dict[str, Any]:
    return {"type": "reading", "ts": reading.ts, "probe": reading.probe, "name": reading.name,
            "temperature": reading.temperature}


def state_message(state: ControlState) -> dict[str, Any]:
    return {"type": "state", "ts": state.ts, "heater": state.heater, "mode": state.mode,
            "target": state.target, "hysteresis": state.hysteresis, "fault": state.fault,
            "chamber": state.chamber, "cooler": state.cooler, "activity": state.activity,
            "waiting_for": state.waiting_for, "waiting_output": state.waiting_output,
            "waiting_until": state.waiting_until, "since": state.since, "cutoffs": list(state.cutoffs),
            "profile": state.profile}


def chamber_message(info: ChamberInfo, state: ControlState, batch: Batch | None = None) -> dict[str, Any]:
    """A chamber as hello and /api/status tell it; ``batch``, its open batch, only when it has one."""
    message = {"id": info.id, "name": info.name, "beer_probe": info.beer_probe, "air_probe": info.air_probe,
               "outputs": list(info.outputs), "state": state_message(state)}
    if info.node is not None:
        message["node"] = info.node
    if batch is not None:
        message["batch"] = batch.as_dict()
    return message


def event_frame(event: Reading | ControlState) -> str:
    """The text frame broadcast for a monitor event."""
    if isinstance(event, Reading):
        return encode(reading_message(event))
    return encode(state_message(event))


def hello_frame(chambers: Sequence[tuple[ChamberInfo, ControlState]], probes: Sequence[Probe],
                readings: Iterable[Reading], now: float, interval: float, simulated: bool = False,
                profile_clock: tuple[float, float] | None = None,
                hydrometers: Sequence[Mapping[str, Any]] = (),
                nodes: Sequence[Mapping[str, Any]] | None = None,
                open_batches: Mapping[str, Batch] | None = None) -> str:
    """``state`` and the probes' ``control`` flag speak of the first chamber, as before chambers;
    ``profile_clock`` is (profile time now, its speed), so a client can place a profile in time;
    ``nodes``: a hub's Pis (``node_message``), None on a Pi. A hub that has heard of no chamber
    yet has no ``state``. ``open_batches``: each chamber's open batch, by chamber id."""
    first_info, first_state = chambers[0] if chambers else (None, None)
    profile_now, speed = profile_clock or (now, 1.0)
    message = {
        "type": "hello", "version": VERSION, "ts": now, "interval": interval, "simulated": simulated,
        "profile_clock": {"now": round(profile_now, 3), "speed": speed},
        "state": None if first_state is None else state_message(first_state),
        "chambers": [chamber_message(info, state, (open_batches or {}).get(info.id)) for info, state in chambers],
        "probes": [{"id": p.id, "name": p.name, "control": first_info is not None and p.id == first_info.beer_probe}
                   for p in probes],
        "readings": [reading_message(r) for r in readings],
        "hydrometers": [dict(hydrometer) for hydrometer in hydrometers],
    }
    if first_state is None:
        del message["state"]
    if nodes is not None:
        message["nodes"] = [dict(node) for node in nodes]
    return encode(message)


def error_frame(code: str, message: str, request_id: str | int | float | None = None) -> str:
    frame: dict[str, Any] = {"type": "error", "code": code, "message": message}
    if request_id is not None:
        frame["id"] = request_id
    return encode(frame)


def history_frame(command: HistoryCommand, buckets: Iterable[Any], width: float | None = None,
                  raw_from: float | None = None) -> str:
    """The reply to a ``history`` request; ``buckets`` have ts, min, mean, max and count.

    ``width`` is the buckets' width in seconds; ``raw_from``, when the range starts before it,
    the time before which ``--keep-raw`` deleted the raw readings (only roll-ups are left there).
    """
    message: dict[str, Any] = {
        "type": "history", "id": command.id, "probe": command.probe,
        "since": command.since, "until": command.until,
        "buckets": [{"ts": b.ts, "min": b.min, "mean": b.mean, "max": b.max, "count": b.count}
                    for b in buckets],
    }
    if width is not None:
        message["width"] = width
    if raw_from is not None and command.since < raw_from:
        message["raw_from"] = raw_from
    return encode(message)


def status_frame(ts: float, storage: Mapping[str, Any]) -> str:
    return encode({"type": "status", "ts": ts, "storage": dict(storage)})


PONG_FRAME = encode({"type": "pong"})
AUTH_OK_FRAME = encode({"type": "auth", "ok": True})


def _with_id(message: dict[str, Any], request_id: RequestId | None) -> str:
    if request_id is not None:
        message["id"] = request_id
    return encode(message)


def pong_frame(request_id: RequestId | None = None) -> str:
    return PONG_FRAME if request_id is None else _with_id({"type": "pong"}, request_id)


def auth_ok_frame(request_id: RequestId | None = None) -> str:
    return AUTH_OK_FRAME if request_id is None else _with_id({"type": "auth", "ok": True}, request_id)


def ok_frame(request: str, request_id: RequestId, **fields: Any) -> str:
    """The reply to a command that carried an ``id`` and succeeded (``set``, ``profile``, ``get_temp``)."""
    return encode({"type": "ok", "id": request_id, "request": request, **fields})


def asked_reading_frame(reading: Reading, request_id: RequestId | None) -> str:
    """A fresh reading sent to the client that asked for it with ``get_temp``."""
    return _with_id(reading_message(reading), request_id)


def events_frame(command: EventsCommand, events: Sequence[Event], truncated: bool) -> str:
    """The reply to an ``events`` request: each event's time, kind and what it says."""
    return _with_id({
        "type": "events", "since": command.since, "until": command.until, "truncated": truncated,
        "events": [event_message(event) for event in events],
    }, command.id)


def event_message(event: Event) -> dict[str, Any]:
    """A stored event as the ``events`` frame (and a batch's page) lists it."""
    return {"ts": event.ts, "kind": event.kind, **_event_fields(event)}


def _event_fields(event: Event) -> dict[str, Any]:
    """An event's detail, with its chamber first; fields named like the frame's own are kept under ``detail``."""
    detail = dict(event.detail)
    return {"chamber": detail.pop("chamber", None), "detail": detail}


def saved_profile_message(profile: SavedProfile) -> dict[str, Any]:
    return {"name": profile.name, "steps": [dict(step) for step in profile.steps], "saved": profile.saved}


def profiles_frame(profiles: Sequence[SavedProfile], request_id: RequestId | None = None) -> str:
    """The saved profiles: the reply to ``profiles`` ``list``, and, without an id, sent to every
    client after a save or a delete."""
    return _with_id({"type": "profiles", "profiles": [saved_profile_message(p) for p in profiles]}, request_id)


def batches_frame(batches: Sequence[Batch], request_id: RequestId | None = None) -> str:
    """The reply to a ``batches`` query: the batches, newest first."""
    return _with_id({"type": "batches", "batches": [batch.as_dict() for batch in batches]}, request_id)


def batch_frame(change: str, batch: Batch, note: BatchNote | None = None) -> str:
    """Sent to every client after a batch ``change`` (started, ended, edited, noted, deleted,
    note_deleted): the batch as it is now (as it was, once deleted), and the ``note`` added or deleted."""
    message: dict[str, Any] = {"type": "batch", "change": change, "batch": batch.as_dict()}
    if note is not None:
        message["note"] = note.as_dict()
    return encode(message)
