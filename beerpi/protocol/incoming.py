"""What clients ask for: one frame in, one command (or a ``ProtocolError``) out, without I/O.

Every command may carry an ``id`` (a string or number, at most 64 characters); every reply
to it, and every error about it, carries the ``id`` back. See docs/protocol.md.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from beerpi.base.errors import ConfigError
from beerpi.control.chamber_profile import ACTIONS
from beerpi.control.profile import Step, parse_steps
from beerpi.control.settings import ControlSettings
from beerpi.hardware.probe import Probe
from beerpi.protocol.fields import ProtocolError, RequestId
from beerpi.protocol.fields import chamber_field as _chamber
from beerpi.protocol.fields import only as _only
from beerpi.protocol.incoming_batches import BATCH_PARSERS, BatchChange, BatchesQuery, BatchStart
from beerpi.protocol.wire import encode, is_number, is_utf8
from beerpi.repository.profiles import check_name

SETTABLE = ("target", "hysteresis", "mode")
HISTORY_FIELDS = ("id", "probe", "since", "until", "points")
PROFILE_FIELDS = ("id", "action", "chamber", "steps", "at_step", "elapsed")
EVENTS_FIELDS = ("id", "since", "until", "chamber", "kinds", "limit")
PROFILES_FIELDS = ("id", "action", "name", "steps")
PROFILES_ACTIONS = ("list", "save", "delete")
EVENT_KINDS = ("heater_on", "heater_off", "cooler_on", "cooler_off", "fault", "fault_cleared",
               "settings", "profile", "profile_step", "clock_jump", "readings_dropped")
MAX_ID_LENGTH = 64
MAX_POINTS = 5000
MAX_EVENTS = 10_000  # events in one reply; a longer range is asked for again from the last one
MAX_WINDOW = 10 * 365.25 * 86400  # ten years, in seconds
MAX_TOKEN_LENGTH = 256


@dataclass(frozen=True, slots=True)
class SetCommand:
    changes: dict[str, Any]
    chamber: str | None = None  # None: the only chamber
    id: RequestId | None = None


@dataclass(frozen=True, slots=True)
class PingCommand:
    id: RequestId | None = None


@dataclass(frozen=True, slots=True)
class HistoryCommand:
    """Buckets of one probe's readings in ``since <= ts < until``; ``probe`` is the probe id."""

    id: RequestId
    probe: str
    since: float
    until: float
    points: int


@dataclass(frozen=True, slots=True)
class EventsCommand:
    """Stored events in ``since <= ts < until``, of one chamber and of some kinds if given."""

    since: float
    until: float
    chamber: str | None = None
    kinds: tuple[str, ...] | None = None
    limit: int = MAX_EVENTS
    id: RequestId | None = None


@dataclass(frozen=True, slots=True)
class GetTempCommand:
    """Read every probe now and answer the asker alone with the fresh readings."""

    id: RequestId | None = None


@dataclass(frozen=True, slots=True)
class ProfileCommand:
    """Start, replace, pause, resume, skip or stop a chamber's profile (``steps`` for start and replace)."""

    action: str
    chamber: str | None = None  # None: the only chamber
    steps: tuple[Step, ...] | None = None
    at_step: int | None = None
    elapsed: float | None = None
    id: RequestId | None = None


@dataclass(frozen=True, slots=True)
class AuthCommand:
    """The control token, for a client that could not present it on the upgrade request."""

    token: str
    id: RequestId | None = None


@dataclass(frozen=True, slots=True)
class ProfilesQuery:
    """List the saved profiles (``profiles`` with action ``list``)."""

    id: RequestId | None = None


@dataclass(frozen=True, slots=True)
class ProfilesChange:
    """Save (``steps`` given) or delete a named saved profile (``profiles`` with action ``save`` or ``delete``)."""

    action: str
    name: str
    steps: tuple[Step, ...] | None = None
    id: RequestId | None = None


Command = (SetCommand | PingCommand | HistoryCommand | EventsCommand | GetTempCommand | ProfileCommand
           | AuthCommand | ProfilesQuery | ProfilesChange | BatchStart | BatchChange | BatchesQuery)
