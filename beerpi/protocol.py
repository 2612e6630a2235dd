"""WebSocket protocol v1, without I/O: frames in, commands and frames out.

See docs/protocol.md. Everything here is plain data and strings so it can be tested by
feeding messages in and reading what comes out.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .chamber import ChamberInfo
from .chamber_profile import ACTIONS
from .control import ControlSettings, ControlState
from .errors import ConfigError
from .probe import Probe, Reading
from .profile import Step, parse_steps

VERSION = 1
SETTABLE = ("target", "hysteresis", "mode")
HISTORY_FIELDS = ("id", "probe", "since", "until", "points")
PROFILE_FIELDS = ("action", "chamber", "steps", "at_step", "elapsed")
MAX_ID_LENGTH = 64
MAX_POINTS = 5000
MAX_WINDOW = 10 * 365.25 * 86400  # ten years, in seconds
MAX_FRAME_BYTES = 64 * 1024  # a client frame is a few hundred bytes; larger ones close the connection


class ProtocolError(Exception):
    """A client frame that is refused; sent back as an ``error`` frame (with the request's
    ``id`` when it had a valid one)."""

    def __init__(self, code: str, message: str, request_id: str | int | float | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.request_id = request_id


@dataclass(frozen=True, slots=True)
class SetCommand:
    changes: dict[str, Any]
    chamber: str | None = None  # None: the only chamber


@dataclass(frozen=True, slots=True)
class PingCommand:
    pass


@dataclass(frozen=True, slots=True)
class HistoryCommand:
    """Buckets of one probe's readings in ``since <= ts < until``; ``probe`` is the probe id."""

    id: str | int | float
    probe: str
    since: float
    until: float
    points: int


@dataclass(frozen=True, slots=True)
class ProfileCommand:
    """Start, replace, pause, resume, skip or stop a chamber's profile (``steps`` for start and replace)."""

    action: str
    chamber: str | None = None  # None: the only chamber
    steps: tuple[Step, ...] | None = None
    at_step: int | None = None
    elapsed: float | None = None


@dataclass(frozen=True, slots=True)
class AuthCommand:
    """The control token, for a client that could not present it on the upgrade request."""

    token: str


Command = SetCommand | PingCommand | HistoryCommand | ProfileCommand | AuthCommand
# Commands that change nothing: any connection may send them. Every other command, including
# any added later, needs the token.
READ_ONLY = (PingCommand, HistoryCommand, AuthCommand)
MAX_TOKEN_LENGTH = 256


