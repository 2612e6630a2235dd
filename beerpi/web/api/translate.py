"""HTTP requests as WebSocket commands and their replies as HTTP answers, without I/O.

The API validates nothing itself: query arguments and JSON bodies are turned into the text
of the WebSocket command they stand for, which goes through ``requests.parse`` and
``dispatch.carry_out`` like any frame, so both transports accept and refuse exactly the
same things with the same messages.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from beerpi.base.numbers import parse_decimal
from beerpi.base.time_parsing import parse_time

HTTP_ID = "http"  # the id every command from the API carries: its reply is then an ``ok`` or a named frame
DAY = 86400.0
DEFAULT_SPAN = DAY  # a range without since covers the day before until
DEFAULT_POINTS = 300
TIME_ARGUMENTS = ("since", "until")
NUMBER_ARGUMENTS = ("points", "limit")
LIST_ARGUMENTS = ("kinds",)
RESERVED = ("type", "id")  # set by the API; a request naming them would be another command
STATUS_FOR_CODE = {
    "bad_json": 400, "invalid_value": 400, "unknown_field": 400, "unknown_type": 400,
    "not_found": 404, "conflict": 409, "unauthorized": 401, "rate_limited": 429, "too_fast": 429, "busy": 429,
    "unavailable": 503, "internal": 500, "node_offline": 503, "node_read_only": 403, "timeout": 504,
}


class ApiError(Exception):
    """A request refused before or after it became a command: an HTTP status and an error body."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message

    def body(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message}}


def status_for(code: str) -> int:
    """The HTTP status of an ``error`` frame's code (500 for a code this table does not know)."""
    return STATUS_FOR_CODE.get(code, 500)


def number(text: str) -> int | float | str:
    """``text`` as a JSON number if it is a plain decimal; else as it is, for the parser to refuse by name."""
    try:
        value = parse_decimal(text)
    except ValueError:
        return text
    return int(value) if value.is_integer() and "." not in text and "e" not in text.lower() else value


def time_range(arguments: Mapping[str, str], now: float) -> dict[str, float]:
    """since and until as Unix seconds: durations ago (``24h``), ISO times, Unix seconds or ``now``;
    until defaults to now, since to a day before until."""
    found: dict[str, float] = {}
    for name in TIME_ARGUMENTS:
        if name in arguments:
            try:
                found[name] = parse_time(arguments[name], now)
            except (ValueError, OverflowError) as exc:
                raise ApiError(400, "invalid_value", f"{name}: {exc}") from None
    until = found.get("until", now)
    return {"since": found.get("since", until - DEFAULT_SPAN), "until": until}


def query_message(kind: str, arguments: Mapping[str, str], now: float,
                  defaults: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The command ``kind`` that a GET's query arguments stand for (the parser judges every field)."""
    reserved = sorted(set(arguments) & set(RESERVED))
    if reserved:
        raise ApiError(400, "unknown_field", f"{reserved[0]!r} is not a query argument here")
    message: dict[str, Any] = {**(defaults or {})}
    for name, text in arguments.items():
        if name in NUMBER_ARGUMENTS:
            message[name] = number(text)
        elif name in LIST_ARGUMENTS:
            message[name] = [item.strip() for item in text.split(",") if item.strip()]
        elif name not in TIME_ARGUMENTS:
            message[name] = text
    message.update(time_range(arguments, now))
    return {**message, "type": kind, "id": HTTP_ID}


def json_object(body: bytes, shape: str = "") -> dict[str, Any]:
    """A request body's JSON object (an empty body is ``{}``); ApiError ``bad_json`` for anything else.
    ``shape``: how the object looks, told when the body is not one."""
    try:
        fields = json.loads(body) if body.strip() else {}
    except (ValueError, UnicodeDecodeError):
        raise ApiError(400, "bad_json", "the body is not valid JSON") from None
    except RecursionError:
        raise ApiError(400, "bad_json", "the body's JSON is nested too deeply") from None
    if not isinstance(fields, dict):
        raise ApiError(400, "bad_json", "the body must be a JSON object" + (f": {shape}" if shape else ""))
    return fields


def body_message(kind: str, chamber: str, body: bytes) -> dict[str, Any]:
    """The command ``kind`` for ``chamber`` that a POST's JSON body stands for."""
    fields = json_object(body)
    reserved = sorted(set(fields) & {*RESERVED, "chamber"})
    if reserved:
        raise ApiError(400, "unknown_field", f"the body has no field {reserved[0]!r}: the chamber is "
                                             "named by the URL")
    return {**fields, "type": kind, "chamber": chamber, "id": HTTP_ID}


def profile_body(body: bytes) -> dict[str, Any]:
    """The fields a PUT /api/profiles/<name> body gives: ``steps``, the name coming from the URL."""
    fields = json_object(body, '{"steps": [...]}')
    unknown = sorted(set(fields) - {"steps"})
    if unknown:
        raise ApiError(400, "unknown_field", f"the body has no field {unknown[0]!r}: it gives steps, "
                                             "the name is in the URL")
    return fields


def command_text(message: Mapping[str, Any]) -> str:
    """The frame a WebSocket client would send; NaN and lone surrogates pass on for the parser to refuse."""
    return json.dumps(message)


def reply_body(frames: Sequence[str], kind: str) -> dict[str, Any]:
    """The answer to one command from the frames dispatch replied with: the ``kind`` frame
    without its type and id; raises ApiError for an ``error`` frame (not_saved is not one here)."""
    decoded = [json.loads(frame) for frame in frames]
    for frame in decoded:
        if frame.get("type") == "error":
            raise ApiError(status_for(frame["code"]), frame["code"], frame["message"])
    for frame in decoded:
        if frame.get("type") == kind:
            return {key: value for key, value in frame.items() if key not in ("type", "id")}
    raise ApiError(500, "internal", f"the server gave no {kind} reply; the fault is logged on the server")


def not_saved(frames: Sequence[str]) -> str | None:
    """The message of a ``not_saved`` error among ``frames``: the change is in force but not stored."""
    for frame in frames:
        decoded = json.loads(frame)
        if decoded.get("type") == "error" and decoded.get("code") == "not_saved":
            return decoded["message"]
    return None