# Commands that change nothing: any connection may send them. Every other command, including
# any added later, needs the token.
READ_ONLY = (PingCommand, HistoryCommand, EventsCommand, GetTempCommand, AuthCommand, ProfilesQuery,
             BatchesQuery)


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
    request_id = _request_id(message)
    kind = message.get("type")
    parser = _PARSERS.get(kind) if isinstance(kind, str) else None
    if parser is None:
        raise ProtocolError("unknown_type", f"unknown message type {kind!r}: expected "
                                            f"{', '.join(repr(name) for name in _PARSERS)}", request_id)
    try:
        return parser(message, request_id, probes)
    except ProtocolError as exc:
        exc.request_id = request_id
        raise


def request_id_of(text: str | bytes) -> RequestId | None:
    """The ``id`` of a frame that will not be parsed further (refused unread), or None; never raises."""
    try:
        message = json.loads(text)
        return _request_id(message) if isinstance(message, dict) else None
    except (ValueError, RecursionError, ProtocolError):
        return None


def _request_id(message: dict[str, Any]) -> RequestId | None:
    """The frame's ``id``, checked so that a reply can carry it back (refused without an id)."""
    request_id = message.get("id")
    if request_id is None:
        return None
    if not (isinstance(request_id, str) or is_number(request_id)):
        raise ProtocolError("invalid_value", "id must be a string or a number the reply will carry")
    if isinstance(request_id, str) and not is_utf8(request_id):
        raise ProtocolError("invalid_value", "id must be text without lone surrogates (such as \\ud800): "
                                             "the reply could not carry it")
    if len(request_id if isinstance(request_id, str) else encode(request_id)) > MAX_ID_LENGTH:
        raise ProtocolError("invalid_value", f"id must be at most {MAX_ID_LENGTH} characters long")
    return request_id


def _parse_ping(message: dict[str, Any], request_id: RequestId | None, probes: Sequence[Probe]) -> PingCommand:
    return PingCommand(request_id)


def _parse_get_temp(message: dict[str, Any], request_id: RequestId | None,
                    probes: Sequence[Probe]) -> GetTempCommand:
    _only(message, "get_temp", ("id",))
    return GetTempCommand(request_id)


def _parse_auth(message: dict[str, Any], request_id: RequestId | None, probes: Sequence[Probe]) -> AuthCommand:
    token = message.get("token")
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_LENGTH:
        raise ProtocolError("invalid_value", "auth needs the token as a string: "
                                             "{\"type\": \"auth\", \"token\": \"...\"}")
    return AuthCommand(token, request_id)


def _parse_set(message: dict[str, Any], request_id: RequestId | None, probes: Sequence[Probe]) -> SetCommand:
    chamber = _chamber(message)
    changes = {key: value for key, value in message.items() if key not in ("type", "chamber", "id")}
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
    # + 0.0: minus zero (JSON may say -0.0) is set as 0.0
    return SetCommand({key: float(value) + 0.0 if key != "mode" else value for key, value in changes.items()},
                      chamber, request_id)


def _window(message: dict[str, Any]) -> tuple[float, float]:
    since, until = message.get("since"), message.get("until")
    for name, value in (("since", since), ("until", until)):
        if not is_number(value):
            raise ProtocolError("invalid_value", f"{name} must be a Unix time in seconds")
    if not since < until:
        raise ProtocolError("invalid_value", "since must be before until")
    if until - since > MAX_WINDOW:
        raise ProtocolError("invalid_value", "the window from since to until must be at most 10 years")
    return float(since), float(until)


def _whole(value: Any, name: str, low: int, high: int) -> int:
    if not is_number(value) or value != int(value) or not low <= value <= high:
        raise ProtocolError("invalid_value", f"{name} must be a whole number from {low} to {high}")
    return int(value)


