"""MongoDB roll-ups: what a batch of new readings adds to every level (one bulk write a level),
and the aggregation that recomputes a probe's buckets from the level below (the repair path,
and the pieces of it the history query shares).

Why increments, and not one recomputing aggregation a level for every probe of a batch: a
hub's batch holds about one reading for each of hundreds of probes, so what it costs is the
bucket writes, six a reading, whatever the shape. Two shapes were weighed:

(a) one ``$match {probe: {$in: [...]}, ts: {$gte, $lt}}`` a level (probes grouped by equal
    ranges), grouped by probe and bucket, ``$merge``d on ``_id``. A real mongod serves the
    ``$match`` from the (probe, ts) index, one interval a probe. SecantusDB does not: an ``$in``
    with a range beside it is served by one clause alone, so either every row of each probe
    ever stored (the ``$in``) or every probe's rows in the range (the ``ts``); ``$or`` and
    ``$unionWith`` are not served by an index at all; and its ``$merge`` replaces a bucket as a
    delete plus an insert. Measured there (1 600 probes, batches of 100 readings): 5.3–6.9 ms a
    reading, against 9.2 ms with one aggregation a probe.
(b) increments: ``$min``, ``$max`` and ``$inc`` of the batch's new readings, one ``UpdateOne``
    with upsert a bucket, ``_id``-keyed, one unordered bulk write a level. Every server serves
    it by ``_id``; it reads no reading back; it counts each reading once when two hubs store
    into one database, as ``$inc`` is atomic. Measured as above: 2.4 ms a reading, insert
    included. Chosen.

Increments only stay exact if only new readings are counted (``mongo_docs._inserted``) and a
batch whose bucket writes failed is recomputed: ``mongo_journal`` keeps that promise.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from bson.datetime_ms import DatetimeMS
from pymongo import UpdateOne
from pymongo.collection import Collection

from beerpi.repository import minutes, rollup

Summary = tuple[float, float, float, int]
"""(min, max, sum, count) of the temperatures a bucket gains."""


def rollup_name(granularity: int) -> str:
    return f"rollup_{rollup.label(granularity)}"


def increments(rows: Iterable[tuple[str, int, Summary]],
               levels: Sequence[int] = rollup.LEVELS_MS) -> dict[int, dict[tuple[str, int], Summary]]:
    """What the ``(probe, ms, summary)`` rows add to each bucket of each level:
    ``{granularity: {(probe, bucket start ms): summary}}``."""
    found: dict[int, dict[tuple[str, int], Summary]] = {granularity: {} for granularity in levels}
    for probe, ms, (low, high, total, count) in rows:
        for granularity, buckets in found.items():
            key = (probe, rollup.floor_to(ms, granularity))
            if key in buckets:
                was_low, was_high, was_total, was_count = buckets[key]
                buckets[key] = (min(was_low, low), max(was_high, high), was_total + total, was_count + count)
            else:
                buckets[key] = (low, high, total, count)
    return found


def reading_row(doc: Mapping[str, Any]) -> tuple[str, int, Summary]:
    """A reading document as a row of ``increments``."""
    temperature = doc["temperature"]
    return doc["probe"], int(doc["ts"]), (temperature, temperature, temperature, 1)


def rollup_row(doc: Mapping[str, Any]) -> tuple[str, int, Summary]:
    """A roll-up document as a row of ``increments``."""
    return doc["probe"], int(doc["ts"]), (doc["t_min"], doc["t_max"], doc["t_sum"], doc["n"])


def _increment(probe: str, start: int, summary: Summary) -> UpdateOne:
    low, high, total, count = summary
    return UpdateOne({"_id": f"{probe}/{start}"},
                     {"$min": {"t_min": low}, "$max": {"t_max": high}, "$inc": {"t_sum": total, "n": count},
                      "$setOnInsert": {"probe": probe, "ts": DatetimeMS(start)}}, upsert=True)


def add_increments(rollups: Mapping[int, Collection[dict[str, Any]]], rows: Iterable[tuple[str, int, Summary]],
                   levels: Sequence[int] = rollup.LEVELS_MS) -> None:
    """Count the rows (none of them counted before) in each of ``levels``: one unordered bulk
    write a level, finest first."""
    for granularity, buckets in increments(rows, levels).items():
        if buckets:
            rollups[granularity].bulk_write(
                [_increment(probe, start, summary) for (probe, start), summary in buckets.items()], ordered=False)


def _bucket(field: str, width: int, after_epoch: bool) -> dict[str, Any]:
    """The start, in ms, of the width-aligned bucket holding the date ``field``.

    $mod keeps the sign of the dividend, so dates before 1970 need the longer form; on a
    SecantusDB server every operator costs, so the short one is used when it is exact.
    """
    ms = {"$toLong": field}
    if after_epoch:
        return {"$subtract": [ms, {"$mod": [ms, width]}]}
    return {"$subtract": [ms, {"$mod": [{"$add": [{"$mod": [ms, width]}, width]}, width]}]}


def _accumulators(raw: bool) -> dict[str, Any]:
    """min, max, sum and count of raw readings, or of roll-up rows."""
    if raw:
        return {"t_min": {"$min": "$temperature"}, "t_max": {"$max": "$temperature"},
                "t_sum": {"$sum": "$temperature"}, "n": {"$sum": 1}}
    return {"t_min": {"$min": "$t_min"}, "t_max": {"$max": "$t_max"},
            "t_sum": {"$sum": "$t_sum"}, "n": {"$sum": "$n"}}


def recompute(readings: Collection[dict[str, Any]], rollups: Mapping[int, Collection[dict[str, Any]]], probe: str,
              first: int, last: int, levels: Sequence[int]) -> None:
    """Recompute the buckets of ``levels`` (finest first) holding ``probe``'s rows from
    ``first`` to ``last`` ms, each level from the one below it (the raw readings below the
    1-minute level)."""
    # One probe per aggregation: an equality match is what every server can serve from
    # the (probe, ts) index ($in and $or are not, on some).
    for granularity in levels:
        below = rollup.LEVELS_MS.index(granularity) - 1
        source = readings if below < 0 else rollups[rollup.LEVELS_MS[below]]
        lo, hi = minutes.covering(first, last, granularity)
        source.aggregate([
            {"$match": {"probe": probe, "ts": {"$gte": DatetimeMS(lo), "$lt": DatetimeMS(hi)}}},
            {"$group": {"_id": _bucket("$ts", granularity, lo >= 0),
                        **_accumulators(raw=source is readings)}},
            {"$project": {"_id": {"$concat": [f"{probe}/", {"$toString": "$_id"}]},
                          "probe": {"$literal": probe}, "ts": {"$toDate": "$_id"},
                          "t_min": 1, "t_max": 1, "t_sum": 1, "n": 1}},
            {"$merge": {"into": rollups[granularity].name, "on": "_id",
                        "whenMatched": "replace", "whenNotMatched": "insert"}},
        ])


def recompute_kept(readings: Collection[dict[str, Any]], rollups: Mapping[int, Collection[dict[str, Any]]],
                   probe: str, first: int, last: int, raw_from: int | None) -> None:
    """Recompute every level over ``probe``'s rows from ``first`` to ``last`` ms; the minutes
    before ``raw_from`` (whose raw readings were pruned) are kept as they are."""
    low = first if raw_from is None else max(first, raw_from)
    if low <= last:
        recompute(readings, rollups, probe, low, last, rollup.LEVELS_MS[:1])
    recompute(readings, rollups, probe, first, last, rollup.LEVELS_MS[1:])