def encode(message: dict[str, Any]) -> str:
    """One JSON text frame; always valid UTF-8, whatever strings it echoes."""
    text = json.dumps(message, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    if not _is_utf8(text):
        # A lone surrogate (JSON lets a client spell "\ud800") cannot be sent as UTF-8:
        # escape it as JSON does, so the client decodes the very string it sent.
        text = json.dumps(message, separators=(",", ":"), ensure_ascii=True, allow_nan=False)
    return text


def _is_utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def reading_message(reading: Reading) -> dict[str, Any]:
    return {"type": "reading", "ts": reading.ts, "probe": reading.probe, "name": reading.name,
            "temperature": reading.temperature}


def state_message(state: ControlState) -> dict[str, Any]:
    return {"type": "state", "ts": state.ts, "heater": state.heater, "mode": state.mode,
            "target": state.target, "hysteresis": state.hysteresis, "fault": state.fault,
            "chamber": state.chamber, "cooler": state.cooler, "activity": state.activity,
            "waiting_for": state.waiting_for, "since": state.since, "cutoffs": list(state.cutoffs),
            "profile": state.profile}


def chamber_message(info: ChamberInfo, state: ControlState) -> dict[str, Any]:
    return {"id": info.id, "name": info.name, "beer_probe": info.beer_probe, "air_probe": info.air_probe,
            "outputs": list(info.outputs), "state": state_message(state)}


def event_frame(event: Reading | ControlState) -> str:
    """The text frame broadcast for a monitor event."""
    if isinstance(event, Reading):
        return encode(reading_message(event))
    return encode(state_message(event))


def hello_frame(chambers: Sequence[tuple[ChamberInfo, ControlState]], probes: Sequence[Probe],
                readings: Iterable[Reading], now: float, interval: float, simulated: bool = False) -> str:
    """``state`` and the probes' ``control`` flag speak of the first chamber, as before chambers."""
    first_info, first_state = chambers[0]
    return encode({
        "type": "hello", "version": VERSION, "ts": now, "interval": interval, "simulated": simulated,
        "state": state_message(first_state),
        "chambers": [chamber_message(info, state) for info, state in chambers],
        "probes": [{"id": p.id, "name": p.name, "control": p.id == first_info.beer_probe} for p in probes],
        "readings": [reading_message(r) for r in readings],
    })


def error_frame(code: str, message: str, request_id: str | int | float | None = None) -> str:
    frame: dict[str, Any] = {"type": "error", "code": code, "message": message}
    if request_id is not None:
        frame["id"] = request_id
    return encode(frame)


def history_frame(command: HistoryCommand, buckets: Iterable[Any]) -> str:
    """The reply to a ``history`` request; ``buckets`` have ts, min, mean, max and count."""
    return encode({
        "type": "history", "id": command.id, "probe": command.probe,
        "since": command.since, "until": command.until,
        "buckets": [{"ts": b.ts, "min": b.min, "mean": b.mean, "max": b.max, "count": b.count}
                    for b in buckets],
    })


def status_frame(ts: float, storage: Mapping[str, Any]) -> str:
    return encode({"type": "status", "ts": ts, "storage": dict(storage)})


PONG_FRAME = encode({"type": "pong"})
AUTH_OK_FRAME = encode({"type": "auth", "ok": True})


def parse(text: str | bytes, probes: Sequence[Probe] = ()) -> Command:
    """Parse one client frame; raise ProtocolError for anything that is not a valid command.

    ``probes`` are the probes a ``history`` request may name (by id or by name).
    """
    try:
        message = json.loads(text)
    except (ValueError, UnicodeDecodeError):
        raise ProtocolError("bad_json", "the frame is not valid JSON") from None
    except RecursionError:
        raise ProtocolError("bad_json", "the frame's JSON is nested too deeply") from None
    if not isinstance(message, dict):
        raise ProtocolError("bad_json", "the frame must be a JSON object")
    kind = message.get("type")
    if kind == "ping":
        return PingCommand()
    if kind == "set":
        return _parse_set(message)
    if kind == "history":
        return _parse_history(message, probes)
    if kind == "profile":
        return _parse_profile(message)
    if kind == "auth":
        token = message.get("token")
        if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_LENGTH:
            raise ProtocolError("invalid_value", "auth needs the token as a string: "
                                                 "{\"type\": \"auth\", \"token\": \"...\"}")
        return AuthCommand(token)
    raise ProtocolError("unknown_type", f"unknown message type {kind!r}: expected 'set', 'profile', "
                                        "'history', 'auth' or 'ping'")


def _parse_set(message: dict[str, Any]) -> SetCommand:
    chamber = message.get("chamber")
    if chamber is not None and not isinstance(chamber, str):
        raise ProtocolError("invalid_value", "chamber must be a chamber's id (a string) from hello")
    changes = {key: value for key, value in message.items() if key not in ("type", "chamber")}
    unknown = sorted(set(changes) - set(SETTABLE))
    if unknown:
        raise ProtocolError("unknown_field",
                            f"cannot set {unknown[0]!r}: settable fields are {', '.join(SETTABLE)}")
    if not changes:
        raise ProtocolError("invalid_value", f"set needs at least one of {', '.join(SETTABLE)}")
    try:
        ControlSettings().changed(**changes)  # validates every field against the rules
    except ConfigError as exc:
        raise ProtocolError("invalid_value", str(exc)) from None
    return SetCommand({key: float(value) if key != "mode" else value for key, value in changes.items()}, chamber)


def _is_number(value: Any) -> bool:
    """A finite JSON number that a float can hold (a 400-digit integer is not one)."""
    if not isinstance(value, int | float) or isinstance(value, bool):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:
        return False


def _parse_history(message: dict[str, Any], probes: Sequence[Probe]) -> HistoryCommand:
    request_id = message.get("id")
    if not (isinstance(request_id, str) or _is_number(request_id)):
        raise ProtocolError("invalid_value", "history needs an id: a string or a number the reply will carry")
    if isinstance(request_id, str) and not _is_utf8(request_id):
        raise ProtocolError("invalid_value", "id must be text without lone surrogates (such as \\ud800): "
                                             "the reply could not carry it")
    if len(request_id if isinstance(request_id, str) else encode(request_id)) > MAX_ID_LENGTH:
        raise ProtocolError("invalid_value", f"id must be at most {MAX_ID_LENGTH} characters long")

    def refuse(code: str, text: str) -> ProtocolError:
        return ProtocolError(code, text, request_id)

    unknown = sorted(set(message) - {"type", *HISTORY_FIELDS})
    if unknown:
        raise refuse("unknown_field", f"history has no field {unknown[0]!r}: its fields are "
                                      f"{', '.join(HISTORY_FIELDS)}")
    probe = message.get("probe")
    matches = [p for p in probes if p.id == probe] or [p for p in probes if p.name == probe]
    if not isinstance(probe, str) or not matches:
        known = ", ".join(f"{p.id} ({p.name})" for p in probes) or "none"
        raise refuse("invalid_value", f"unknown probe {probe!r}: known probes are {known}")
    since, until, points = message.get("since"), message.get("until"), message.get("points")
    for name, value in (("since", since), ("until", until)):
        if not _is_number(value):
            raise refuse("invalid_value", f"{name} must be a Unix time in seconds")
    if not since < until:
        raise refuse("invalid_value", "since must be before until")
    if until - since > MAX_WINDOW:
        raise refuse("invalid_value", "the window from since to until must be at most 10 years")
    if not _is_number(points) or points != int(points) or not 1 <= points <= MAX_POINTS:
        raise refuse("invalid_value", f"points must be a whole number from 1 to {MAX_POINTS}")
    return HistoryCommand(request_id, matches[0].id, float(since), float(until), int(points))


def _parse_profile(message: dict[str, Any]) -> ProfileCommand:
    unknown = sorted(set(message) - {"type", *PROFILE_FIELDS})
    if unknown:
        raise ProtocolError("unknown_field", f"profile has no field {unknown[0]!r}: its fields are "
                                             f"{', '.join(PROFILE_FIELDS)}")
    action, chamber = message.get("action"), message.get("chamber")
    if action not in ACTIONS:
        raise ProtocolError("invalid_value", f"action must be one of {', '.join(ACTIONS)}, not {action!r}")
    if chamber is not None and not isinstance(chamber, str):
        raise ProtocolError("invalid_value", "chamber must be a chamber's id (a string) from hello")
    steps, at_step, elapsed = message.get("steps"), message.get("at_step"), message.get("elapsed")
    if action in ("start", "replace"):
        if steps is None:
            raise ProtocolError("invalid_value", f"{action} needs steps: a list of hold and ramp steps")
        try:
            steps = parse_steps(steps)
        except ConfigError as exc:
            raise ProtocolError("invalid_value", str(exc)) from None
    elif steps is not None:
        raise ProtocolError("invalid_value", f"steps are for start and replace, not {action}")
    if action != "start" and (at_step is not None or elapsed is not None):
        raise ProtocolError("invalid_value", f"at_step and elapsed are for start, not {action}")
    if at_step is not None and elapsed is not None:
        raise ProtocolError("invalid_value", "give at_step or elapsed, not both")
    if at_step is not None and (not _is_number(at_step) or at_step != int(at_step)
                                or not 0 <= at_step < len(steps)):
        raise ProtocolError("invalid_value", f"at_step must be a step index from 0 to {len(steps) - 1}")
    if elapsed is not None and (not _is_number(elapsed) or elapsed < 0):
        raise ProtocolError("invalid_value", "elapsed must be a number of seconds, 0 or more")
    return ProfileCommand(action, chamber, steps, None if at_step is None else int(at_step),
                          None if elapsed is None else float(elapsed))
