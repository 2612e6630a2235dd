"""Batches and their notes in MongoDB: the collections, their indexes, each call of the contract's batch part.

``batches`` (``_id`` is the batch id) and ``batch_notes`` (``_id`` is the note id). At most one
open batch per chamber is a unique index on ``chamber`` over the documents whose ``open`` is
true (a partial index: an equality on a value, which every MongoDB since 3.2 and SecantusDB
accept, where an equality on null is not accepted by all). One document is written atomically,
so a save that would open a second batch in a chamber fails whole with a duplicate key, from
whatever process, and raises ``OpenBatchConflict``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from bson.datetime_ms import DatetimeMS
from pymongo import ASCENDING, DESCENDING
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

from beerpi.batches.model import Batch, BatchNote, OpenBatchConflict, check_batch, check_note, name_key
from beerpi.repository import rollup

OPEN_INDEX = "open_chamber"


def create_indexes(db: Database[dict[str, Any]]) -> None:
    db["batches"].create_index([("chamber", ASCENDING)], name=OPEN_INDEX, unique=True,
                               partialFilterExpression={"open": True})
    db["batches"].create_index([("started", DESCENDING), ("_id", DESCENDING)], name="started_id")
    db["batch_notes"].create_index([("batch", ASCENDING), ("ts", ASCENDING), ("_id", ASCENDING)], name="batch_ts")


def _date(ts: float | None) -> DatetimeMS | None:
    return None if ts is None else DatetimeMS(rollup.to_ms(ts))


def _seconds(value: Any) -> float | None:
    return None if value is None else rollup.from_ms(int(value))


def save_batch(db: Database[dict[str, Any]], batch: Batch) -> None:
    batch = check_batch(batch)
    doc = {"_id": batch.id, "chamber": batch.chamber, "name": batch.name, "key": name_key(batch.name),
           "style": batch.style, "notes": batch.notes, "hydrometer": batch.hydrometer,
           "started": _date(batch.started), "ended": _date(batch.ended), "open": batch.ended is None,
           "og": batch.og, "fg": batch.fg}
    try:
        db["batches"].replace_one({"_id": batch.id}, doc, upsert=True)
    except DuplicateKeyError as exc:
        if OPEN_INDEX not in str(exc) and "chamber" not in str(exc):
            raise
        raise OpenBatchConflict(f"the chamber {batch.chamber!r} already has an open batch: end it first") from None


def _batch(doc: Mapping[str, Any]) -> Batch:
    return Batch(doc["_id"], doc["chamber"], doc["name"], rollup.from_ms(int(doc["started"])),
                 _seconds(doc.get("ended")), doc.get("style"), doc.get("notes", ""), doc.get("hydrometer"),
                 doc.get("og"), doc.get("fg"))


def get_batch(db: Database[dict[str, Any]], batch_id: str) -> Batch | None:
    doc = db["batches"].find_one({"_id": batch_id})
    return None if doc is None else _batch(doc)


def list_batches(db: Database[dict[str, Any]], name: str | None, open_only: bool) -> list[Batch]:
    query: dict[str, Any] = {}
    if name:
        query["key"] = {"$regex": re.escape(name_key(name))}
    if open_only:
        query["open"] = True
    return [_batch(doc) for doc in db["batches"].find(query).sort([("started", DESCENDING), ("_id", DESCENDING)])]


def add_note(db: Database[dict[str, Any]], note: BatchNote) -> None:
    note = check_note(note)
    try:
        db["batch_notes"].insert_one({"_id": note.id, "batch": note.batch, "ts": _date(note.ts),
                                      "text": note.text, "gravity": note.gravity})
    except DuplicateKeyError:
        pass  # stored before: a replay


def notes_of(db: Database[dict[str, Any]], batch_id: str) -> list[BatchNote]:
    docs = db["batch_notes"].find({"batch": batch_id}).sort([("ts", ASCENDING), ("_id", ASCENDING)])
    return [BatchNote(doc["_id"], doc["batch"], rollup.from_ms(int(doc["ts"])), doc["text"], doc.get("gravity"))
            for doc in docs]


def delete_batch(db: Database[dict[str, Any]], batch_id: str) -> bool:
    """Delete the batch, then its notes (a failure between leaves notes of no batch, which nothing lists,
    and deleting again removes them)."""
    found = db["batches"].delete_one({"_id": batch_id}).deleted_count > 0
    db["batch_notes"].delete_many({"batch": batch_id})
    return found


def delete_note(db: Database[dict[str, Any]], note_id: str) -> bool:
    return db["batch_notes"].delete_one({"_id": note_id}).deleted_count > 0
