"""A batch and a note on its timeline, their ids, and the rules every stored one obeys.

A batch is a named window over a chamber's series, from ``started`` (the pitch) to ``ended``
(None while it is open): ending it copies nothing, the readings stay where they are. A chamber
has at most one open batch; the storage enforces it (``OpenBatchConflict``). Gravities are
specific gravities (1.050), entered by the brewer or read by a hydrometer.
"""

from __future__ import annotations

import secrets
import time
import unicodedata
from dataclasses import dataclass, replace
from typing import Any

from beerpi.base.errors import BeerPiError, ConfigError
from beerpi.base.numbers import is_number

MAX_NAME_LENGTH = 80  # a batch's name, and its style
MAX_NOTES_LENGTH = 2000  # the batch's free text
MAX_NOTE_LENGTH = 500  # one note on its timeline
MAX_HYDROMETER_LENGTH = 64
GRAVITY_RANGE = (0.980, 1.200)  # specific gravity: below water's (alcohol) to a very strong wort
TEXT_CONTROLS = "\n\t"  # the only control characters free text may hold


class OpenBatchConflict(BeerPiError, ValueError):
    """The chamber already has an open batch: end it before starting another."""


def new_id() -> str:
    """A unique id for a batch or a note, sorting in creation order (24 hex digits: nanoseconds, then random)."""
    return f"{time.time_ns():016x}{secrets.token_hex(4)}"


@dataclass(frozen=True, slots=True)
class Batch:
    """A brew in a chamber; ``og`` and ``fg`` are the gravities the brewer entered (None: measured)."""

    id: str
    chamber: str
    name: str
    started: float
    ended: float | None = None
    style: str | None = None
    notes: str = ""
    hydrometer: str | None = None
    og: float | None = None
    fg: float | None = None

    @property
    def open(self) -> bool:
        return self.ended is None

    def as_dict(self) -> dict[str, Any]:
        """The batch as JSON-compatible values (the protocol's, the API's and the export's)."""
        return {"id": self.id, "chamber": self.chamber, "name": self.name, "style": self.style,
                "notes": self.notes, "hydrometer": self.hydrometer, "started": self.started,
                "ended": self.ended, "og": self.og, "fg": self.fg}

    def edited(self, **changes: Any) -> Batch:
        """A copy with ``changes``, checked (ConfigError naming the first bad field)."""
        return check_batch(replace(self, **changes))


@dataclass(frozen=True, slots=True)
class BatchNote:
    """A timestamped note on a batch: text, a gravity reading (which counts as gravity), or both."""

    id: str
    batch: str
    ts: float
    text: str = ""
    gravity: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "batch": self.batch, "ts": self.ts, "text": self.text, "gravity": self.gravity}


def name_key(name: str) -> str:
    """What a name is searched by: the same for names that differ only in case."""
    return unicodedata.normalize("NFC", name).casefold()


def check_label(value: Any, what: str, limit: int = MAX_NAME_LENGTH) -> str:
    """A name or style: 1 to ``limit`` characters of text on one line, not starting or ending with a space."""
    if not isinstance(value, str):
        raise ConfigError(f"{what} must be text, not {type(value).__name__}")
    value = unicodedata.normalize("NFC", value)
    if not 1 <= len(value) <= limit or value != value.strip():
        raise ConfigError(f"{what} must be 1 to {limit} characters, not starting or ending with a space; "
                          f"got {value!r}")
    if any(unicodedata.category(c) in ("Cc", "Cs") for c in value):
        raise ConfigError(f"{what} must be on one line, without control characters")
    return value


def check_text(value: Any, what: str, limit: int) -> str:
    """Free text: at most ``limit`` characters; new lines and tabs allowed, other control characters not."""
    if not isinstance(value, str):
        raise ConfigError(f"{what} must be text, not {type(value).__name__}")
    value = unicodedata.normalize("NFC", value)
    if len(value) > limit:
        raise ConfigError(f"{what} must be at most {limit} characters, not {len(value)}")
    if any(unicodedata.category(c) in ("Cc", "Cs") and c not in TEXT_CONTROLS for c in value):
        raise ConfigError(f"{what} may hold new lines and tabs but no other control characters")
    return value


def check_gravity(value: Any, what: str) -> float:
    """A specific gravity within GRAVITY_RANGE (1.050, not 12 °P nor 1050)."""
    low, high = GRAVITY_RANGE
    if not is_number(value) or not low <= value <= high:
        raise ConfigError(f"{what} must be a specific gravity from {low:.3f} to {high:.3f} (such as 1.050), "
                          f"not {value!r}")
    return float(value)


def check_time(value: Any, what: str) -> float:
    if not is_number(value) or value < 0:
        raise ConfigError(f"{what} must be a Unix time in seconds, not {value!r}")
    return float(value)


def check_batch(batch: Batch) -> Batch:
    """``batch`` with its text normalised, or ConfigError naming the first field that breaks a rule."""
    if not isinstance(batch.id, str) or not batch.id:
        raise ConfigError("a batch needs an id")
    if not isinstance(batch.chamber, str) or not batch.chamber:
        raise ConfigError("a batch needs its chamber's id")
    started = check_time(batch.started, "started")
    ended = None if batch.ended is None else check_time(batch.ended, "ended")
    if ended is not None and ended < started:
        raise ConfigError("ended must not be before started")
    return replace(
        batch, name=check_label(batch.name, "name"), started=started, ended=ended,
        style=None if batch.style is None else check_label(batch.style, "style"),
        notes=check_text(batch.notes, "notes", MAX_NOTES_LENGTH),
        hydrometer=None if batch.hydrometer is None else check_label(batch.hydrometer, "hydrometer",
                                                                     MAX_HYDROMETER_LENGTH),
        og=None if batch.og is None else check_gravity(batch.og, "og"),
        fg=None if batch.fg is None else check_gravity(batch.fg, "fg"))


def check_note(note: BatchNote) -> BatchNote:
    """``note`` with its text normalised, or ConfigError: it needs text, a gravity, or both."""
    if not isinstance(note.id, str) or not note.id or not isinstance(note.batch, str) or not note.batch:
        raise ConfigError("a note needs an id and its batch's id")
    text = check_text(note.text, "text", MAX_NOTE_LENGTH).strip()
    gravity = None if note.gravity is None else check_gravity(note.gravity, "gravity")
    if not text and gravity is None:
        raise ConfigError("a note needs text, a gravity, or both")
    return replace(note, ts=check_time(note.ts, "ts"), text=text, gravity=gravity)


