"""Readings and profiles as MongoDB documents, and inserting only those not stored yet (saying which)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bson.datetime_ms import DatetimeMS
from pymongo.collection import Collection
from pymongo.errors import BulkWriteError

from beerpi.hardware.probe import Reading
from beerpi.repository import rollup
from beerpi.repository.profiles import SavedProfile, check_name, profile_key

DUPLICATE_KEY = 11000


def _reading(doc: Mapping[str, Any]) -> Reading:
    return Reading(rollup.from_ms(int(doc["ts"])), doc["probe"], doc["name"], doc["temperature"],
                   doc.get("heater"))


def _reading_doc(reading: Reading) -> dict[str, Any]:
    ms = rollup.to_ms(reading.ts)
    return {"_id": f"{reading.probe}/{ms}", "probe": reading.probe, "ts": DatetimeMS(ms),
            "name": reading.name, "temperature": reading.temperature, "heater": reading.heater}


def _insert_new(collection: Collection[dict[str, Any]], docs: list[dict[str, Any]]) -> None:
    """Insert the documents whose ``_id`` is not stored yet; any other error is raised."""
    _inserted(collection, docs)


def _inserted(collection: Collection[dict[str, Any]], docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Insert the documents whose ``_id`` is not stored yet and return them (those already
    stored left out); any other error is raised."""
    try:
        collection.insert_many(docs, ordered=False)
    except BulkWriteError as exc:  # already stored ones are fine, anything else is not
        errors = exc.details.get("writeErrors", [])
        if exc.details.get("writeConcernErrors") or any(error.get("code") != DUPLICATE_KEY for error in errors):
            raise
        stored = {error["index"] for error in errors}
        return [doc for index, doc in enumerate(docs) if index not in stored]
    return docs


def _profile_doc(profile: SavedProfile) -> dict[str, Any]:
    name = check_name(profile.name)
    return {"_id": profile_key(name), "name": name, "steps": [dict(step) for step in profile.steps],
            "saved": DatetimeMS(rollup.to_ms(profile.saved))}
