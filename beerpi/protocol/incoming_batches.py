"""The batch commands: ``batch`` (start, end, edit, note, delete, delete_note) and the ``batches`` query, parsed without I/O.

Values are checked by the batch model's own rules (``batches.model``), so the protocol, the
HTTP API and the storage accept and refuse the same things with the same words. Which batch,
chamber or saved profile a command names is the dispatcher's to look up.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from beerpi.base.errors import ConfigError
from beerpi.batches.model import (
    MAX_HYDROMETER_LENGTH,
    MAX_NOTE_LENGTH,
    MAX_NOTES_LENGTH,
    check_gravity,
    check_label,
    check_text,
    check_time,
)
from beerpi.hardware.probe import Probe
from beerpi.protocol.fields import ProtocolError, RequestId, chamber_field, only
from beerpi.repository.profiles import check_name

BATCH_ACTIONS = ("start", "end", "edit", "note", "delete", "delete_note")
EDITABLE = ("name", "style", "notes", "hydrometer", "og", "fg", "started", "ended")
CLEARABLE = ("style", "hydrometer", "og", "fg", "ended")  # null clears them (ended: reopens the batch)
FIELDS = {
    "start": ("id", "action", "chamber", "name", "style", "notes", "hydrometer", "og", "fg", "started", "profile"),
    "end": ("id", "action", "batch", "chamber", "ended", "fg"),
    "edit": ("id", "action", "batch", *EDITABLE),
    "note": ("id", "action", "batch", "chamber", "text", "gravity", "ts"),
    "delete": ("id", "action", "batch"),
    "delete_note": ("id", "action", "batch", "note"),
}
BATCHES_FIELDS = ("id", "search")
MAX_SEARCH_LENGTH = 80


@dataclass(frozen=True, slots=True)
class BatchStart:
    """Start a batch in a chamber (None: the only one), and the saved ``profile`` of that name with it."""

    name: str
    chamber: str | None = None
    style: str | None = None
    notes: str = ""
    hydrometer: str | None = None
    og: float | None = None
    fg: float | None = None
    started: float | None = None  # None: now
    profile: str | None = None
    id: RequestId | None = None


@dataclass(frozen=True, slots=True)
class BatchChange:
    """End, edit, note or delete a batch, or delete one of its notes: the one with id ``batch``, else
    the open batch of ``chamber`` (None: of the only chamber; edit and the deletes need the id).
    ``fields`` are checked values: for end ``ended`` and ``fg``, for edit any of EDITABLE, for note
    ``text``, ``gravity`` and ``ts``, for delete_note the ``note``'s id."""

    action: str
    batch: str | None = None
    chamber: str | None = None
    fields: dict[str, Any] = field(default_factory=dict)
    id: RequestId | None = None


@dataclass(frozen=True, slots=True)
class BatchesQuery:
    """The batches, newest first; those whose name holds ``search`` (any case) if given."""

    search: str | None = None
    id: RequestId | None = None


CHECKS: dict[str, Callable[[Any], Any]] = {
    "name": lambda value: check_label(value, "name"),
    "style": lambda value: check_label(value, "style"),
    "notes": lambda value: check_text(value, "notes", MAX_NOTES_LENGTH),
    "hydrometer": lambda value: check_label(value, "hydrometer", MAX_HYDROMETER_LENGTH),
    "og": lambda value: check_gravity(value, "og"),
    "fg": lambda value: check_gravity(value, "fg"),
    "gravity": lambda value: check_gravity(value, "gravity"),
    "started": lambda value: check_time(value, "started"),
    "ended": lambda value: check_time(value, "ended"),
    "ts": lambda value: check_time(value, "ts"),
    "text": lambda value: check_text(value, "text", MAX_NOTE_LENGTH).strip(),
}


def _checked(message: dict[str, Any], names: Sequence[str], clearable: Sequence[str] = ()) -> dict[str, Any]:
    """The fields of ``names`` the message gives, each checked; null only for those in ``clearable``."""
    found: dict[str, Any] = {}
    for name in names:
        if name not in message:
            continue
        value = message[name]
        try:
            found[name] = None if value is None and name in clearable else CHECKS[name](value)
        except ConfigError as exc:
            raise ProtocolError("invalid_value", str(exc)) from None
    return found


def _batch_id(message: dict[str, Any], key: str = "batch") -> str | None:
    """A batch's (or with ``key`` "note", a note's) id, if the message gives one."""
    value = message.get(key)
    if value is not None and (not isinstance(value, str) or not value or len(value) > 64):
        raise ProtocolError("invalid_value", f"{key} must be a {key}'s id (a string) from batches or a batch frame")
    return value


def _parse_batch(message: dict[str, Any], request_id: RequestId | None,
                 probes: Sequence[Probe]) -> BatchStart | BatchChange:
    action = message.get("action")
    if action not in BATCH_ACTIONS:
        raise ProtocolError("invalid_value", f"action must be one of {', '.join(BATCH_ACTIONS)}, not {action!r}")
    only(message, f"batch {action}", FIELDS[action])
    if action == "start":
        if "name" not in message:
            raise ProtocolError("invalid_value", "start needs the batch's name")
        values = _checked(message, ("name", "style", "notes", "hydrometer", "og", "fg", "started"))
        profile = message.get("profile")
        if profile is not None:
            try:
                profile = check_name(profile)
            except ConfigError as exc:
                raise ProtocolError("invalid_value", f"profile: {exc}") from None
        return BatchStart(chamber=chamber_field(message), profile=profile, id=request_id, **values)
    batch, chamber = _batch_id(message), chamber_field(message)
    if batch is not None and chamber is not None:
        raise ProtocolError("invalid_value", "name the batch or the chamber whose open batch it is, not both")
    if action in ("edit", "delete", "delete_note") and batch is None:
        raise ProtocolError("invalid_value", f"{action} needs the batch's id")
    if action == "delete":
        fields = {}
    elif action == "delete_note":
        note = _batch_id(message, "note")
        if note is None:
            raise ProtocolError("invalid_value", "delete_note needs the note's id")
        fields = {"note": note}
    elif action == "edit":
        fields = _checked(message, EDITABLE, CLEARABLE)
        if not fields:
            raise ProtocolError("invalid_value", f"edit needs at least one of {', '.join(EDITABLE)}")
    elif action == "end":
        fields = _checked(message, ("ended", "fg"))
    else:
        fields = _checked(message, ("text", "gravity", "ts"))
        if not fields.get("text") and fields.get("gravity") is None:
            raise ProtocolError("invalid_value", "a note needs text, a gravity, or both")
    return BatchChange(action, batch, chamber, fields, request_id)


def _parse_batches(message: dict[str, Any], request_id: RequestId | None, probes: Sequence[Probe]) -> BatchesQuery:
    only(message, "batches", BATCHES_FIELDS)
    search = message.get("search")
    if search is not None and (not isinstance(search, str) or len(search) > MAX_SEARCH_LENGTH):
        raise ProtocolError("invalid_value", f"search must be text of at most {MAX_SEARCH_LENGTH} characters: "
                                             "a part of the batches' names")
    return BatchesQuery(search.strip() or None if search is not None else None, request_id)


BATCH_PARSERS: dict[str, Callable[[dict[str, Any], RequestId | None, Sequence[Probe]], Any]] = {
    "batch": _parse_batch, "batches": _parse_batches,
}
