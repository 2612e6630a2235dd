"""WebSocket protocol v1, without I/O: frames in, commands and frames out.

See docs/protocol.md. Everything here is plain data and strings so it can be tested by
feeding messages in and reading what comes out.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from .control import ControlSettings, ControlState
from .errors import ConfigError
from .probe import Probe, Reading

VERSION = 1
SETTABLE = ("target", "hysteresis", "mode")


class ProtocolError(Exception):
    """A client frame that is refused; sent back as an ``error`` frame."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True, slots=True)
class SetCommand:
    changes: dict[str, Any]


@dataclass(frozen=True, slots=True)
class PingCommand:
    pass


Command = SetCommand | PingCommand


def encode(message: dict[str, Any]) -> str:
    return json.dumps(message, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def reading_message(reading: Reading) -> dict[str, Any]:
    return {"type": "reading", "ts": reading.ts, "probe": reading.probe, "name": reading.name,
            "temperature": reading.temperature}


def state_message(state: ControlState) -> dict[str, Any]:
    return {"type": "state", "ts": state.ts, "heater": state.heater, "mode": state.mode,
            "target": state.target, "hysteresis": state.hysteresis, "fault": state.fault}


def event_frame(event: Reading | ControlState) -> str:
    """The text frame broadcast for a monitor event."""
    if isinstance(event, Reading):
        return encode(reading_message(event))
    return encode(state_message(event))


def hello_frame(state: ControlState, probes: Sequence[Probe], control_probe_id: str,
                readings: Iterable[Reading], now: float, interval: float) -> str:
    return encode({
        "type": "hello", "version": VERSION, "ts": now, "interval": interval,
        "state": state_message(state),
        "probes": [{"id": p.id, "name": p.name, "control": p.id == control_probe_id} for p in probes],
        "readings": [reading_message(r) for r in readings],
    })


def error_frame(code: str, message: str) -> str:
    return encode({"type": "error", "code": code, "message": message})


PONG_FRAME = encode({"type": "pong"})


def parse(text: str | bytes) -> Command:
    """Parse one client frame; raise ProtocolError for anything that is not a valid command."""
    try:
        message = json.loads(text)
    except (ValueError, UnicodeDecodeError):
        raise ProtocolError("bad_json", "the frame is not valid JSON") from None
    if not isinstance(message, dict):
        raise ProtocolError("bad_json", "the frame must be a JSON object")
    kind = message.get("type")
    if kind == "ping":
        return PingCommand()
    if kind == "set":
        return _parse_set(message)
    raise ProtocolError("unknown_type", f"unknown message type {kind!r}: expected 'set' or 'ping'")


def _parse_set(message: dict[str, Any]) -> SetCommand:
    changes = {key: value for key, value in message.items() if key != "type"}
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
    return SetCommand({key: float(value) if key != "mode" else value for key, value in changes.items()})
