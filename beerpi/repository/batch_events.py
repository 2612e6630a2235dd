"""A batch change as an event of the chamber: what a Pi stores, and sends its hub, of every change.

Each change to a batch (started, edited, noted, ended, deleted, note_deleted) is also stored as
an event of kind ``batch`` whose detail holds the change, the batch as it is after it, and the
note added or deleted. Events travel to a hub with acknowledgements and are sent again until it
has them (``fleet/``), so a hub rebuilds every Pi's batches from them, whatever it missed while
it was away. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from beerpi.base.errors import ConfigError
from beerpi.batches.model import Batch, BatchNote, check_batch, check_note
from beerpi.repository.base import Event

KIND = "batch"
CHANGES = ("started", "ended", "edited", "noted", "deleted", "note_deleted")


@dataclass(frozen=True, slots=True)
class BatchChanged:
    """One change to a batch, as every listener is told of it and as it is stored."""

    change: str
    batch: Batch
    note: BatchNote | None
    event: Event

    @classmethod
    def of(cls, change: str, batch: Batch, note: BatchNote | None, ts: float) -> BatchChanged:
        detail: dict[str, Any] = {"chamber": batch.chamber, "change": change, "batch": batch.as_dict()}
        if note is not None:
            detail["note"] = note.as_dict()
        return cls(change, batch, note, Event(ts, KIND, detail))


def batch_change_of(event: Event) -> BatchChanged | None:
    """The change a ``batch`` event holds; None for another event or one whose detail does not read."""
    detail = event.detail
    if event.kind != KIND or detail.get("change") not in CHANGES:
        return None
    try:
        batch = check_batch(_batch(detail.get("batch")))
        raw = detail.get("note")
        note = None if raw is None else check_note(_note(raw))
    except (ConfigError, KeyError, TypeError, ValueError):
        return None
    if note is None and detail["change"] in ("noted", "note_deleted"):
        return None
    return BatchChanged(detail["change"], batch, note, event)


def _batch(value: Any) -> Batch:
    if not isinstance(value, Mapping):
        raise TypeError("a batch is an object")
    return Batch(value["id"], value["chamber"], value["name"], value["started"], value.get("ended"),
                 value.get("style"), value.get("notes", ""), value.get("hydrometer"), value.get("og"), value.get("fg"))


def _note(value: Any) -> BatchNote:
    if not isinstance(value, Mapping):
        raise TypeError("a note is an object")
    return BatchNote(value["id"], value["batch"], value["ts"], value.get("text", ""), value.get("gravity"))