def _parse_history(message: dict[str, Any], request_id: RequestId | None,
                   probes: Sequence[Probe]) -> HistoryCommand:
    if request_id is None:
        raise ProtocolError("invalid_value", "history needs an id: a string or a number the reply will carry")
    _only(message, "history", HISTORY_FIELDS)
    probe = message.get("probe")
    matches = [p for p in probes if p.id == probe] or [p for p in probes if p.name == probe]
    if not isinstance(probe, str) or not matches:
        known = ", ".join(f"{p.id} ({p.name})" for p in probes) or "none"
        raise ProtocolError("invalid_value", f"unknown probe {probe!r}: known probes are {known}")
    since, until = _window(message)
    points = _whole(message.get("points"), "points", 1, MAX_POINTS)
    return HistoryCommand(request_id, matches[0].id, since, until, points)


def _parse_events(message: dict[str, Any], request_id: RequestId | None,
                  probes: Sequence[Probe]) -> EventsCommand:
    _only(message, "events", EVENTS_FIELDS)
    since, until = _window(message)
    kinds = message.get("kinds")
    if kinds is not None:
        if not isinstance(kinds, list) or not kinds or not all(isinstance(kind, str) for kind in kinds):
            raise ProtocolError("invalid_value", "kinds must be a list of event kinds: "
                                                 f"{', '.join(EVENT_KINDS)}")
        unknown = sorted(set(kinds) - set(EVENT_KINDS))
        if unknown:
            raise ProtocolError("invalid_value", f"unknown event kind {unknown[0]!r}: the kinds are "
                                                 f"{', '.join(EVENT_KINDS)}")
        kinds = tuple(dict.fromkeys(kinds))
    limit = message.get("limit", MAX_EVENTS)
    return EventsCommand(since, until, _chamber(message), kinds, _whole(limit, "limit", 1, MAX_EVENTS),
                         request_id)


def _parse_profile(message: dict[str, Any], request_id: RequestId | None,
                   probes: Sequence[Probe]) -> ProfileCommand:
    _only(message, "profile", PROFILE_FIELDS)
    action, chamber = message.get("action"), _chamber(message)
    if action not in ACTIONS:
        raise ProtocolError("invalid_value", f"action must be one of {', '.join(ACTIONS)}, not {action!r}")
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
    if at_step is not None and (not is_number(at_step) or at_step != int(at_step)
                                or not 0 <= at_step < len(steps)):
        raise ProtocolError("invalid_value", f"at_step must be a step index from 0 to {len(steps) - 1}")
    if elapsed is not None and (not is_number(elapsed) or elapsed < 0):
        raise ProtocolError("invalid_value", "elapsed must be a number of seconds, 0 or more")
    return ProfileCommand(action, chamber, steps, None if at_step is None else int(at_step),
                          None if elapsed is None else float(elapsed), request_id)


def _parse_profiles(message: dict[str, Any], request_id: RequestId | None,
                    probes: Sequence[Probe]) -> ProfilesQuery | ProfilesChange:
    _only(message, "profiles", PROFILES_FIELDS)
    action = message.get("action")
    if action not in PROFILES_ACTIONS:
        raise ProtocolError("invalid_value", f"action must be one of {', '.join(PROFILES_ACTIONS)}, not {action!r}")
    name, steps = message.get("name"), message.get("steps")
    if action == "list":
        if name is not None or steps is not None:
            raise ProtocolError("invalid_value", "list takes no name or steps")
        return ProfilesQuery(request_id)
    if name is None:
        raise ProtocolError("invalid_value", f"{action} needs the profile's name")
    try:
        name = check_name(name)
    except ConfigError as exc:
        raise ProtocolError("invalid_value", str(exc)) from None
    if action == "delete":
        if steps is not None:
            raise ProtocolError("invalid_value", "steps are for save, not delete")
        return ProfilesChange(action, name, None, request_id)
    if steps is None:
        raise ProtocolError("invalid_value", "save needs steps: a list of hold and ramp steps")
    try:
        return ProfilesChange(action, name, parse_steps(steps), request_id)
    except ConfigError as exc:
        raise ProtocolError("invalid_value", str(exc)) from None


_PARSERS: dict[str, Callable[[dict[str, Any], RequestId | None, Sequence[Probe]], Command]] = {
    "set": _parse_set, "profile": _parse_profile, "history": _parse_history, "events": _parse_events,
    "get_temp": _parse_get_temp, "auth": _parse_auth, "ping": _parse_ping, "profiles": _parse_profiles,
    **BATCH_PARSERS,
}
